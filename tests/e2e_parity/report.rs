//! Reading the report JSON (analyzer/src/report.rs documents its shape) the way a tool that
//! consumes it would: by field name, without the analyzer's own types.

use std::fmt;

use serde_json::Value;

use otel_parity_testkit::e2e::excerpt;

/// Severities, worst first, as the report spells them.
pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// Points an open finding takes off its dimension's part of the composite score
/// (analyzer/src/compare/scores.rs).
pub fn penalty(severity: &str) -> f64 {
    match severity {
        "critical" => 50.0,
        "high" => 20.0,
        "medium" => 8.0,
        "low" => 2.0,
        _ => 0.0,
    }
}

/// Every dimension of the comparison, as the report's `scores.parts` names them.
pub const DIMENSIONS: [&str; 14] = [
    "services",
    "metric_definitions",
    "label_keys",
    "cardinality",
    "missing_traces",
    "span_operations",
    "span_attributes",
    "edges",
    "context_propagation",
    "sampling",
    "logs",
    "versions",
    "ingestion",
    "semconv",
];

/// One finding of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub dimension: String,
    pub service: String,
    pub subject: String,
    pub baseline: String,
    pub candidate: String,
    pub severity: String,
    pub status: String,
    pub message: String,
}

impl Finding {
    /// Whether the finding counts against parity (anything worse than info).
    pub fn above_info(&self) -> bool {
        self.severity != "info"
    }

    /// Whether it is about (dimension, service, subject).
    pub fn is(&self, dimension: &str, service: &str, subject: &str) -> bool {
        self.dimension == dimension && self.service == service && self.subject == subject
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{} {}] {} / {} / {:?}: {} (baseline {:?}, candidate {:?})",
            self.severity,
            self.status,
            self.dimension,
            self.service,
            self.subject,
            self.message,
            self.baseline,
            self.candidate
        )
    }
}

/// The report's findings; panics, showing the report, when they are not shaped as documented.
pub fn findings(report: &Value) -> Vec<Finding> {
    let Some(items) = report["findings"].as_array() else {
        panic!(
            "the report has no findings array:\n{}",
            excerpt(report, 3000)
        );
    };
    items
        .iter()
        .map(|item| {
            let field = |name: &str| {
                item[name].as_str().map(str::to_owned).unwrap_or_else(|| {
                    panic!("finding without a string {name:?}: {}", excerpt(item, 1000))
                })
            };
            Finding {
                dimension: field("dimension"),
                service: field("service"),
                subject: field("subject"),
                baseline: field("baseline"),
                candidate: field("candidate"),
                severity: field("severity"),
                status: field("status"),
                message: field("message"),
            }
        })
        .collect()
}

/// A number of the report at `path` (`None` when absent or not a number).
pub fn number(report: &Value, path: &[&str]) -> Option<f64> {
    path.iter()
        .try_fold(report, |value, segment| value.get(*segment))
        .and_then(Value::as_f64)
}

/// All findings, one per line, for failure messages.
pub fn listing(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("    {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}
