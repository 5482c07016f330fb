//! Metric attributes that explode cardinality (OTP-C001, OTP-C002): keys known to take a
//! value per user, request or entity, and keys whose measured distinct-value count
//! (`attributeKeys[k].values.estimate`) is above `high_cardinality_threshold`.

use super::finding::{Findings, Subject};
use super::model::Telemetry;
use super::rules::RuleId;

/// Keys that take a new value per user, session, request, URL or message, with a bounded
/// alternative where there is one.
const UNBOUNDED_KEYS: &[(&str, &str)] = &[
    ("user.id", ""),
    ("user.email", ""),
    ("user.name", ""),
    ("enduser.id", ""),
    ("session.id", ""),
    ("url.full", "http.route"),
    ("url.path", "http.route"),
    ("url.query", ""),
    ("http.url", "http.route"),
    ("http.target", "http.route"),
    ("client.address", ""),
    ("http.client_ip", ""),
    ("network.peer.address", ""),
    ("net.sock.peer.addr", ""),
    ("user_agent.original", "user_agent.name"),
    ("db.query.text", "db.operation.name"),
    ("db.statement", "db.operation.name"),
    ("exception.message", "error.type"),
    ("exception.stacktrace", "error.type"),
    ("messaging.message.id", ""),
    ("messaging.message.conversation_id", ""),
    ("trace_id", ""),
    ("span_id", ""),
];

/// Id-like keys that are bounded by infrastructure rather than by traffic.
const BOUNDED_ID_KEYS: &[&str] = &[
    "service.instance.id",
    "host.id",
    "cloud.account.id",
    "k8s.cluster.uid",
    "process.pid",
    "thread.id",
    "cpu.id",
    "gen_ai.request.model",
];

/// Why `key` is known to be unbounded on a metric, and a bounded alternative.
fn unbounded(
    key: &str,
    extra: &std::collections::BTreeSet<String>,
) -> Option<(&'static str, &'static str)> {
    if let Some((_, alternative)) = UNBOUNDED_KEYS.iter().find(|(k, _)| *k == key) {
        return Some(("takes a value per user, request or message", alternative));
    }
    if extra.contains(key) {
        return Some(("is listed in the rules file's high_cardinality_keys", ""));
    }
    let lower = key.to_ascii_lowercase();
    let id_like = [".id", "_id", ".uid", "_uid", ".uuid", "_uuid"]
        .iter()
        .any(|suffix| lower.ends_with(suffix))
        || lower == "id"
        || lower == "uuid";
    (id_like && !BOUNDED_ID_KEYS.contains(&key))
        .then_some(("is an identifier, with a value per entity", ""))
}

/// Checks the attribute keys of every metric of every service.
pub fn check(telemetry: &Telemetry, findings: &mut Findings<'_>) {
    let threshold = findings.config().high_cardinality_threshold;
    let extra = findings.config().high_cardinality_keys.clone();
    for (service, data) in &telemetry.services {
        for (name, metric) in &data.metrics {
            for (key, estimate) in &metric.attribute_keys {
                if let Some((why, alternative)) = unbounded(key, &extra) {
                    let hint = if alternative.is_empty() {
                        format!("drop `{key}` from `{name}` (keep it on spans or logs)")
                    } else {
                        format!("replace `{key}` with `{alternative}` on `{name}`")
                    };
                    findings.push(
                        RuleId::UnboundedAttributeKey,
                        service,
                        Subject::metric(name),
                        format!("`{name}` has attribute `{key}`, which {why}"),
                        hint,
                    );
                }
                if *estimate > threshold {
                    findings.push(
                        RuleId::HighCardinalityAttribute,
                        service,
                        Subject::metric(name),
                        format!(
                            "attribute `{key}` of `{name}` has about {} distinct values (threshold {})",
                            estimate.round(),
                            threshold.round()
                        ),
                        format!("remove `{key}` from `{name}`, bucket its values, or drop it with a View"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use otel_parity_proto::v1::SpanKind;

    use super::super::config::LintConfig;
    use super::super::testing::{findings_of, histogram, service, sum, telemetry};
    use super::*;

    #[test]
    fn unbounded_keys_on_metrics_are_reported_and_bounded_ones_are_not() {
        // (key that triggers, near miss)
        let cases = [
            ("user.id", "user.roles"),
            ("url.full", "http.route"),
            ("http.url", "http.request.method"),
            ("session.id", "session.previous_state"),
            ("app.order.id", "app.order.kind"),
            ("request_uuid", "service.instance.id"),
        ];
        for (bad, good) in cases {
            let lint = |key: &str| {
                findings_of(
                    RuleId::UnboundedAttributeKey,
                    vec![
                        service("shop/checkout")
                            .metric("app.orders.placed", sum("{order}", true).attr(key, 3.0)),
                    ],
                )
            };
            let found = lint(bad);
            assert_eq!(found.len(), 1, "{bad}: {found:?}");
            assert!(found[0].message.contains(&format!("attribute `{bad}`")));
            assert!(lint(good).is_empty(), "near miss {good}");
        }
        let found = findings_of(
            RuleId::UnboundedAttributeKey,
            vec![service("s").metric(
                "http.server.request.duration",
                histogram("s", &[1.0]).attr("url.full", 2.0),
            )],
        );
        assert_eq!(
            found[0].hint,
            "replace `url.full` with `http.route` on `http.server.request.duration`"
        );
    }

    #[test]
    fn unbounded_keys_on_spans_are_fine() {
        let found = findings_of(
            RuleId::UnboundedAttributeKey,
            vec![service("s").span("GET /", SpanKind::Server, &["user.id", "url.full"])],
        );
        assert!(found.is_empty());
    }

    #[test]
    fn measured_cardinality_above_the_threshold_is_reported() {
        let lint = |estimate: f64, config: &LintConfig| {
            let data = telemetry(vec![service("s").metric(
                "app.cart.items",
                sum("{item}", true).attr("app.product.sku", estimate),
            )]);
            super::super::lint(&data, config, None)
                .into_iter()
                .filter(|f| f.rule == RuleId::HighCardinalityAttribute)
                .collect::<Vec<_>>()
        };
        let defaults = LintConfig::default();
        let found = lint(1500.0, &defaults);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "attribute `app.product.sku` of `app.cart.items` has about 1500 distinct values (threshold 1000)"
        );
        assert!(
            lint(1000.0, &defaults).is_empty(),
            "at the threshold is fine"
        );
        let strict = LintConfig::parse("high_cardinality_threshold: 50\n", "rules").unwrap();
        assert_eq!(lint(51.0, &strict).len(), 1);
        assert!(lint(50.0, &strict).is_empty());
    }

    #[test]
    fn keys_from_the_rules_file_are_unbounded_too() {
        let config = LintConfig::parse("high_cardinality_keys: [tenant]\n", "rules").unwrap();
        let data = telemetry(vec![
            service("s").metric("app.jobs", sum("{job}", true).attr("tenant", 3.0)),
        ]);
        let found: Vec<_> = super::super::lint(&data, &config, None)
            .into_iter()
            .filter(|f| f.rule == RuleId::UnboundedAttributeKey)
            .collect();
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("high_cardinality_keys"));
    }
}
