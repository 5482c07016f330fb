//! The levels of issue 12 #2: the clear breaks are errors without a baseline; with one, legacy
//! names are grandfathered (at most warnings, marked) and new metrics that break a naming or
//! semantic-convention rule are errors, unless the rules file sets the level.

use super::testing::{ServiceBuilder, histogram, service, sum, telemetry};
use super::*;

/// The capture of the example: `HTTP_Requests_Total`, `app.checkout.latency_ms` (ms, with
/// `user.id`) and the deprecated `http.server.duration` (ms).
fn legacy() -> ServiceBuilder {
    service("shop/checkout")
        .metric("HTTP_Requests_Total", sum("{request}", true))
        .metric(
            "app.checkout.latency_ms",
            histogram("ms", &[5.0, 10.0, 50.0]).attr("user.id", 40.0),
        )
        .metric(
            "http.server.duration",
            histogram("ms", &[5.0, 10.0, 50.0]).attr("http.route", 2.0),
        )
}

/// (rule, level, grandfathered) of every finding, sorted.
fn levels(findings: &[Finding]) -> Vec<(&'static str, Level, bool)> {
    let mut levels: Vec<_> = findings
        .iter()
        .map(|f| (f.rule.id(), f.level, f.grandfathered))
        .collect();
    levels.sort();
    levels
}

#[test]
fn without_a_baseline_the_clear_breaks_are_errors() {
    let found = lint(&telemetry(vec![legacy()]), &LintConfig::default(), None);
    let errors: Vec<(&str, &str)> = found
        .iter()
        .filter(|f| f.level == Level::Error)
        .map(|f| (f.rule.id(), f.subject.name.as_str()))
        .collect();
    assert_eq!(
        errors,
        vec![
            ("OTP-M002", "HTTP_Requests_Total"),
            ("OTP-M005", "app.checkout.latency_ms"),
            ("OTP-M006", "HTTP_Requests_Total"),
            ("OTP-M009", "app.checkout.latency_ms"),
            ("OTP-M009", "http.server.duration"),
            ("OTP-S001", "http.server.duration"),
        ],
        "{found:#?}"
    );
    assert!(found.iter().all(|f| !f.grandfathered));
    assert!(
        found
            .iter()
            .any(|f| f.rule == RuleId::UnboundedAttributeKey && f.level == Level::Warning)
    );
}

#[test]
fn with_a_baseline_legacy_names_are_grandfathered_and_new_breaks_are_errors() {
    let baseline = Baseline::from_telemetry(&telemetry(vec![legacy()]));
    let now = telemetry(vec![
        legacy()
            // A new metric breaking a warning-level and an info-level naming rule.
            .metric("app.Cart.size", sum("items", false)),
    ]);
    let found = lint(&now, &LintConfig::default(), Some(&baseline));
    for finding in &found {
        let legacy_name = finding.subject.name != "app.Cart.size";
        let naming = matches!(finding.rule.id().as_bytes()[4], b'M' | b'S');
        match (naming, legacy_name) {
            (true, true) => {
                assert!(finding.grandfathered, "{finding:?}");
                assert!(finding.level <= Level::Warning, "{finding:?}");
                assert!(
                    finding
                        .marked_message()
                        .ends_with("(grandfathered: in the baseline, so at most a warning)"),
                    "{finding:?}"
                );
            }
            (true, false) => {
                assert_eq!(finding.level, Level::Error, "{finding:?}");
                assert!(!finding.grandfathered);
            }
            (false, _) => assert!(!finding.grandfathered, "{finding:?}"),
        }
    }
    let new: Vec<(&str, Level, bool)> = levels(&found)
        .into_iter()
        .filter(|(_, _, grandfathered)| !grandfathered)
        .collect();
    assert_eq!(
        new,
        vec![
            // app.Cart.size: upper case (warning by default, error when new), a spelled-out
            // count (info by default, error when new); then the baseline's own rules.
            ("OTP-B003", Level::Info, false),
            ("OTP-C001", Level::Warning, false),
            ("OTP-M002", Level::Error, false),
            ("OTP-M010", Level::Error, false),
        ],
        "{found:#?}"
    );
    // Against the capture's own baseline, nothing fails.
    let same = lint(
        &telemetry(vec![legacy()]),
        &LintConfig::default(),
        Some(&baseline),
    );
    assert!(same.iter().all(|f| f.level <= Level::Warning), "{same:#?}");
    assert_eq!(
        same.iter().filter(|f| f.grandfathered).count(),
        same.iter()
            .filter(|f| matches!(f.rule.id().as_bytes()[4], b'M' | b'S'))
            .count()
    );
}

#[test]
fn a_level_set_in_the_rules_file_wins_over_the_ratchet_for_new_metrics() {
    let baseline = Baseline::from_telemetry(&telemetry(vec![legacy()]));
    let now = telemetry(vec![legacy().metric("app.Cart.size", sum("{item}", false))]);
    let config = LintConfig::parse("rules: {OTP-M002: {level: info}}", "r").expect("valid");
    let cart: Vec<(&str, Level)> = lint(&now, &config, Some(&baseline))
        .iter()
        .filter(|f| f.subject.name == "app.Cart.size" && f.rule != RuleId::BaselineMetricAdded)
        .map(|f| (f.rule.id(), f.level))
        .collect();
    assert_eq!(cart, vec![("OTP-M002", Level::Info)]);
}
