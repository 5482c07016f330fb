//! The trend behind the UI's chart: each evaluation of a pair (coverage,
//! composite score, findings by severity), kept in memory and bounded. A
//! restart starts a new trend; long-term history is Prometheus's job
//! (`otel_parity_coverage_ratio`, `otel_parity_score`).

use std::collections::{BTreeMap, VecDeque};

use parking_lot::RwLock;
use serde::Serialize;

use otel_parity_compare::report::{Report, Severity, Status};

/// Evaluations kept per pair: 3 hours at the default 15 s interval.
pub const POINTS_PER_PAIR: usize = 720;
/// Pairs kept; past that, the pair evaluated longest ago is forgotten.
pub const MAX_PAIRS: usize = 64;

/// One evaluation of a pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// When the evaluation ran, Unix epoch milliseconds (exact in JSON).
    pub unix_ms: u64,
    /// Telemetry parity coverage, 0..1.
    pub coverage: f64,
    /// Composite parity score, 0..100.
    pub composite: f64,
    /// Findings per severity, every severity present (accepted ones included).
    pub findings: BTreeMap<Severity, u64>,
    /// Of those, findings accepted (not counting against the score).
    pub accepted: u64,
}

impl HistoryPoint {
    /// The point for `report`, evaluated at `unix_nano`.
    pub fn of(report: &Report, unix_nano: u64) -> Self {
        HistoryPoint {
            unix_ms: unix_nano / 1_000_000,
            coverage: report.scores.coverage,
            composite: report.scores.composite,
            findings: report.counts_by_severity(),
            accepted: report
                .findings
                .iter()
                .filter(|f| f.status == Status::Accepted)
                .count() as u64,
        }
    }
}

/// A pair that has been evaluated, with its latest point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluatedPair {
    /// The baseline environment.
    pub baseline: String,
    /// The candidate environment.
    pub candidate: String,
    /// Its latest evaluation.
    pub latest: HistoryPoint,
}

/// Bounded per-pair history of evaluations.
#[derive(Debug, Default)]
pub struct History {
    pairs: RwLock<BTreeMap<(String, String), VecDeque<HistoryPoint>>>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        History::default()
    }

    /// Appends one point per report, all at `unix_nano`.
    pub fn record(&self, reports: &[Report], unix_nano: u64) {
        let mut pairs = self.pairs.write();
        for report in reports {
            let key = (report.baseline.clone(), report.candidate.clone());
            if !pairs.contains_key(&key) && pairs.len() >= MAX_PAIRS {
                let stalest = pairs
                    .iter()
                    .min_by_key(|(_, points)| points.back().map_or(0, |p| p.unix_ms))
                    .map(|(key, _)| key.clone());
                if let Some(stalest) = stalest {
                    pairs.remove(&stalest);
                }
            }
            let points = pairs.entry(key).or_default();
            if points.len() >= POINTS_PER_PAIR {
                points.pop_front();
            }
            points.push_back(HistoryPoint::of(report, unix_nano));
        }
    }

    /// The pair's points, oldest first; `None` if it was never evaluated.
    pub fn points(&self, baseline: &str, candidate: &str) -> Option<Vec<HistoryPoint>> {
        self.pairs
            .read()
            .get(&(baseline.to_owned(), candidate.to_owned()))
            .map(|points| points.iter().cloned().collect())
    }

    /// Every pair evaluated, sorted by baseline then candidate.
    pub fn pairs(&self) -> Vec<EvaluatedPair> {
        self.pairs
            .read()
            .iter()
            .filter_map(|((baseline, candidate), points)| {
                Some(EvaluatedPair {
                    baseline: baseline.clone(),
                    candidate: candidate.clone(),
                    latest: points.back()?.clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otel_parity_compare::report::Scores;

    fn report(candidate: &str, composite: f64) -> Report {
        Report {
            baseline: "prod".into(),
            candidate: candidate.into(),
            findings: Vec::new(),
            scores: Scores {
                coverage: 0.8,
                composite,
                ..Scores::default()
            },
        }
    }

    #[test]
    fn a_pair_keeps_its_latest_points_oldest_first() {
        let history = History::new();
        for i in 0..POINTS_PER_PAIR + 5 {
            history.record(&[report("staging", i as f64)], i as u64 * 1_000_000);
        }
        let points = history.points("prod", "staging").expect("evaluated");
        assert_eq!(points.len(), POINTS_PER_PAIR);
        assert_eq!(points[0].composite, 5.0);
        assert_eq!(points[0].unix_ms, 5);
        assert_eq!(
            points.last().map(|p| p.composite),
            Some((POINTS_PER_PAIR + 4) as f64)
        );
        assert_eq!(points[0].findings.len(), Severity::ALL.len());
        assert!(history.points("prod", "dev").is_none());
    }

    #[test]
    fn past_the_pair_cap_the_stalest_pair_is_forgotten() {
        let history = History::new();
        for i in 0..MAX_PAIRS {
            history.record(
                &[report(&format!("env-{i}"), 1.0)],
                (i as u64 + 1) * 1_000_000,
            );
        }
        history.record(&[report("env-0", 2.0)], 1_000_000_000);
        history.record(&[report("newcomer", 3.0)], 2_000_000_000);
        let pairs = history.pairs();
        assert_eq!(pairs.len(), MAX_PAIRS);
        assert!(
            history.points("prod", "env-1").is_none(),
            "env-1 was stalest"
        );
        assert!(history.points("prod", "env-0").is_some());
        assert_eq!(
            history.points("prod", "newcomer").map(|p| p[0].composite),
            Some(3.0)
        );
    }
}
