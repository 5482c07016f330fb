//! Drift from the baseline (OTP-B001…B011): services, metrics, span operations and log events
//! that went missing, and metrics whose type, unit, temporality, label keys or buckets
//! changed, with "renamed?" suggestions.

use std::collections::BTreeSet;

use super::super::consistency::format_bounds;
use super::super::finding::{Findings, Subject};
use super::super::model::{MetricTelemetry, ServiceTelemetry, Telemetry, same_bounds};
use super::super::rules::RuleId;
use super::rename::pair_renames;
use super::{Baseline, MetricBaseline, ServiceBaseline};

/// Compares `telemetry` with `baseline`.
pub fn check(telemetry: &Telemetry, baseline: &Baseline, findings: &mut Findings<'_>) {
    for (service, promised) in &baseline.services {
        match telemetry.services.get(service) {
            None => findings.push(
                RuleId::BaselineServiceMissing,
                service,
                Subject::service(service),
                format!("service `{service}` is in the baseline but sent no telemetry"),
                "check that the service still exports with this service.name and service.namespace",
            ),
            Some(current) => check_service(service, promised, current, findings),
        }
    }
}

fn check_service(
    service: &str,
    promised: &ServiceBaseline,
    current: &ServiceTelemetry,
    findings: &mut Findings<'_>,
) {
    let removed: Vec<&str> = promised
        .metrics
        .keys()
        .filter(|name| !current.metrics.contains_key(*name))
        .map(String::as_str)
        .collect();
    let added: Vec<&str> = current
        .metrics
        .keys()
        .filter(|name| !promised.metrics.contains_key(*name))
        .map(String::as_str)
        .collect();
    let renames = pair_renames(&removed, &added);
    for name in &removed {
        let (message, hint) = match renames.get(name) {
            Some(new) => (
                format!("metric `{name}` is gone; renamed to `{new}`?"),
                format!(
                    "keep emitting `{name}` (or both names while dashboards move to `{new}`), or update the baseline"
                ),
            ),
            None => (
                format!("metric `{name}` is in the baseline but was not emitted"),
                format!("keep emitting `{name}`, or update the baseline with --write-baseline"),
            ),
        };
        findings.push(
            RuleId::BaselineMetricRemoved,
            service,
            Subject::metric(name),
            message,
            hint,
        );
    }
    for name in &added {
        let renamed_from = renames
            .iter()
            .find(|(_, new)| *new == name)
            .map(|(old, _)| *old);
        let message = match renamed_from {
            Some(old) => format!("metric `{name}` is not in the baseline (renamed from `{old}`?)"),
            None => format!("metric `{name}` is not in the baseline"),
        };
        findings.push(
            RuleId::BaselineMetricAdded,
            service,
            Subject::metric(name),
            message,
            "record it with --write-baseline",
        );
    }
    for (name, promise) in &promised.metrics {
        if let Some(metric) = current.metrics.get(name) {
            check_metric(service, name, promise, metric, findings);
        }
    }
    check_spans(service, promised, current, findings);
    for event in &promised.log_events {
        if !current.log_event_names.contains(event) {
            findings.push(
                RuleId::BaselineLogEventMissing,
                service,
                Subject::log_event(event),
                format!("log event `{event}` is in the baseline but was not emitted"),
                format!(
                    "keep emitting log records with event.name `{event}`, or update the baseline"
                ),
            );
        }
    }
}

fn describe_type(kind: &str, monotonic: Option<bool>) -> String {
    match (kind, monotonic) {
        ("sum", Some(true)) => "`sum` (monotonic)".into(),
        ("sum", Some(false)) => "`sum` (non-monotonic)".into(),
        (kind, _) => format!("`{kind}`"),
    }
}

fn quoted(values: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let parts: Vec<String> = values
        .into_iter()
        .map(|v| format!("`{}`", v.as_ref()))
        .collect();
    parts.join(", ")
}

fn check_metric(
    service: &str,
    name: &str,
    promise: &MetricBaseline,
    metric: &MetricTelemetry,
    findings: &mut Findings<'_>,
) {
    let subject = || Subject::metric(name);
    let now = MetricBaseline::of(metric);
    let type_changed = now.kind != promise.kind
        || (promise.monotonic.is_some()
            && now.monotonic.is_some()
            && promise.monotonic != now.monotonic);
    if type_changed {
        findings.push(
            RuleId::BaselineTypeChanged,
            service,
            subject(),
            format!(
                "`{name}` changed type from {} to {}",
                describe_type(&promise.kind, promise.monotonic),
                describe_type(&now.kind, now.monotonic)
            ),
            format!(
                "record `{name}` as {} again, or give the new instrument a new name",
                describe_type(&promise.kind, promise.monotonic)
            ),
        );
    }
    // No unit counted at all is no evidence of a change (as for temporality).
    let units: Vec<&str> = metric.units.keys().map(String::as_str).collect();
    if units != [promise.unit.as_str()] && !units.is_empty() {
        findings.push(
            RuleId::BaselineUnitChanged,
            service,
            subject(),
            format!(
                "`{name}` changed unit from `{}` to {}",
                promise.unit,
                quoted(&units)
            ),
            format!(
                "record `{name}` in `{}` again, or give the new unit a new metric name",
                promise.unit
            ),
        );
    }
    if let Some(temporality) = &promise.temporality {
        let now: Vec<&str> = metric.temporalities.keys().map(String::as_str).collect();
        if now != [temporality.as_str()] && !now.is_empty() {
            findings.push(
                RuleId::BaselineTemporalityChanged,
                service,
                subject(),
                format!(
                    "`{name}` changed temporality from `{temporality}` to {}",
                    quoted(&now)
                ),
                format!("export `{name}` with {temporality} temporality again"),
            );
        }
    }
    let promised_labels: BTreeSet<&str> = promise.labels.iter().map(String::as_str).collect();
    let labels: BTreeSet<&str> = metric.attribute_keys.keys().map(String::as_str).collect();
    for key in promised_labels.difference(&labels) {
        findings.push(
            RuleId::BaselineLabelRemoved,
            service,
            subject(),
            format!("`{name}` lost label `{key}`"),
            format!("keep recording `{key}` on `{name}`, or update the baseline"),
        );
    }
    for key in labels.difference(&promised_labels) {
        findings.push(
            RuleId::BaselineLabelAdded,
            service,
            subject(),
            format!("`{name}` gained label `{key}`"),
            format!("check the cardinality of `{key}`, then update the baseline"),
        );
    }
    if let Some(buckets) = &promise.buckets {
        let layouts = &metric.bucket_layouts;
        let unchanged = layouts.len() == 1 && same_bounds(&layouts[0].0, buckets);
        if !unchanged && !layouts.is_empty() {
            let now: Vec<String> = layouts.iter().map(|(b, _)| format_bounds(b)).collect();
            findings.push(
                RuleId::BaselineBucketsChanged,
                service,
                subject(),
                format!(
                    "`{name}` changed buckets from {} to {}",
                    format_bounds(buckets),
                    now.join(" and ")
                ),
                format!(
                    "configure the buckets {} again (e.g. with a View)",
                    format_bounds(buckets)
                ),
            );
        }
    }
}

fn check_spans(
    service: &str,
    promised: &ServiceBaseline,
    current: &ServiceTelemetry,
    findings: &mut Findings<'_>,
) {
    let current_ops: BTreeSet<(&str, &str)> = current
        .span_operations
        .keys()
        .map(|op| (op.name.as_str(), op.kind.as_str()))
        .collect();
    let promised_ops: BTreeSet<(&str, &str)> = promised
        .span_operations
        .iter()
        .map(|op| (op.name.as_str(), op.kind.as_str()))
        .collect();
    let missing: Vec<(&str, &str)> = promised_ops.difference(&current_ops).copied().collect();
    let new: Vec<(&str, &str)> = current_ops.difference(&promised_ops).copied().collect();
    for (name, kind) in missing {
        let removed = [name];
        let added: Vec<&str> = new
            .iter()
            .filter(|(_, k)| *k == kind)
            .map(|(n, _)| *n)
            .collect();
        let renamed = pair_renames(&removed, &added).get(name).copied();
        let message = match renamed {
            Some(new_name) => {
                format!("span operation `{name}` ({kind}) is gone; renamed to `{new_name}`?")
            }
            None => format!(
                "span operation `{name}` ({kind}) is in the baseline but no such span was seen"
            ),
        };
        findings.push(
            RuleId::BaselineSpanOperationMissing,
            service,
            Subject::span_operation(name, kind),
            message,
            format!("keep the span name `{name}` and kind {kind}, or update the baseline"),
        );
    }
}

#[cfg(test)]
mod tests {
    use otel_parity_proto::v1::SpanKind;

    use super::super::super::config::LintConfig;
    use super::super::super::finding::Finding;
    use super::super::super::testing::{
        MetricBuilder, ServiceBuilder, gauge, histogram, service, sum, telemetry,
    };
    use super::*;

    const BOUNDS: &[f64] = &[0.005, 0.01, 0.1, 1.0];

    fn checkout() -> ServiceBuilder {
        service("shop/checkout")
            .metric(
                "http.server.request.duration",
                histogram("s", BOUNDS)
                    .attr("http.route", 2.0)
                    .attr("http.request.method", 1.0),
            )
            .metric(
                "app.orders.placed",
                sum("{order}", true).attr("app.currency", 2.0),
            )
            .metric("app.queue.depth", gauge("{job}"))
            .span("POST /checkout", SpanKind::Server, &[])
            .span("prepare order", SpanKind::Internal, &[])
            .log_event("order.placed")
    }

    fn baseline() -> Baseline {
        Baseline::from_telemetry(&telemetry(vec![
            checkout(),
            service("shop/payment").metric("app.charges", sum("{charge}", true)),
        ]))
    }

    fn drift(services: Vec<ServiceBuilder>) -> Vec<Finding> {
        let config = LintConfig::default();
        let mut findings = Findings::new(&config);
        check(&telemetry(services), &baseline(), &mut findings);
        findings.into_sorted()
    }

    fn only(found: &[Finding], rule: RuleId) -> Vec<&Finding> {
        found.iter().filter(|f| f.rule == rule).collect()
    }

    fn payment() -> ServiceBuilder {
        service("shop/payment").metric("app.charges", sum("{charge}", true))
    }

    #[test]
    fn an_identical_capture_is_clean() {
        assert_eq!(drift(vec![checkout(), payment()]), vec![]);
    }

    #[test]
    fn a_metric_without_a_counted_unit_keeps_the_baseline_written_from_it() {
        // Found by the fuzz smoke (`lint`): a snapshot metric with no unit counted
        // made `--write-baseline` promise the unit `` and the next run report that
        // the unit changed from `` to nothing.
        let mut capture = telemetry(vec![checkout()]);
        let metric = capture
            .services
            .get_mut("shop/checkout")
            .and_then(|service| service.metrics.get_mut("app.queue.depth"))
            .expect("the gauge");
        metric.units.clear();
        let written = Baseline::from_telemetry(&capture);
        assert_eq!(
            written.services["shop/checkout"].metrics["app.queue.depth"].unit,
            ""
        );
        let config = LintConfig::default();
        let mut findings = Findings::new(&config);
        check(&capture, &written, &mut findings);
        assert_eq!(findings.into_sorted(), vec![]);
        // A unit counted again is compared as before.
        assert_eq!(
            only(
                &drift(vec![checkout_with("app.queue.depth", gauge("By"))]),
                RuleId::BaselineUnitChanged
            )
            .len(),
            1
        );
    }

    #[test]
    fn a_missing_service_is_one_finding() {
        let found = drift(vec![checkout()]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, RuleId::BaselineServiceMissing);
        assert_eq!(found[0].service, "shop/payment");
    }

    #[test]
    fn a_renamed_metric_is_reported_removed_with_a_suggestion_and_added() {
        let renamed = service("shop/checkout")
            .metric(
                "http.server.request.duration",
                histogram("s", BOUNDS)
                    .attr("http.route", 2.0)
                    .attr("http.request.method", 1.0),
            )
            .metric(
                "app.orders.placed_count",
                sum("{order}", true).attr("app.currency", 2.0),
            )
            .metric("app.queue.depth", gauge("{job}"))
            .span("POST /checkout", SpanKind::Server, &[])
            .span("prepare order", SpanKind::Internal, &[])
            .log_event("order.placed");
        let found = drift(vec![renamed, payment()]);
        let removed = only(&found, RuleId::BaselineMetricRemoved);
        assert_eq!(removed.len(), 1, "{found:?}");
        assert_eq!(
            removed[0].message,
            "metric `app.orders.placed` is gone; renamed to `app.orders.placed_count`?"
        );
        let added = only(&found, RuleId::BaselineMetricAdded);
        assert_eq!(
            added[0].message,
            "metric `app.orders.placed_count` is not in the baseline (renamed from `app.orders.placed`?)"
        );
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn a_removed_metric_without_a_close_name_has_no_suggestion() {
        let without_queue = service("shop/checkout")
            .metric(
                "http.server.request.duration",
                histogram("s", BOUNDS)
                    .attr("http.route", 2.0)
                    .attr("http.request.method", 1.0),
            )
            .metric(
                "app.orders.placed",
                sum("{order}", true).attr("app.currency", 2.0),
            )
            .metric("jvm.gc.pause", histogram("s", &[1.0]))
            .span("POST /checkout", SpanKind::Server, &[])
            .span("prepare order", SpanKind::Internal, &[])
            .log_event("order.placed");
        let found = drift(vec![without_queue, payment()]);
        let removed = only(&found, RuleId::BaselineMetricRemoved);
        assert_eq!(
            removed[0].message,
            "metric `app.queue.depth` is in the baseline but was not emitted"
        );
    }

    /// Builds checkout with one metric replaced.
    fn checkout_with(name: &str, metric: MetricBuilder) -> ServiceBuilder {
        let mut replacement = Some(metric);
        let mut builder = service("shop/checkout");
        for (n, m) in [
            (
                "http.server.request.duration",
                histogram("s", BOUNDS)
                    .attr("http.route", 2.0)
                    .attr("http.request.method", 1.0),
            ),
            (
                "app.orders.placed",
                sum("{order}", true).attr("app.currency", 2.0),
            ),
            ("app.queue.depth", gauge("{job}")),
        ] {
            let m = if n == name {
                replacement.take().unwrap_or(m)
            } else {
                m
            };
            builder = builder.metric(n, m);
        }
        builder
            .span("POST /checkout", SpanKind::Server, &[])
            .span("prepare order", SpanKind::Internal, &[])
            .log_event("order.placed")
    }

    #[test]
    fn each_kind_of_metric_change_is_reported() {
        // (metric, changed shape, rule, message)
        let cases: Vec<(&str, MetricBuilder, RuleId, &str)> = vec![
            (
                "app.queue.depth",
                sum("{job}", false),
                RuleId::BaselineTypeChanged,
                "`app.queue.depth` changed type from `gauge` to `sum` (non-monotonic)",
            ),
            (
                "app.orders.placed",
                sum("{order}", false).attr("app.currency", 2.0),
                RuleId::BaselineTypeChanged,
                "`app.orders.placed` changed type from `sum` (monotonic) to `sum` (non-monotonic)",
            ),
            (
                "http.server.request.duration",
                histogram("ms", BOUNDS)
                    .attr("http.route", 2.0)
                    .attr("http.request.method", 1.0),
                RuleId::BaselineUnitChanged,
                "`http.server.request.duration` changed unit from `s` to `ms`",
            ),
            (
                "app.orders.placed",
                sum("{order}", true)
                    .temporality("delta")
                    .attr("app.currency", 2.0),
                RuleId::BaselineTemporalityChanged,
                "`app.orders.placed` changed temporality from `cumulative` to `delta`",
            ),
            (
                "http.server.request.duration",
                histogram("s", BOUNDS).attr("http.route", 2.0),
                RuleId::BaselineLabelRemoved,
                "`http.server.request.duration` lost label `http.request.method`",
            ),
            (
                "app.orders.placed",
                sum("{order}", true)
                    .attr("app.currency", 2.0)
                    .attr("app.region", 3.0),
                RuleId::BaselineLabelAdded,
                "`app.orders.placed` gained label `app.region`",
            ),
            (
                "http.server.request.duration",
                histogram("s", &[0.1, 1.0])
                    .attr("http.route", 2.0)
                    .attr("http.request.method", 1.0),
                RuleId::BaselineBucketsChanged,
                "`http.server.request.duration` changed buckets from [0.005, 0.01, 0.1, 1] to [0.1, 1]",
            ),
        ];
        for (name, changed, rule, message) in cases {
            let found = drift(vec![checkout_with(name, changed), payment()]);
            assert_eq!(found.len(), 1, "{rule}: {found:?}");
            assert_eq!(found[0].rule, rule);
            assert_eq!(found[0].message, message);
            assert_eq!(found[0].subject, Subject::metric(name));
        }
    }

    #[test]
    fn missing_span_operations_and_log_events_are_reported() {
        let changed = service("shop/checkout")
            .metric(
                "http.server.request.duration",
                histogram("s", BOUNDS)
                    .attr("http.route", 2.0)
                    .attr("http.request.method", 1.0),
            )
            .metric(
                "app.orders.placed",
                sum("{order}", true).attr("app.currency", 2.0),
            )
            .metric("app.queue.depth", gauge("{job}"))
            .span("POST /checkout/v2", SpanKind::Server, &[])
            .span("prepare order", SpanKind::Client, &[])
            .log_event("order.created");
        let found = drift(vec![changed, payment()]);
        let spans = only(&found, RuleId::BaselineSpanOperationMissing);
        assert_eq!(spans.len(), 2, "{found:?}");
        assert_eq!(
            spans[0].message,
            "span operation `POST /checkout` (server) is gone; renamed to `POST /checkout/v2`?"
        );
        assert_eq!(
            spans[1].message,
            "span operation `prepare order` (internal) is in the baseline but no such span was seen"
        );
        let logs = only(&found, RuleId::BaselineLogEventMissing);
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].subject, Subject::log_event("order.placed"));
        assert_eq!(found.len(), 3);
    }
}
