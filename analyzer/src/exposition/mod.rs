//! The analyzer's Prometheus metrics (`/metrics`): parity coverage, scores,
//! ingestion ratios and findings per environment pair, for SLO dashboards and
//! alerts, and the analyzer's own ingest counters.

mod labels;
mod round;
pub mod sampling;

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use otel_parity_model::limits::MAX_SERVICES;
use otel_parity_runtime::auth::AuthOutcome;

pub use labels::{
    AuthLabels, FindingLabels, PairLabels, PushLabels, ResultLabels, SamplingLabels,
    ServiceFindingLabels, ServiceLabels, SignalLabels,
};

type FloatGauge = Gauge<f64, AtomicU64>;

/// The `service` label value that sums the services past the services cap.
pub const OTHER_SERVICES: &str = "(other services)";

/// The results a push is counted under, all exposed from the start.
pub const PUSH_RESULTS: [&str; 4] = ["stored", "duplicate", "invalid", "error"];

/// The outcomes of bearer-token authentication, in `result` label order.
const AUTH_OUTCOMES: [AuthOutcome; 4] = [
    AuthOutcome::Accepted,
    AuthOutcome::Missing,
    AuthOutcome::Malformed,
    AuthOutcome::Invalid,
];

/// Every metric the analyzer exposes (names are documented in README.md).
pub struct AnalyzerMetrics {
    registry: Registry,
    /// Per-service series per pair or environment, at most (the services cap).
    services_cap: usize,
    coverage: Family<PairLabels, FloatGauge>,
    coverage_objective: FloatGauge,
    score: Family<PairLabels, FloatGauge>,
    service_coverage: Family<ServiceLabels, FloatGauge>,
    ingestion_ratio: Family<SignalLabels, FloatGauge>,
    findings: Family<FindingLabels, Gauge>,
    service_findings: Family<ServiceFindingLabels, Gauge>,
    sampling_rate: Family<SamplingLabels, FloatGauge>,
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
    /// The metrics, registered under the `otel_parity` prefix, with the
    /// default services cap; every push result and the default coverage
    /// objective (0.9) exposed from the start.
    pub fn new() -> Self {
        AnalyzerMetrics::with_services_cap(MAX_SERVICES)
    }

    /// [`AnalyzerMetrics::new`] with at most `services_cap` per-service
    /// series per pair (findings) or environment (sampling rates).
    pub fn with_services_cap(services_cap: usize) -> Self {
        let mut registry = Registry::with_prefix("otel_parity");
        let metrics = AnalyzerMetrics {
            services_cap,
            coverage: Family::default(),
            coverage_objective: FloatGauge::default(),
            score: Family::default(),
            service_coverage: Family::default(),
            ingestion_ratio: Family::default(),
            findings: Family::default(),
            service_findings: Family::default(),
            sampling_rate: Family::default(),
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
            "coverage_objective_ratio",
            "The telemetry parity coverage objective (evaluation.coverage_objective): the SLO's target for coverage",
            metrics.coverage_objective.clone(),
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
            "service_findings",
            "Open findings (not accepted) of one service by severity, every severity present; services past the services cap are summed under service=\"(other services)\"",
            metrics.service_findings.clone(),
        );
        registry.register(
            "effective_sampling_rate",
            "Share of a service's spans kept in an environment: SERVER spans per request counted by the request-duration metric (source=requests), else kept over represented spans by their tracestate thresholds (source=threshold)",
            metrics.sampling_rate.clone(),
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
        for result in PUSH_RESULTS {
            let _ = metrics.pushes.get_or_create(&PushLabels {
                result: result.to_owned(),
            });
        }
        metrics.coverage_objective.set(0.9);
        AnalyzerMetrics {
            registry,
            ..metrics
        }
    }

    /// Sets the coverage objective exported for the recording rules.
    pub fn set_coverage_objective(&self, objective: f64) {
        self.coverage_objective.set(objective);
    }

    /// Exposes every authentication result of `listener` at 0: called for
    /// the listeners that have tokens configured.
    pub fn declare_auth_listener(&self, listener: &str) {
        for outcome in AUTH_OUTCOMES {
            let _ = self.auth.get_or_create(&AuthLabels {
                listener: listener.to_owned(),
                result: outcome.as_str().to_owned(),
            });
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
        otel_parity_runtime::exposition::to_prometheus_text(&self.encode_openmetrics())
    }
}

#[cfg(test)]
mod tests;
