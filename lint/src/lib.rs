//! `otel-parity lint`: checks a service's telemetry, as fingerprinted from its integration
//! tests, against OpenTelemetry naming rules and semantic conventions, cardinality limits,
//! one-definition-per-name, and a committed baseline; and renders the verdict for people
//! and for CI (text, JSON, SARIF 2.1.0, JUnit XML, GitHub annotations).
//!
//! Input is `parity.v1.Snapshot`s (the CLI turns OTLP/JSON files into snapshots with the
//! receiver's fingerprint engine); every service of every environment is linted, merged by
//! service key across inputs.

pub mod baseline;
pub mod cardinality;
pub mod config;
pub mod consistency;
pub mod error;
pub mod finding;
pub mod instruments;
pub mod level;
pub mod model;
pub mod naming;
pub mod output;
pub mod rules;
pub mod semconv;
pub mod ucum;
pub mod units;

#[cfg(test)]
mod ratchet_tests;
#[cfg(test)]
mod testing;

pub use baseline::Baseline;
pub use config::LintConfig;
pub use error::Error;
pub use finding::{Finding, Findings, Subject, SubjectKind};
pub use level::Level;
pub use model::Telemetry;
pub use output::{Format, Report};
pub use rules::{Rule, RuleId};

/// Lints `telemetry` under `config`, and against `baseline` when given. Findings come
/// sorted by service, rule and subject.
pub fn lint(
    telemetry: &Telemetry,
    config: &LintConfig,
    baseline: Option<&Baseline>,
) -> Vec<Finding> {
    let mut findings = Findings::new(config).ratchet(baseline);
    naming::check(telemetry, &mut findings);
    units::check(telemetry, &mut findings);
    instruments::check(telemetry, &mut findings);
    semconv::check(telemetry, &mut findings);
    cardinality::check(telemetry, &mut findings);
    consistency::check(telemetry, &mut findings);
    if let Some(baseline) = baseline {
        baseline::drift::check(telemetry, baseline, &mut findings);
    }
    findings.into_sorted()
}

#[cfg(test)]
mod tests {
    use otel_parity_proto::v1::SpanKind;

    use super::testing::{histogram, service, sum, telemetry};
    use super::*;

    #[test]
    fn conventional_telemetry_lints_clean() {
        let data = telemetry(vec![
            service("shop/checkout")
                .metric(
                    "http.server.request.duration",
                    histogram("s", &[0.005, 0.01, 0.1, 1.0])
                        .attr("http.request.method", 2.0)
                        .attr("http.route", 3.0)
                        .attr("http.response.status_code", 2.0),
                )
                .metric(
                    "app.orders.placed",
                    sum("{order}", true).attr("app.currency", 2.0),
                )
                .span("POST /checkout", SpanKind::Server, &["url.full", "user.id"])
                .resource_attribute("deployment.environment.name")
                .log_event("order.placed"),
        ]);
        assert_eq!(lint(&data, &LintConfig::default(), None), vec![]);
        let baseline = Baseline::from_telemetry(&data);
        assert_eq!(lint(&data, &LintConfig::default(), Some(&baseline)), vec![]);
    }

    #[test]
    fn disabled_rules_report_nothing_and_overridden_levels_apply() {
        let data = telemetry(vec![
            service("s").metric("db.query.duration", histogram("ms", &[1.0])),
        ]);
        let defaults = lint(&data, &LintConfig::default(), None);
        assert_eq!(defaults.len(), 1, "{defaults:?}");
        assert_eq!(defaults[0].rule, RuleId::MetricUnitDurationSeconds);
        // A duration not in seconds is one of the clear breaks: an error by default.
        assert_eq!(defaults[0].level, Level::Error);
        let lowered = LintConfig::parse("rules: {OTP-M009: {level: warning}}", "r").unwrap();
        assert_eq!(lint(&data, &lowered, None)[0].level, Level::Warning);
        let disabled = LintConfig::parse("rules: {OTP-M009: {enabled: false}}", "r").unwrap();
        assert_eq!(lint(&data, &disabled, None), vec![]);
    }
}
