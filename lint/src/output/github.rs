//! GitHub Actions workflow commands, one line per finding:
//!
//! ```text
//! ::error file=telemetry-baseline.yaml,title=OTP-B005 baseline-metric-unit-changed (shop/checkout)::`http.server.request.duration` changed unit from `s` to `ms`. Fix: …
//! ::warning title=OTP-M002 metric-name-lowercase (shop/cart)::`CartItems` has upper-case letters. Fix: …
//! ::notice title=OTP-B003 baseline-metric-added (shop/checkout)::metric `app.orders.placed` is not in the baseline. Fix: …
//! ```
//! Levels map error → `::error`, warning → `::warning`, info → `::notice`. `file=` is the
//! baseline for drift findings (when `--baseline` was given) and is absent otherwise. Values
//! are escaped as the runner expects: `%`, CR and LF in the message; also `:` and `,` in
//! properties. A last plain line sums up.

use std::fmt::Write as _;

use super::super::level::Level;
use super::super::rules::Family;
use super::Report;

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Renders `report` as workflow commands.
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for finding in report.findings {
        let command = match finding.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "notice",
        };
        let rule = finding.rule.rule();
        let mut properties = Vec::new();
        if rule.family == Family::Baseline
            && let Some(baseline) = &report.baseline
        {
            properties.push(format!("file={}", escape_property(baseline)));
        }
        properties.push(format!(
            "title={}",
            escape_property(&format!("{} {} ({})", rule.id, rule.name, finding.service))
        ));
        let _ = writeln!(
            out,
            "::{command} {}::{}",
            properties.join(","),
            escape_data(&format!(
                "{}. Fix: {}",
                finding.marked_message(),
                finding.hint
            ))
        );
    }
    let _ = writeln!(out, "otel-parity lint: {}", report.summary());
    out
}

#[cfg(test)]
mod tests {
    use super::super::super::LintConfig;
    use super::super::fixtures::{findings, report};
    use super::*;

    #[test]
    fn each_finding_is_one_workflow_command() {
        let findings = findings();
        let config = LintConfig::default();
        let text = render(&report(&findings, &config, Level::Error));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), findings.len() + 1);
        assert!(lines.contains(&"::error file=telemetry-baseline.yaml,title=OTP-B005 baseline-metric-unit-changed (shop/checkout)::`http.server.request.duration` changed unit from `s` to `ms`. Fix: record `http.server.request.duration` in `s` again, or give the new unit a new metric name"), "{text}");
        assert!(lines.iter().any(|l| {
            l.starts_with("::warning title=OTP-M002 metric-name-lowercase (shop/cart)::")
        }));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("::notice file=telemetry-baseline.yaml,title=OTP-B003 "))
        );
        assert!(lines.last().unwrap().starts_with("otel-parity lint: "));
    }

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape_data("50% of a\nb\r"), "50%25 of a%0Ab%0D");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
