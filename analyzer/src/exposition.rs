//! The analyzer's Prometheus metrics (`/metrics`): parity coverage, scores,
//! ingestion ratios and findings per environment pair, for SLO dashboards and
//! alerts, and the analyzer's own ingest counters.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use otel_parity_compare::report::{Dimension, Report, Severity, Status};
use otel_parity_runtime::auth::AuthOutcome;

type FloatGauge = Gauge<f64, AtomicU64>;

/// Labels of one comparison: the environment pair.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PairLabels {
    pub baseline: String,
    pub candidate: String,
}

/// Labels of one service in one comparison.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    pub baseline: String,
    pub candidate: String,
    pub service: String,
}

/// Labels of one signal of one service in one comparison.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignalLabels {
    pub baseline: String,
    pub candidate: String,
    pub service: String,
    pub signal: String,
}

/// Labels of open findings.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    pub baseline: String,
    pub candidate: String,
    pub severity: String,
    pub dimension: String,
}

/// Labels of comparison events by result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub baseline: String,
    pub candidate: String,
    pub result: String,
}

/// Labels of pushes by result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PushLabels {
    pub result: String,
}

/// Labels of requests judged by bearer-token authentication.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    /// `push`, `api` or `metrics`.
    pub listener: String,
    /// `accepted`, `missing`, `malformed` or `invalid`.
    pub result: String,
}

/// Every metric the analyzer exposes (names are documented in README.md).
pub struct AnalyzerMetrics {
    registry: Registry,
    coverage: Family<PairLabels, FloatGauge>,
    score: Family<PairLabels, FloatGauge>,
    service_coverage: Family<ServiceLabels, FloatGauge>,
    ingestion_ratio: Family<SignalLabels, FloatGauge>,
    findings: Family<FindingLabels, Gauge>,
    traces_missing: Family<ServiceLabels, Gauge>,
    comparisons: Family<ResultLabels, Counter>,
    last_evaluation: Family<PairLabels, FloatGauge>,
    pushes: Family<PushLabels, Counter>,
    push_bytes: Counter,
    stored_pushes: Gauge,
    pending_pushes: Gauge,
    unreadable_pushes: Counter,
    auth: Family<AuthLabels, Counter>,
}

impl Default for AnalyzerMetrics {
    fn default() -> Self {
        AnalyzerMetrics::new()
    }
}

impl AnalyzerMetrics {
    /// The metrics, registered under the `otel_parity` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("otel_parity");
        let metrics = AnalyzerMetrics {
            coverage: Family::default(),
            score: Family::default(),
            service_coverage: Family::default(),
            ingestion_ratio: Family::default(),
            findings: Family::default(),
            traces_missing: Family::default(),
            comparisons: Family::default(),
            last_evaluation: Family::default(),
            pushes: Family::default(),
            push_bytes: Counter::default(),
            stored_pushes: Gauge::default(),
            pending_pushes: Gauge::default(),
            unreadable_pushes: Counter::default(),
            auth: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "coverage_ratio",
            "Telemetry parity coverage: share of baseline services whose metric names are all present in the candidate",
            metrics.coverage.clone(),
        );
        registry.register(
            "score",
            "Composite parity score, 0 to 100",
            metrics.score.clone(),
        );
        registry.register(
            "service_metric_coverage_ratio",
            "Share of a baseline service's metric names present in the candidate",
            metrics.service_coverage.clone(),
        );
        registry.register(
            "ingestion_ratio",
            "Candidate items per 1k requests divided by baseline items per 1k requests, adjusted for sampling",
            metrics.ingestion_ratio.clone(),
        );
        registry.register(
            "findings",
            "Open findings (not accepted) by severity and dimension",
            metrics.findings.clone(),
        );
        registry.register(
            "traces_missing",
            "1 when a service sends traces in the baseline and none (or far fewer per request) in the candidate",
            metrics.traces_missing.clone(),
        );
        registry.register(
            "comparisons",
            "Baseline services evaluated, by result (covered: all metric names present in the candidate; uncovered)",
            metrics.comparisons.clone(),
        );
        registry.register(
            "last_evaluation_timestamp_seconds",
            "When the pair was last compared, Unix seconds",
            metrics.last_evaluation.clone(),
        );
        registry.register(
            "pushes",
            "Fingerprint pushes received, by result (stored, duplicate, invalid, error)",
            metrics.pushes.clone(),
        );
        registry.register(
            "push_bytes",
            "Bytes of fingerprint pushes received",
            metrics.push_bytes.clone(),
        );
        registry.register(
            "stored_pushes",
            "Pushes held in the store (merged into rollups or pending), over the retention",
            metrics.stored_pushes.clone(),
        );
        registry.register(
            "store_pending_pushes",
            "Pushes stored and not yet merged into rollups",
            metrics.pending_pushes.clone(),
        );
        registry.register(
            "store_unreadable_pushes",
            "Stored pushes that could not be read when rolling up, logged and dropped",
            metrics.unreadable_pushes.clone(),
        );
        registry.register(
            "auth_requests",
            "Requests judged by bearer-token authentication, by listener (push, api, metrics) and result (accepted, missing, malformed, invalid)",
            metrics.auth.clone(),
        );
        AnalyzerMetrics {
            registry,
            ..metrics
        }
    }

    /// Counts one authentication outcome on `listener` (`push`, `api`, `metrics`).
    pub fn record_auth(&self, listener: &str, outcome: AuthOutcome) {
        self.auth
            .get_or_create(&AuthLabels {
                listener: listener.to_owned(),
                result: outcome.as_str().to_owned(),
            })
            .inc();
    }

    /// Counts one push and its size.
    pub fn record_push(&self, result: &str, bytes: usize) {
        self.pushes
            .get_or_create(&PushLabels {
                result: result.to_owned(),
            })
            .inc();
        self.push_bytes.inc_by(bytes as u64);
    }

    /// Sets how many pushes the store holds (at start-up).
    pub fn set_stored_pushes(&self, pushes: u64) {
        self.stored_pushes
            .set(i64::try_from(pushes).unwrap_or(i64::MAX));
    }

    /// Counts pushes added to the store (positive) or deleted by retention.
    pub fn add_stored_pushes(&self, change: i64) {
        self.stored_pushes.inc_by(change);
    }

    /// Sets how many pushes wait to be rolled up.
    pub fn set_pending_pushes(&self, pushes: u64) {
        self.pending_pushes
            .set(i64::try_from(pushes).unwrap_or(i64::MAX));
    }

    /// Counts stored pushes a roll-up pass could not read.
    pub fn count_unreadable_pushes(&self, pushes: u64) {
        self.unreadable_pushes.inc_by(pushes);
    }

    /// Replaces the per-pair gauges with one evaluation round's reports, and
    /// counts its comparison events. Pairs no longer evaluated disappear.
    pub fn record_round(&self, reports: &[Report], now_unix_seconds: f64) {
        self.coverage.clear();
        self.score.clear();
        self.service_coverage.clear();
        self.ingestion_ratio.clear();
        self.findings.clear();
        self.traces_missing.clear();
        self.last_evaluation.clear();
        for report in reports {
            self.record_report(report, now_unix_seconds);
        }
    }

    fn record_report(&self, report: &Report, now_unix_seconds: f64) {
        let pair = PairLabels {
            baseline: report.baseline.clone(),
            candidate: report.candidate.clone(),
        };
        self.coverage
            .get_or_create(&pair)
            .set(report.scores.coverage);
        self.score.get_or_create(&pair).set(report.scores.composite);
        self.last_evaluation
            .get_or_create(&pair)
            .set(now_unix_seconds);
        let service_labels = |service: &str| ServiceLabels {
            baseline: report.baseline.clone(),
            candidate: report.candidate.clone(),
            service: service.to_owned(),
        };
        // Both results exist from the first evaluation, so rate() sees the
        // first uncovered service too.
        for result in ["covered", "uncovered"] {
            let _ = self.comparisons.get_or_create(&ResultLabels {
                baseline: report.baseline.clone(),
                candidate: report.candidate.clone(),
                result: result.to_owned(),
            });
        }
        for (service, scores) in &report.scores.services {
            self.service_coverage
                .get_or_create(&service_labels(service))
                .set(scores.metric_coverage);
            for (signal, ratio) in &scores.ingestion {
                let labels = SignalLabels {
                    baseline: report.baseline.clone(),
                    candidate: report.candidate.clone(),
                    service: service.clone(),
                    signal: signal.clone(),
                };
                if ratio.ratio.is_finite() {
                    self.ingestion_ratio.get_or_create(&labels).set(ratio.ratio);
                }
            }
            self.traces_missing
                .get_or_create(&service_labels(service))
                .set(0);
            let result = if scores.metric_coverage >= 1.0 {
                "covered"
            } else {
                "uncovered"
            };
            self.comparisons
                .get_or_create(&ResultLabels {
                    baseline: report.baseline.clone(),
                    candidate: report.candidate.clone(),
                    result: result.to_owned(),
                })
                .inc();
        }
        // Every severity and dimension is present (0 when none) so that
        // alert expressions never see an absent series.
        for severity in Severity::ALL {
            for dimension in Dimension::ALL {
                let open = report
                    .findings
                    .iter()
                    .filter(|f| {
                        f.severity == severity
                            && f.dimension == dimension
                            && f.status != Status::Accepted
                    })
                    .count();
                let labels = FindingLabels {
                    baseline: report.baseline.clone(),
                    candidate: report.candidate.clone(),
                    severity: severity.as_str().to_owned(),
                    dimension: dimension.as_str().to_owned(),
                };
                self.findings.get_or_create(&labels).set(open as i64);
            }
        }
        for finding in &report.findings {
            if finding.status == Status::Accepted {
                continue;
            }
            // A service gone from the candidate is missing its traces too
            // when it had span operations in the baseline.
            let gone_with_spans = finding.dimension == Dimension::Services
                && report
                    .scores
                    .services
                    .get(&finding.service)
                    .is_some_and(|s| s.span_coverage < 1.0);
            if finding.dimension == Dimension::MissingTraces || gone_with_spans {
                self.traces_missing
                    .get_or_create(&service_labels(&finding.service))
                    .set(1);
            }
        }
    }

    /// The OpenMetrics text exposition.
    pub fn encode_openmetrics(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }

    /// The classic Prometheus text format (0.0.4), for scrapers and tools
    /// that do not ask for OpenMetrics (`promtool check metrics` among them).
    pub fn encode_prometheus(&self) -> String {
        to_prometheus_text(&self.encode_openmetrics())
    }
}

/// Converts OpenMetrics text to the Prometheus 0.0.4 text format: counter
/// families take their samples' `_total` name in HELP and TYPE, and the
/// OpenMetrics-only `# UNIT` and `# EOF` lines go.
fn to_prometheus_text(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut help: Option<&str> = None;
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if line.starts_with("# HELP ") {
            help = Some(line);
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let family = if kind == "counter" && !name.ends_with("_total") {
                format!("{name}_total")
            } else {
                name.to_owned()
            };
            if let Some(help) = help.take() {
                let text = help
                    .strip_prefix("# HELP ")
                    .and_then(|h| h.split_once(' '))
                    .map_or("", |(_, t)| t);
                out.push_str(&format!("# HELP {family} {text}\n"));
            }
            out.push_str(&format!("# TYPE {family} {kind}\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use otel_parity_compare::report::{ParityFinding, Scores, ServiceScores};

    fn finding(dimension: Dimension, service: &str) -> ParityFinding {
        ParityFinding {
            dimension,
            service: service.into(),
            subject: service.into(),
            baseline: String::new(),
            candidate: String::new(),
            severity: Severity::High,
            status: Status::Open,
            message: String::new(),
            accepted: None,
        }
    }

    fn scores(span_coverage: f64) -> ServiceScores {
        ServiceScores {
            metric_coverage: 0.0,
            span_coverage,
            attribute_key_coverage: 0.0,
            log_event_coverage: 1.0,
            ingestion: Default::default(),
        }
    }

    #[test]
    fn a_vanished_service_that_had_spans_counts_as_traces_missing() {
        let report = Report {
            baseline: "prod".into(),
            candidate: "staging".into(),
            findings: vec![
                finding(Dimension::Services, "shop/recommendation"),
                finding(Dimension::Services, "shop/batch-job"),
            ],
            scores: Scores {
                coverage: 0.5,
                services: [
                    ("shop/recommendation".to_owned(), scores(0.0)),
                    ("shop/batch-job".to_owned(), scores(1.0)),
                ]
                .into(),
                composite: 60.0,
                parts: Default::default(),
            },
        };
        let metrics = AnalyzerMetrics::new();
        metrics.record_round(&[report], 1.0);
        let text = metrics.encode_prometheus();
        let pair = r#"baseline="prod",candidate="staging""#;
        assert!(
            text.contains(&format!(
                r#"otel_parity_traces_missing{{{pair},service="shop/recommendation"}} 1"#
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                r#"otel_parity_traces_missing{{{pair},service="shop/batch-job"}} 0"#
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                r#"otel_parity_comparisons_total{{{pair},result="covered"}} 0"#
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                r#"otel_parity_comparisons_total{{{pair},result="uncovered"}} 2"#
            )),
            "{text}"
        );
    }

    #[test]
    fn counters_take_their_total_name_in_the_classic_format() {
        let metrics = AnalyzerMetrics::new();
        metrics.record_push("stored", 120);
        let text = metrics.encode_prometheus();
        assert!(
            text.contains("# TYPE otel_parity_pushes_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("# HELP otel_parity_pushes_total Fingerprint pushes received"),
            "{text}"
        );
        assert!(
            text.contains("otel_parity_pushes_total{result=\"stored\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("otel_parity_push_bytes_total 120\n"),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
        assert!(metrics.encode_openmetrics().ends_with("# EOF\n"));
    }
}
