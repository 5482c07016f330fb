//! Semantic-convention names that are deprecated or renamed (OTP-S001, OTP-S002), from the
//! rename table the comparison shares (`otel_parity_model::semconv`), which names the semconv
//! release in which each old name was deprecated; and the attribute keys of the conventions
//! (for OTP-D004).

use std::collections::BTreeMap;

use otel_parity_model::semconv::{ATTRIBUTE_RENAMES, METRIC_RENAMES, Rename};

use super::finding::{Findings, Subject};
use super::model::Telemetry;
use super::rules::RuleId;

/// Attribute keys of the semantic conventions (current and deprecated) that a metric must
/// not be named after; OTP-D004 also uses every attribute key seen in the inputs.
pub const ATTRIBUTE_KEYS: &[&str] = &[
    "client.address",
    "client.port",
    "code.function.name",
    "code.file.path",
    "code.line.number",
    "db.collection.name",
    "db.namespace",
    "db.operation.name",
    "db.query.text",
    "db.response.status_code",
    "db.system.name",
    "deployment.environment.name",
    "error.type",
    "exception.message",
    "exception.stacktrace",
    "exception.type",
    "host.arch",
    "host.name",
    "http.request.method",
    "http.request.body.size",
    "http.response.body.size",
    "http.response.status_code",
    "http.route",
    "messaging.destination.name",
    "messaging.operation.type",
    "messaging.system",
    "network.peer.address",
    "network.peer.port",
    "network.protocol.name",
    "network.protocol.version",
    "network.transport",
    "network.type",
    "os.type",
    "process.pid",
    "process.runtime.name",
    "process.runtime.version",
    "rpc.method",
    "rpc.service",
    "rpc.system",
    "server.address",
    "server.port",
    "service.instance.id",
    "service.name",
    "service.namespace",
    "service.version",
    "telemetry.sdk.language",
    "telemetry.sdk.name",
    "telemetry.sdk.version",
    "url.full",
    "url.path",
    "url.query",
    "url.scheme",
    "user_agent.original",
];

/// Whether `key` is an attribute key of the semantic conventions.
pub fn is_convention_attribute_key(key: &str) -> bool {
    ATTRIBUTE_KEYS.contains(&key) || ATTRIBUTE_RENAMES.iter().any(|d| d.old == key)
}

fn describe(deprecation: &Rename) -> (String, String) {
    let replacement = if deprecation.new.is_empty() {
        format!("was removed in semconv {}", deprecation.since)
    } else {
        format!(
            "was renamed `{}` in semconv {}",
            deprecation.new, deprecation.since
        )
    };
    let note = match (deprecation.unit, deprecation.note) {
        (Some(unit), _) => format!(
            " and its unit changed from `{}` to `{}`",
            unit.old, unit.new
        ),
        (None, "") => String::new(),
        (None, note) => format!(" {note}"),
    };
    let hint = if deprecation.new.is_empty() {
        format!("stop emitting `{}`", deprecation.old)
    } else {
        format!("emit `{}` instead", deprecation.new)
    };
    (format!("{replacement}{note}"), hint)
}

/// Checks metric names and attribute keys of every service against the tables.
pub fn check(telemetry: &Telemetry, findings: &mut Findings<'_>) {
    for (service, data) in &telemetry.services {
        for name in data.metrics.keys() {
            if let Some(deprecation) = METRIC_RENAMES.iter().find(|d| d.old == name) {
                let (what, hint) = describe(deprecation);
                findings.push(
                    RuleId::DeprecatedMetric,
                    service,
                    Subject::metric(name),
                    format!("metric `{name}` {what}"),
                    hint,
                );
            }
        }
        // Where each key was seen, so that one finding per key names every place.
        let mut places: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (name, metric) in &data.metrics {
            for key in metric.attribute_keys.keys() {
                places
                    .entry(key)
                    .or_default()
                    .push(format!("metric `{name}`"));
            }
        }
        for (operation, keys) in &data.span_operations {
            for key in keys {
                places
                    .entry(key)
                    .or_default()
                    .push(format!("span `{}` ({})", operation.name, operation.kind));
            }
        }
        for key in &data.log_attribute_keys {
            places.entry(key).or_default().push("logs".into());
        }
        for key in &data.resource_attribute_keys {
            places.entry(key).or_default().push("the resource".into());
        }
        for (key, seen_on) in places {
            if let Some(deprecation) = ATTRIBUTE_RENAMES.iter().find(|d| d.old == key) {
                let (what, hint) = describe(deprecation);
                findings.push(
                    RuleId::DeprecatedAttribute,
                    service,
                    Subject::attribute(key),
                    format!("attribute `{key}` {what}; seen on {}", seen_on.join(", ")),
                    hint,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use otel_parity_proto::v1::SpanKind;

    use super::super::testing::{findings_of, gauge, histogram, service};
    use super::*;

    #[test]
    fn deprecated_metric_names_are_reported_with_their_replacement_and_version() {
        let found = findings_of(
            RuleId::DeprecatedMetric,
            vec![service("shop/frontend").metric("http.server.duration", histogram("ms", &[5.0]))],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "metric `http.server.duration` was renamed `http.server.request.duration` in semconv 1.22.0 and its unit changed from `ms` to `s`"
        );
        assert_eq!(found[0].hint, "emit `http.server.request.duration` instead");
        let near = findings_of(
            RuleId::DeprecatedMetric,
            vec![
                service("shop/frontend")
                    .metric("http.server.request.duration", histogram("s", &[5.0])),
            ],
        );
        assert!(near.is_empty());
    }

    #[test]
    fn deprecated_attribute_keys_are_reported_wherever_they_appear() {
        // (key that triggers, near miss, the service's signal carrying it)
        type Carrier = fn(&str) -> super::super::testing::ServiceBuilder;
        let cases: [(&str, &str, Carrier); 5] = [
            ("http.method", "http.request.method", |k| {
                service("s").metric(
                    "http.server.request.duration",
                    histogram("s", &[1.0]).attr(k, 4.0),
                )
            }),
            ("http.status_code", "http.response.status_code", |k| {
                service("s").span("GET /", SpanKind::Server, &[k])
            }),
            (
                "deployment.environment",
                "deployment.environment.name",
                |k| service("s").resource_attribute(k),
            ),
            ("db.system", "db.system.name", |k| {
                service("s").log_attribute(k)
            }),
            ("net.peer.name", "server.address", |k| {
                service("s").metric("app.calls", gauge("{call}").attr(k, 2.0))
            }),
        ];
        for (bad, good, build) in cases {
            let found = findings_of(RuleId::DeprecatedAttribute, vec![build(bad)]);
            assert_eq!(found.len(), 1, "{bad}: {found:?}");
            assert_eq!(found[0].subject, Subject::attribute(bad));
            let deprecation = ATTRIBUTE_RENAMES.iter().find(|d| d.old == bad).unwrap();
            assert!(
                found[0]
                    .message
                    .contains(&format!("semconv {}", deprecation.since)),
                "{}",
                found[0].message
            );
            assert!(found[0].hint.contains(good), "{bad}: {}", found[0].hint);
            let near = findings_of(RuleId::DeprecatedAttribute, vec![build(good)]);
            assert!(near.is_empty(), "{good}: {near:?}");
        }
    }

    #[test]
    fn one_finding_per_key_names_every_place() {
        let found = findings_of(
            RuleId::DeprecatedAttribute,
            vec![
                service("s")
                    .metric(
                        "http.server.request.duration",
                        histogram("s", &[1.0]).attr("http.url", 9.0),
                    )
                    .span("GET /", SpanKind::Server, &["http.url"]),
            ],
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .ends_with("seen on metric `http.server.request.duration`, span `GET /` (server)"),
            "{}",
            found[0].message
        );
    }
}
