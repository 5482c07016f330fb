//! Text for people: findings grouped by service, each with its level, rule ID and name, the
//! message and a fix hint, then a summary line.

use std::fmt::Write as _;

use super::Report;

/// Renders `report` as text.
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    let mut current_service: Option<&str> = None;
    for finding in report.findings {
        if current_service != Some(finding.service.as_str()) {
            if current_service.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", finding.service);
            current_service = Some(&finding.service);
        }
        let rule = finding.rule.rule();
        let _ = writeln!(
            out,
            "  {:<7}  {} {}  {}: {}",
            finding.level.as_str(),
            rule.id,
            rule.name,
            finding.subject,
            finding.marked_message()
        );
        let _ = writeln!(out, "           fix: {}", finding.hint);
    }
    if !report.findings.is_empty() {
        out.push('\n');
    }
    let services = report.services.len();
    let verdict = if report.fails() {
        format!("failed (findings at or above {})", report.fail_on)
    } else {
        format!("passed (--fail-on {})", report.fail_on)
    };
    let _ = writeln!(
        out,
        "otel-parity lint: {} in {services} service{}: {verdict}",
        report.summary(),
        if services == 1 { "" } else { "s" }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::super::super::{Level, LintConfig};
    use super::super::fixtures::{findings, report};
    use super::*;

    #[test]
    fn findings_are_grouped_by_service_with_rule_and_fix() {
        let findings = findings();
        let config = LintConfig::default();
        let text = render(&report(&findings, &config, Level::Error));
        let cart = text.find("shop/cart\n").expect("cart heading");
        let checkout = text.find("shop/checkout\n").expect("checkout heading");
        assert!(cart < checkout);
        assert!(text.contains(
            "  error    OTP-B005 baseline-metric-unit-changed  metric `http.server.request.duration`: `http.server.request.duration` changed unit from `s` to `ms`\n           fix: record `http.server.request.duration` in `s` again, or give the new unit a new metric name\n"
        ), "{text}");
        assert!(
            text.contains("  warning  OTP-M002 metric-name-lowercase  metric `CartItems`"),
            "{text}"
        );
        assert!(
            text.ends_with(": failed (findings at or above error)\n"),
            "{text}"
        );
    }

    #[test]
    fn a_clean_run_says_so() {
        let config = LintConfig::default();
        let text = render(&report(&[], &config, Level::Error));
        assert_eq!(
            text,
            "otel-parity lint: 0 errors, 0 warnings, 0 info in 2 services: passed (--fail-on error)\n"
        );
    }
}
