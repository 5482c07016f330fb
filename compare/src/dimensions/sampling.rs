//! Sampling: the threshold distribution from tracestate (`ot=th:…`) and the
//! effective rate inferred from SERVER spans against counted requests.

use otel_parity_proto::v1 as pb;

use super::{Pair, pct, span_count};
use crate::report::{Dimension, ParityFinding, Severity};

/// Another sampling probability changes which traces exist: a rare error
/// path sampled in one environment may never be in the other's traces.
/// Counts stay comparable (adjusted counts), so medium.
const PROBABILITY_DIFFERS: Severity = Severity::Medium;
/// Without thresholds the candidate's adjusted counts are unknown: span-
/// derived rates can no longer be extrapolated, but traces still arrive. Low.
const THRESHOLDS_LOST: Severity = Severity::Low;
/// A candidate that records thresholds the baseline does not: nothing lost.
const THRESHOLDS_GAINED: Severity = Severity::Info;
/// The effective rate (often a tail sampler that writes no threshold)
/// differs: as for probabilities, other traces exist. Medium.
const INFERRED_RATE_DIFFERS: Severity = Severity::Medium;

/// An inferred rate at least this high means the spans are not sampled.
const UNSAMPLED_RATE: f64 = 0.9;

/// Inferred rates further apart than this factor differ.
const INFERRED_RATE_FACTOR: f64 = 2.0;

/// `traces_collapsed`: a missing-traces finding already explains a lower
/// inferred rate.
pub(super) fn compare(pair: &Pair, traces_collapsed: bool, out: &mut Vec<ParityFinding>) {
    if span_count(pair.baseline) == 0 || span_count(pair.candidate) == 0 {
        return;
    }
    let empty = pb::Sampling::default();
    let base = pair.baseline.sampling.as_ref().unwrap_or(&empty);
    let cand = pair.candidate.sampling.as_ref().unwrap_or(&empty);
    let mut probability_finding = false;
    match (dominant(base), dominant(cand)) {
        (Some(b), Some(c)) if b.threshold != c.threshold => {
            probability_finding = true;
            out.push(pair.finding(
                Dimension::Sampling,
                PROBABILITY_DIFFERS,
                "threshold",
                (describe(b), describe(c)),
                pair.both("sampling probability", &describe(b), &describe(c)),
            ));
        }
        (Some(b), None) => {
            // A candidate that keeps a SERVER span for (nearly) every counted
            // request is evidently not sampled: its adjusted counts are 1.
            let unsampled = cand.inferred_rate >= UNSAMPLED_RATE;
            let consequence = if unsampled {
                format!(
                    "{} keeps a SERVER span per request, so it looks unsampled",
                    pair.cand_env()
                )
            } else {
                format!("{}'s adjusted counts are unknown", pair.cand_env())
            };
            out.push(pair.finding(
                Dimension::Sampling,
                if unsampled {
                    Severity::Info
                } else {
                    THRESHOLDS_LOST
                },
                "threshold",
                (describe(b), "none".to_owned()),
                format!(
                    "spans carry sampling threshold {} in {}, none in {}: {consequence}",
                    describe(b),
                    pair.base_env(),
                    pair.cand_env()
                ),
            ))
        }
        (None, Some(c)) => out.push(pair.finding(
            Dimension::Sampling,
            THRESHOLDS_GAINED,
            "threshold",
            ("none".to_owned(), describe(c)),
            format!(
                "spans carry sampling threshold {} in {} only",
                describe(c),
                pair.cand_env()
            ),
        )),
        _ => {}
    }
    // Both rates are within-environment ratios, so scale cancels out. When
    // the thresholds already differ, or traces collapsed, that explains the
    // rates: one finding per cause.
    let (b, c) = (base.inferred_rate, cand.inferred_rate);
    if probability_finding
        || traces_collapsed
        || !(b > 0.0 && c > 0.0 && b.is_finite() && c.is_finite())
    {
        return;
    }
    if b.max(c) / b.min(c) > INFERRED_RATE_FACTOR {
        out.push(pair.finding(
            Dimension::Sampling,
            INFERRED_RATE_DIFFERS,
            "inferred_rate",
            (pct(b), pct(c)),
            pair.both("SERVER spans per counted request", &pct(b), &pct(c)),
        ));
    }
}

/// The threshold most spans carried.
fn dominant(sampling: &pb::Sampling) -> Option<&pb::ThresholdCount> {
    let mut best: Option<&pb::ThresholdCount> = None;
    for t in &sampling.thresholds {
        if t.spans > 0 && best.is_none_or(|b| t.spans > b.spans) {
            best = Some(t);
        }
    }
    best
}

/// `th:c (25%)`.
fn describe(t: &pb::ThresholdCount) -> String {
    format!("th:{} ({})", t.threshold, pct(t.probability))
}
