//! JSON: one document with the verdict, a summary and every finding.
//!
//! ```json
//! {"tool": "otel-parity", "version": "0.1.0", "failOn": "error", "failed": true,
//!  "summary": {"error": 1, "warning": 0, "info": 0, "services": 2},
//!  "findings": [{"ruleId": "OTP-B005", "rule": "baseline-metric-unit-changed",
//!                "level": "error", "service": "shop/checkout",
//!                "subject": {"kind": "metric", "name": "…"}, "message": "…", "hint": "…",
//!                "grandfathered": false}]}
//! ```

use serde_json::{Value, json};

use super::super::level::Level;
use super::Report;

/// Renders `report` as pretty-printed JSON.
pub fn render(report: &Report<'_>) -> String {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule.id(),
                "rule": f.rule.rule().name,
                "level": f.level,
                "service": f.service,
                "subject": f.subject,
                "message": f.message,
                "hint": f.hint,
                "grandfathered": f.grandfathered,
            })
        })
        .collect();
    let document = json!({
        "tool": "otel-parity",
        "version": env!("CARGO_PKG_VERSION"),
        "failOn": report.fail_on,
        "failed": report.fails(),
        "summary": {
            "error": report.count(Level::Error),
            "warning": report.count(Level::Warning),
            "info": report.count(Level::Info),
            "services": report.services.len(),
        },
        "inputs": report.inputs,
        "baseline": report.baseline,
        "findings": findings,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::super::super::LintConfig;
    use super::super::fixtures::{findings, report};
    use super::*;

    #[test]
    fn the_document_has_the_summary_and_every_finding() {
        let findings = findings();
        let config = LintConfig::default();
        let report = report(&findings, &config, Level::Warning);
        let document: Value = serde_json::from_str(&render(&report)).unwrap();
        assert_eq!(document["failOn"], "warning");
        assert_eq!(document["failed"], true);
        assert_eq!(document["summary"]["error"], report.count(Level::Error));
        assert_eq!(document["summary"]["services"], 2);
        let list = document["findings"].as_array().unwrap();
        assert_eq!(list.len(), findings.len());
        let unit = list.iter().find(|f| f["ruleId"] == "OTP-B005").unwrap();
        assert_eq!(unit["rule"], "baseline-metric-unit-changed");
        assert_eq!(unit["level"], "error");
        assert_eq!(unit["service"], "shop/checkout");
        assert_eq!(unit["subject"]["kind"], "metric");
        assert_eq!(unit["subject"]["name"], "http.server.request.duration");
    }
}
