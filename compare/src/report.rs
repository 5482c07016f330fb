//! A comparison's verdict: findings and scores, serialized for tools (JSON).
//! The renderings for people (text, markdown) are in `render`.
//!
//! # JSON shape
//!
//! `serde_json::to_string_pretty(&report)`:
//!
//! ```json
//! {
//!   "baseline": "prod",
//!   "candidate": "staging",
//!   "findings": [
//!     {
//!       "dimension": "metric_definitions",   // Dimension, snake_case
//!       "service": "shop/checkout",          // "namespace/name" or "name"
//!       "subject": "app.orders.placed",      // what differs, inside the service
//!       "baseline": "{order}",               // the baseline's value, for people
//!       "candidate": "1",                    // the candidate's value, for people
//!       "severity": "high",                  // critical|high|medium|low|info
//!       "status": "open",                    // open|accepted|acceptance_expired
//!       "message": "unit {order} in prod, 1 in staging",
//!       "accepted": null                     // or {"reason", "owner", "expires": "YYYY-MM-DD"}
//!     }
//!   ],
//!   "scores": {
//!     "coverage": 0.75,                      // telemetry parity coverage, 0..1
//!     "services": {
//!       "shop/checkout": {
//!         "metric_coverage": 0.5, "span_coverage": 1.0,
//!         "attribute_key_coverage": 0.9, "log_event_coverage": 1.0,
//!         "ingestion": {
//!           "traces": {"baseline_per_1k": 5000.0, "candidate_per_1k": 5010.0,
//!                      "ratio": 1.002, "adjusted": true}
//!         }
//!       }
//!     },
//!     "composite": 93.2,                     // 0..100, mean of parts
//!     "parts": {"services": 100.0, "metric_definitions": 80.0, ...}  // every dimension
//!   }
//! }
//! ```
//!
//! Findings are sorted worst first, then by service, dimension and subject.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::date::Date;

/// A comparison of a candidate environment against a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The baseline environment (e.g. prod).
    pub baseline: String,
    /// The candidate environment (e.g. staging).
    pub candidate: String,
    /// Sorted: severity worst first, then service, dimension, subject.
    pub findings: Vec<ParityFinding>,
    /// Coverage, ingestion ratios and the composite score.
    pub scores: Scores,
}

/// One difference between the environments' telemetry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParityFinding {
    /// The aspect of telemetry that differs.
    pub dimension: Dimension,
    /// Service key: "namespace/name", or "name" without a namespace.
    pub service: String,
    /// What differs inside the service: a metric name, `metric{key}`, an
    /// operation `name (kind)`, a resource key, a signal.
    pub subject: String,
    /// The baseline's side, for people ("absent" when it has none).
    pub baseline: String,
    /// The candidate's side, for people ("absent" when it has none).
    pub candidate: String,
    /// How much it matters (see `compare`'s severity table).
    pub severity: Severity,
    /// Open, or accepted by an accepted difference (possibly expired).
    pub status: Status,
    /// One line that names both environments.
    pub message: String,
    /// The accepted difference that matched, if any (accepted or expired).
    pub accepted: Option<Acceptance>,
}

/// The accepted difference a finding matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    /// Why the difference is fine.
    pub reason: String,
    /// Who accepted it.
    pub owner: String,
    /// Last day the acceptance holds.
    pub expires: Date,
}

/// How much a finding matters; `Ord` sorts worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Telemetry the baseline relies on is gone (missing traces): page.
    Critical,
    /// Something the baseline's dashboards or alerts use cannot be tested.
    High,
    /// Queries or traces behave differently; fix before it bites.
    Medium,
    /// Worth a look; rarely breaks anything.
    Low,
    /// Context, including differences of scale; never counts against the score.
    Info,
}

impl Severity {
    /// Every severity, worst first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The serialized name: "critical", "high", ….
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// Points an open finding of this severity takes off its dimension's
    /// part of the composite score.
    pub fn penalty(self) -> f64 {
        match self {
            Severity::Critical => 50.0,
            Severity::High => 20.0,
            Severity::Medium => 8.0,
            Severity::Low => 2.0,
            Severity::Info => 0.0,
        }
    }
}

/// Whether a finding counts: open, accepted, or accepted once and expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not accepted: counts against the score.
    Open,
    /// Matched an accepted difference that has not expired.
    Accepted,
    /// Matched only expired accepted differences: open again.
    AcceptanceExpired,
}

impl Status {
    /// The serialized name: "open", "accepted", "acceptance_expired".
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Accepted => "accepted",
            Status::AcceptanceExpired => "acceptance_expired",
        }
    }

    /// Whether the finding takes points off the score (accepted ones do not).
    pub fn penalizes(self) -> bool {
        self != Status::Accepted
    }
}

/// The aspects of telemetry the comparison looks at, one score part each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Services present in one environment only.
    Services,
    /// Metric names, types, units, temporalities, bucket layouts.
    MetricDefinitions,
    /// Metric attribute (label) keys.
    LabelKeys,
    /// Series cardinality of a metric.
    Cardinality,
    /// Spans gone, or far fewer per request.
    MissingTraces,
    /// Span operations (name, kind).
    SpanOperations,
    /// Span attribute keys per operation.
    SpanAttributes,
    /// Parent→child edges between operations.
    Edges,
    /// Remote parents of SERVER/CONSUMER spans.
    ContextPropagation,
    /// Sampling thresholds and inferred rates.
    Sampling,
    /// Log records, event names, correlation, severity mix.
    Logs,
    /// SDK, runtime, service and instrumentation-scope versions.
    Versions,
    /// Items per 1k requests per signal.
    Ingestion,
    /// Metrics (and their label keys) emitted under the old and the new name
    /// of one semantic-conventions rename.
    Semconv,
}

impl Dimension {
    /// Every dimension, in report order.
    pub const ALL: [Dimension; 14] = [
        Dimension::Services,
        Dimension::MetricDefinitions,
        Dimension::LabelKeys,
        Dimension::Cardinality,
        Dimension::MissingTraces,
        Dimension::SpanOperations,
        Dimension::SpanAttributes,
        Dimension::Edges,
        Dimension::ContextPropagation,
        Dimension::Sampling,
        Dimension::Logs,
        Dimension::Versions,
        Dimension::Ingestion,
        Dimension::Semconv,
    ];

    /// The serialized (snake_case) name, also used in accepted differences.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Services => "services",
            Dimension::MetricDefinitions => "metric_definitions",
            Dimension::LabelKeys => "label_keys",
            Dimension::Cardinality => "cardinality",
            Dimension::MissingTraces => "missing_traces",
            Dimension::SpanOperations => "span_operations",
            Dimension::SpanAttributes => "span_attributes",
            Dimension::Edges => "edges",
            Dimension::ContextPropagation => "context_propagation",
            Dimension::Sampling => "sampling",
            Dimension::Logs => "logs",
            Dimension::Versions => "versions",
            Dimension::Ingestion => "ingestion",
            Dimension::Semconv => "semconv",
        }
    }

    /// The dimension with this snake_case name.
    pub fn from_name(name: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Dimension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The comparison's scores.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Scores {
    /// Telemetry parity coverage, 0..1: the share of baseline services (with
    /// at least one metric) whose metric names are all in the candidate.
    pub coverage: f64,
    /// Per baseline service.
    pub services: BTreeMap<String, ServiceScores>,
    /// 0..100: the mean of `parts`.
    pub composite: f64,
    /// Per dimension (every one, by snake_case name), 0..100: 100 minus the
    /// penalties of the dimension's open findings, at least 0.
    pub parts: BTreeMap<String, f64>,
}

/// How much of one baseline service the candidate has.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceScores {
    /// Share of the baseline's metric names in the candidate (1 when none).
    pub metric_coverage: f64,
    /// Share of the baseline's span operations (name, kind) in the candidate.
    pub span_coverage: f64,
    /// Share of the baseline's metric and span attribute keys (per metric,
    /// per operation) in the candidate.
    pub attribute_key_coverage: f64,
    /// Share of the baseline's log `event.name` values in the candidate.
    pub log_event_coverage: f64,
    /// Per signal ("traces", "metrics", "logs"), where both sides' request
    /// counts are known and the baseline sent the signal.
    pub ingestion: BTreeMap<String, IngestionRatio>,
}

/// One signal's volume per 1,000 requests, candidate against baseline.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IngestionRatio {
    /// Baseline items (spans adjusted for sampling) per 1,000 requests.
    pub baseline_per_1k: f64,
    /// Candidate items (spans adjusted for sampling) per 1,000 requests.
    pub candidate_per_1k: f64,
    /// candidate_per_1k / baseline_per_1k.
    pub ratio: f64,
    /// False when a side's request count or sampling is partly unknown
    /// (spans without a threshold are counted as 1 each).
    pub adjusted: bool,
}

impl Report {
    /// Findings per severity, every severity present (0 when none), worst first.
    pub fn counts_by_severity(&self) -> BTreeMap<Severity, u64> {
        let mut counts: BTreeMap<Severity, u64> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        for finding in &self.findings {
            *counts.entry(finding.severity).or_default() += 1;
        }
        counts
    }
}
