//! Periodic comparisons: every interval, each candidate environment is
//! compared against the baseline over the configured range; the reports feed
//! `/metrics` and `/api/v1/findings`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;

use crate::config::AnalyzerConfig;
use crate::exposition::AnalyzerMetrics;
use crate::history::History;
use crate::store::{Store, StoreError};
use otel_parity_compare::report::Report;
use otel_parity_compare::{AcceptedDifference, Date};
use otel_parity_compare::{CompareOptions, compare};
use otel_parity_proto::v1 as pb;
use otel_parity_runtime::time::unix_nanos_now;

/// Runs comparisons and keeps the latest report of each pair.
pub struct Evaluator {
    store: Arc<Store>,
    metrics: Arc<AnalyzerMetrics>,
    config: AnalyzerConfig,
    accepted: Vec<AcceptedDifference>,
    latest: RwLock<BTreeMap<(String, String), Report>>,
    history: History,
}

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("no fingerprints for environment {environment:?} in the last {since}")]
    NoData { environment: String, since: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Evaluator {
    /// An evaluator over `store`, with accepted differences already loaded.
    pub fn new(
        store: Arc<Store>,
        metrics: Arc<AnalyzerMetrics>,
        config: AnalyzerConfig,
        accepted: Vec<AcceptedDifference>,
    ) -> Self {
        Evaluator {
            store,
            metrics,
            config,
            accepted,
            latest: RwLock::new(BTreeMap::new()),
            history: History::new(),
        }
    }

    /// Compares `candidate` against `baseline` over the last `since`.
    pub fn report(
        &self,
        baseline: &str,
        candidate: &str,
        since: Duration,
    ) -> Result<Report, CompareError> {
        let now = unix_nanos_now();
        let baseline_fp = self.fingerprint(baseline, since, now)?;
        let candidate_fp = self.fingerprint(candidate, since, now)?;
        Ok(self.compare(baseline, &baseline_fp, candidate, &candidate_fp, now))
    }

    /// `environment`'s pushes over the `since` before `now`, merged.
    fn fingerprint(
        &self,
        environment: &str,
        since: Duration,
        now: u64,
    ) -> Result<pb::EnvironmentFingerprint, CompareError> {
        let from = now.saturating_sub(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX));
        self.store
            .fingerprint(environment, from, now)?
            .map(|merged| merged.fingerprint)
            .ok_or_else(|| CompareError::NoData {
                environment: environment.to_owned(),
                since: humantime::format_duration(since).to_string(),
            })
    }

    /// The report of two merged fingerprints, with accepted differences
    /// judged as of `now`.
    fn compare(
        &self,
        baseline: &str,
        baseline_fp: &pb::EnvironmentFingerprint,
        candidate: &str,
        candidate_fp: &pb::EnvironmentFingerprint,
        now: u64,
    ) -> Report {
        let today = Date::from_unix_days(i64::try_from(now / 86_400_000_000_000).unwrap_or(0))
            .unwrap_or_else(Date::today_utc);
        let mut options = CompareOptions::new(today);
        options.ingestion_band = self.config.ingestion_band;
        options.accepted = self.accepted.clone();
        compare(baseline, baseline_fp, candidate, candidate_fp, &options)
    }

    /// The candidates the config asks for, among the environments stored
    /// (none when the baseline has no data).
    fn candidates(&self) -> Result<Vec<String>, StoreError> {
        let baseline = &self.config.evaluation.baseline;
        let stored: Vec<String> = self
            .store
            .environments()?
            .into_iter()
            .map(|e| e.name)
            .collect();
        if !stored.contains(baseline) {
            return Ok(Vec::new());
        }
        let candidates: Vec<String> = if self.config.evaluation.candidates.is_empty() {
            stored
                .into_iter()
                .filter(|e| e != baseline && e != "unknown")
                .collect()
        } else {
            self.config
                .evaluation
                .candidates
                .iter()
                .filter(|c| stored.contains(c))
                .cloned()
                .collect()
        };
        Ok(candidates)
    }

    /// Compares every pair once and publishes the reports.
    pub fn evaluate_once(&self) -> Result<usize, StoreError> {
        let mut reports = Vec::new();
        let now = unix_nanos_now();
        let since = self.config.evaluation.since;
        let baseline = &self.config.evaluation.baseline;
        let candidates = self.candidates()?;
        // The baseline is merged once for all its candidates.
        let baseline_fp = if candidates.is_empty() {
            None
        } else {
            match self.fingerprint(baseline, since, now) {
                Ok(fingerprint) => Some(fingerprint),
                Err(CompareError::NoData { .. }) => None,
                Err(CompareError::Store(error)) => return Err(error),
            }
        };
        if let Some(baseline_fp) = &baseline_fp {
            for candidate in &candidates {
                match self.fingerprint(candidate, since, now) {
                    Ok(candidate_fp) => {
                        reports.push(self.compare(
                            baseline,
                            baseline_fp,
                            candidate,
                            &candidate_fp,
                            now,
                        ));
                    }
                    Err(CompareError::NoData { .. }) => {}
                    Err(CompareError::Store(error)) => return Err(error),
                }
            }
        }
        self.metrics.record_round(&reports, now as f64 / 1e9);
        self.history.record(&reports, now);
        let count = reports.len();
        *self.latest.write() = reports
            .into_iter()
            .map(|r| ((r.baseline.clone(), r.candidate.clone()), r))
            .collect();
        Ok(count)
    }

    /// The latest reports, one per evaluated pair.
    pub fn latest(&self) -> Vec<Report> {
        self.latest.read().values().cloned().collect()
    }

    /// Every pair's past evaluations (the UI's trend).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Ingestion ratios outside this band are findings.
    pub fn ingestion_band(&self) -> (f64, f64) {
        self.config.ingestion_band
    }

    /// Evaluates every interval, and applies retention, until dropped.
    pub async fn run(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.config.evaluation.interval);
        loop {
            ticker.tick().await;
            let evaluator = Arc::clone(&self);
            let result = tokio::task::spawn_blocking(move || {
                let retention =
                    u64::try_from(evaluator.config.retention.as_nanos()).unwrap_or(u64::MAX);
                let deleted = evaluator
                    .store
                    .delete_older_than(unix_nanos_now().saturating_sub(retention))?;
                evaluator
                    .metrics
                    .add_stored_pushes(-i64::try_from(deleted).unwrap_or(i64::MAX));
                evaluator.evaluate_once()
            })
            .await;
            match result {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::warn!(%error, "evaluation failed; retrying next interval")
                }
                Err(error) => tracing::warn!(%error, "evaluation task failed"),
            }
        }
    }
}
