//! One definition per metric name (OTP-D001…D004): one unit, one bucket layout and one
//! instrument type, within a service and across all services of the inputs; and no metric
//! named like an attribute key.

use std::collections::{BTreeMap, BTreeSet};

use super::finding::{Findings, Subject};
use super::model::{MetricTelemetry, Telemetry, same_bounds};
use super::rules::RuleId;
use super::semconv;

/// The instrument types a metric was recorded as; sums split by monotonicity.
fn type_labels(metric: &MetricTelemetry) -> Vec<String> {
    let mut labels = Vec::new();
    for kind in metric.types.keys() {
        if kind == "sum" {
            if metric.monotonic_points > 0 {
                labels.push("monotonic sum".to_owned());
            }
            if metric.non_monotonic_points > 0 {
                labels.push("non-monotonic sum".to_owned());
            }
            if metric.monotonic_points == 0 && metric.non_monotonic_points == 0 {
                labels.push("sum".to_owned());
            }
        } else {
            labels.push(kind.clone());
        }
    }
    labels
}

/// Formats bucket bounds as `[0.005, 0.01, 1]`.
pub fn format_bounds(bounds: &[f64]) -> String {
    let parts: Vec<String> = bounds.iter().map(|b| format!("{b}")).collect();
    format!("[{}]", parts.join(", "))
}

/// Values of one property of one metric name, each with the services that use it.
#[derive(Default)]
struct Variants {
    by_value: BTreeMap<String, BTreeSet<String>>,
}

impl Variants {
    fn add(&mut self, value: String, service: &str) {
        self.by_value
            .entry(value)
            .or_default()
            .insert(service.to_owned());
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .by_value
            .iter()
            .map(|(value, services)| {
                let services: Vec<&str> = services.iter().map(String::as_str).collect();
                format!("{value} ({})", services.join(", "))
            })
            .collect();
        parts.join(" and ")
    }
}

/// Distinct bucket layouts of one metric name, each with the services that use it.
type LayoutUsers = Vec<(Vec<f64>, BTreeSet<String>)>;

/// Checks metric definitions across every service.
pub fn check(telemetry: &Telemetry, findings: &mut Findings<'_>) {
    let mut units: BTreeMap<&str, Variants> = BTreeMap::new();
    let mut types: BTreeMap<&str, Variants> = BTreeMap::new();
    let mut layouts: BTreeMap<&str, LayoutUsers> = BTreeMap::new();
    for (service, data) in &telemetry.services {
        for (name, metric) in &data.metrics {
            for unit in metric.units.keys() {
                units
                    .entry(name)
                    .or_default()
                    .add(format!("`{unit}`"), service);
            }
            for label in type_labels(metric) {
                types.entry(name).or_default().add(label, service);
            }
            let known = layouts.entry(name).or_default();
            for (bounds, _) in &metric.bucket_layouts {
                match known.iter_mut().find(|(b, _)| same_bounds(b, bounds)) {
                    Some((_, services)) => {
                        services.insert(service.clone());
                    }
                    None => known.push((bounds.clone(), [service.clone()].into())),
                }
            }
        }
    }
    for (service, data) in &telemetry.services {
        for name in data.metrics.keys() {
            let subject = || Subject::metric(name);
            if let Some(variants) = units.get(name.as_str()).filter(|v| v.by_value.len() > 1) {
                findings.push(
                    RuleId::UnitConflict,
                    service,
                    subject(),
                    format!("`{name}` is recorded with units {}", variants.describe()),
                    format!("use one unit for `{name}` everywhere"),
                );
            }
            if let Some(variants) = types.get(name.as_str()).filter(|v| v.by_value.len() > 1) {
                findings.push(
                    RuleId::TypeConflict,
                    service,
                    subject(),
                    format!("`{name}` is recorded as {}", variants.describe()),
                    format!("record `{name}` with one instrument type everywhere"),
                );
            }
            if let Some(known) = layouts.get(name.as_str()).filter(|l| l.len() > 1) {
                let parts: Vec<String> = known
                    .iter()
                    .map(|(bounds, services)| {
                        let services: Vec<&str> = services.iter().map(String::as_str).collect();
                        format!("{} ({})", format_bounds(bounds), services.join(", "))
                    })
                    .collect();
                findings.push(
                    RuleId::BucketLayoutConflict,
                    service,
                    subject(),
                    format!(
                        "`{name}` has {} bucket layouts: {}",
                        known.len(),
                        parts.join(" and ")
                    ),
                    format!(
                        "configure one set of bucket boundaries for `{name}` (e.g. with a View)"
                    ),
                );
            }
        }
    }
    check_name_collisions(telemetry, findings);
}

/// OTP-D004: metric names equal to an attribute key of the conventions or of the inputs.
fn check_name_collisions(telemetry: &Telemetry, findings: &mut Findings<'_>) {
    let mut seen_keys: BTreeSet<&str> = BTreeSet::new();
    for data in telemetry.services.values() {
        for metric in data.metrics.values() {
            seen_keys.extend(metric.attribute_keys.keys().map(String::as_str));
        }
        for keys in data.span_operations.values() {
            seen_keys.extend(keys.iter().map(String::as_str));
        }
        seen_keys.extend(data.log_attribute_keys.iter().map(String::as_str));
        seen_keys.extend(data.resource_attribute_keys.iter().map(String::as_str));
    }
    for (service, data) in &telemetry.services {
        for name in data.metrics.keys() {
            let where_from = if semconv::is_convention_attribute_key(name) {
                "an attribute key of the semantic conventions"
            } else if seen_keys.contains(name.as_str()) {
                "an attribute key used in this telemetry"
            } else {
                continue;
            };
            findings.push(
                RuleId::MetricNameIsAttributeKey,
                service,
                Subject::metric(name),
                format!("metric `{name}` has the name of {where_from}"),
                format!("name the metric for what it measures (e.g. `{name}.count` or a `…duration`) and keep `{name}` as an attribute"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use otel_parity_proto::v1::SpanKind;

    use super::super::testing::{findings_of, gauge, histogram, service, sum};
    use super::*;

    #[test]
    fn two_units_for_one_name_conflict_within_and_across_services() {
        let within = findings_of(
            RuleId::UnitConflict,
            vec![
                service("shop/cart")
                    .metric("app.cart.latency", histogram("s", &[1.0]).also_unit("ms")),
            ],
        );
        assert_eq!(within.len(), 1);
        assert_eq!(
            within[0].message,
            "`app.cart.latency` is recorded with units `ms` (shop/cart) and `s` (shop/cart)"
        );
        let across = findings_of(
            RuleId::UnitConflict,
            vec![
                service("shop/cart").metric("rpc.server.duration", histogram("s", &[1.0])),
                service("shop/payment").metric("rpc.server.duration", histogram("ms", &[1.0])),
            ],
        );
        assert_eq!(across.len(), 2, "reported in each service: {across:?}");
        assert_eq!(across[1].service, "shop/payment");
        let same = findings_of(
            RuleId::UnitConflict,
            vec![
                service("shop/cart").metric("rpc.server.duration", histogram("s", &[1.0])),
                service("shop/payment").metric("rpc.server.duration", histogram("s", &[2.0])),
            ],
        );
        assert!(same.is_empty());
    }

    #[test]
    fn two_bucket_layouts_for_one_name_conflict() {
        let found = findings_of(
            RuleId::BucketLayoutConflict,
            vec![
                service("shop/cart")
                    .metric("http.server.request.duration", histogram("s", &[0.1, 1.0])),
                service("shop/payment").metric(
                    "http.server.request.duration",
                    histogram("s", &[0.1, 1.0, 5.0]),
                ),
            ],
        );
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].message,
            "`http.server.request.duration` has 2 bucket layouts: [0.1, 1] (shop/cart) and [0.1, 1, 5] (shop/payment)"
        );
        let within = findings_of(
            RuleId::BucketLayoutConflict,
            vec![service("s").metric("d", histogram("s", &[1.0]).buckets(&[2.0]))],
        );
        assert_eq!(within.len(), 1);
        let near = findings_of(
            RuleId::BucketLayoutConflict,
            vec![
                service("shop/cart")
                    .metric("http.server.request.duration", histogram("s", &[0.1, 1.0])),
                service("shop/payment")
                    .metric("http.server.request.duration", histogram("s", &[0.1, 1.0])),
            ],
        );
        assert!(near.is_empty());
    }

    #[test]
    fn two_instrument_types_for_one_name_conflict() {
        let found = findings_of(
            RuleId::TypeConflict,
            vec![
                service("shop/cart").metric("app.queue.size", gauge("{job}")),
                service("shop/worker").metric("app.queue.size", sum("{job}", false)),
            ],
        );
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].message,
            "`app.queue.size` is recorded as gauge (shop/cart) and non-monotonic sum (shop/worker)"
        );
        let counter_vs_updown = findings_of(
            RuleId::TypeConflict,
            vec![
                service("a").metric("app.jobs", sum("{job}", true)),
                service("b").metric("app.jobs", sum("{job}", false)),
            ],
        );
        assert_eq!(counter_vs_updown.len(), 2);
        let within = findings_of(
            RuleId::TypeConflict,
            vec![service("a").metric("app.jobs", gauge("{job}").also_type("histogram"))],
        );
        assert_eq!(within.len(), 1);
        let near = findings_of(
            RuleId::TypeConflict,
            vec![
                service("a").metric("app.jobs", sum("{job}", true)),
                service("b").metric("app.jobs", sum("{job}", true)),
            ],
        );
        assert!(near.is_empty());
    }

    #[test]
    fn a_metric_named_like_an_attribute_key_is_reported() {
        let convention = findings_of(
            RuleId::MetricNameIsAttributeKey,
            vec![service("s").metric("http.response.status_code", gauge("1"))],
        );
        assert_eq!(convention.len(), 1);
        assert!(convention[0].message.contains("semantic conventions"));
        let seen = findings_of(
            RuleId::MetricNameIsAttributeKey,
            vec![
                service("s").metric("app.tenant", gauge("{tenant}")),
                service("t").span("GET /", SpanKind::Server, &["app.tenant"]),
            ],
        );
        assert_eq!(seen.len(), 1);
        assert!(seen[0].message.contains("used in this telemetry"));
        let near = findings_of(
            RuleId::MetricNameIsAttributeKey,
            vec![service("s").metric(
                "http.server.request.duration",
                histogram("s", &[1.0]).attr("http.response.status_code", 3.0),
            )],
        );
        assert!(near.is_empty());
    }
}
