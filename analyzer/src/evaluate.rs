//! Periodic comparisons: every interval, each candidate environment is
//! compared against the baseline over the configured range; the reports feed
//! `/metrics` and `/api/v1/findings`.
//!
//! A round reads rollups, so its cost does not grow with the pushes stored.
//! It is skipped altogether when nothing it would read has changed: the
//! store's change marker is the same and the range still covers the same
//! minutes. An idle analyzer then does no merging at all.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use crate::config::AnalyzerConfig;
use crate::exposition::AnalyzerMetrics;
use crate::exposition::sampling::EnvironmentSampling;
use crate::history::History;
use crate::store::buckets::Level;
use crate::store::{ChangeMarker, Store, StoreError};
use otel_parity_compare::report::Report;
use otel_parity_compare::{AcceptedDifference, Date};
use otel_parity_compare::{CompareOptions, compare};
use otel_parity_proto::v1 as pb;
use otel_parity_runtime::time::{unix_days, unix_nanos_now};

/// Runs comparisons and keeps the latest report of each pair.
pub struct Evaluator {
    store: Arc<Store>,
    metrics: Arc<AnalyzerMetrics>,
    config: AnalyzerConfig,
    accepted: Vec<AcceptedDifference>,
    latest: RwLock<BTreeMap<(String, String), Report>>,
    /// The effective sampling rates of the environments the latest round
    /// compared.
    latest_sampling: RwLock<Vec<EnvironmentSampling>>,
    history: History,
    /// What the last round read: reused while it still holds.
    last_round: Mutex<Option<RoundInputs>>,
}

/// Everything a round's result depends on besides the clock's minute.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RoundInputs {
    marker: ChangeMarker,
    first_minute: u64,
    day: i64,
}

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// One of the environments has no pushes in the range.
    #[error("no fingerprints for environment {environment:?} in the last {since}")]
    NoData {
        /// The environment without data.
        environment: String,
        /// The range, as written by people (`1h`).
        since: String,
    },
    /// The store failed.
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
            latest_sampling: RwLock::new(Vec::new()),
            history: History::new(),
            last_round: Mutex::new(None),
        }
    }

    /// Compares `candidate` against `baseline` over the last `since`.
    pub async fn report(
        &self,
        baseline: &str,
        candidate: &str,
        since: Duration,
    ) -> Result<Report, CompareError> {
        let now = unix_nanos_now();
        let (baseline_fp, candidate_fp) = tokio::try_join!(
            self.fingerprint(baseline, since, now),
            self.fingerprint(candidate, since, now),
        )?;
        Ok(self.compare(baseline, &baseline_fp, candidate, &candidate_fp, now))
    }

    /// `environment`'s pushes over the `since` before `now`, merged.
    async fn fingerprint(
        &self,
        environment: &str,
        since: Duration,
        now: u64,
    ) -> Result<pb::EnvironmentFingerprint, CompareError> {
        self.store
            .fingerprint(environment, range_start(since, now), now)
            .await?
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
        let today = Date::from_unix_days(unix_days(now)).unwrap_or_else(Date::today_utc);
        let mut options = CompareOptions::new(today);
        options.ingestion_band = self.config.ingestion_band;
        options.accepted = self.accepted.clone();
        compare(baseline, baseline_fp, candidate, candidate_fp, &options)
    }

    /// The candidates the config asks for, among the environments stored
    /// (none when the baseline has no data).
    fn candidates(&self, stored: &[String]) -> Vec<String> {
        let baseline = &self.config.evaluation.baseline;
        if !stored.contains(baseline) {
            return Vec::new();
        }
        if self.config.evaluation.candidates.is_empty() {
            stored
                .iter()
                .filter(|e| *e != baseline && *e != "unknown")
                .cloned()
                .collect()
        } else {
            self.config
                .evaluation
                .candidates
                .iter()
                .filter(|c| stored.contains(c))
                .cloned()
                .collect()
        }
    }

    /// Compares every pair and publishes the reports, unless nothing the
    /// round reads changed since the last one (then the last reports stand,
    /// re-stamped). Returns the pairs evaluated.
    pub async fn evaluate_once(&self) -> Result<usize, StoreError> {
        let now = unix_nanos_now();
        let since = self.config.evaluation.since;
        let inputs = RoundInputs {
            marker: self.store.change_marker().await?,
            first_minute: Level::Minute.bucket_of(range_start(since, now)),
            day: unix_days(now),
        };
        if self.last_round.lock().as_ref() == Some(&inputs) {
            let reports = self.latest();
            let sampling = self.latest_sampling.read().clone();
            self.metrics
                .record_round(&reports, &sampling, now as f64 / 1e9);
            self.history.record(&reports, now);
            return Ok(reports.len());
        }
        // Counted here, not every round: the count changes only with the
        // change marker.
        let environments = self.store.environments().await?;
        self.metrics
            .set_stored_pushes(environments.iter().map(|e| e.pushes).sum());
        let stored: Vec<String> = environments.into_iter().map(|e| e.name).collect();
        let candidates = self.candidates(&stored);
        let baseline = &self.config.evaluation.baseline;
        let mut reports = Vec::new();
        let mut sampling = Vec::new();
        let services_cap = self.config.limits.max_services;
        // The baseline is merged once for all its candidates.
        let baseline_fp = if candidates.is_empty() {
            None
        } else {
            match self.fingerprint(baseline, since, now).await {
                Ok(fingerprint) => Some(fingerprint),
                Err(CompareError::NoData { .. }) => None,
                Err(CompareError::Store(error)) => return Err(error),
            }
        };
        if let Some(baseline_fp) = &baseline_fp {
            for candidate in &candidates {
                match self.fingerprint(candidate, since, now).await {
                    Ok(candidate_fp) => {
                        reports.push(self.compare(
                            baseline,
                            baseline_fp,
                            candidate,
                            &candidate_fp,
                            now,
                        ));
                        sampling.push(EnvironmentSampling::of(
                            candidate,
                            &candidate_fp,
                            services_cap,
                        ));
                    }
                    Err(CompareError::NoData { .. }) => {}
                    Err(CompareError::Store(error)) => return Err(error),
                }
            }
        }
        if let (Some(baseline_fp), false) = (&baseline_fp, reports.is_empty()) {
            sampling.insert(
                0,
                EnvironmentSampling::of(baseline, baseline_fp, services_cap),
            );
        }
        self.metrics
            .record_round(&reports, &sampling, now as f64 / 1e9);
        self.history.record(&reports, now);
        *self.latest_sampling.write() = sampling;
        let count = reports.len();
        *self.latest.write() = reports
            .into_iter()
            .map(|r| ((r.baseline.clone(), r.candidate.clone()), r))
            .collect();
        *self.last_round.lock() = Some(inputs);
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

    /// The telemetry parity coverage objective (the SLO's target).
    pub fn coverage_objective(&self) -> f64 {
        self.config.evaluation.coverage_objective
    }

    /// Evaluates every interval, and applies retention, until dropped.
    pub async fn run(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.config.evaluation.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match self.store.apply_retention(unix_nanos_now()).await {
                Ok(retired) if retired != Default::default() => {
                    tracing::debug!(?retired, "retention applied");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "retention failed; retrying next interval"),
            }
            if let Err(error) = self.evaluate_once().await {
                tracing::warn!(%error, "evaluation failed; retrying next interval");
            }
        }
    }
}

/// Start of the range `since` long that ends at `now`.
fn range_start(since: Duration, now: u64) -> u64 {
    now.saturating_sub(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
}
