//! Missing traces: a service that traces in the baseline and sends no spans
//! (or far fewer per request) in the candidate. This is the finding the
//! shipped alert rule pages on.

use std::collections::BTreeMap;

use super::{Pair, span_count};
use crate::report::{Dimension, IngestionRatio, ParityFinding, Severity};

/// Traces are how a staging test is debugged and how latency regressions are
/// caught before prod; a service whose tracing silently stopped (broken
/// exporter, sampler at 0, SDK not initialised) hides everything else. Critical.
const MISSING_TRACES: Severity = Severity::Critical;

/// Candidate adjusted spans per request below this share of the baseline's
/// are "far fewer": more than sampling noise or scale can explain.
pub(super) const FAR_FEWER_RATIO: f64 = 0.1;

/// Records a missing-traces finding; returns whether it did, so that the
/// same collapse is not reported again as a sampling difference.
pub(super) fn compare(
    pair: &Pair,
    ratios: &BTreeMap<String, IngestionRatio>,
    out: &mut Vec<ParityFinding>,
) -> bool {
    let base_spans = span_count(pair.baseline);
    if base_spans == 0 {
        return false;
    }
    if span_count(pair.candidate) == 0 {
        out.push(pair.finding(
            Dimension::MissingTraces,
            MISSING_TRACES,
            "spans",
            ("present".to_owned(), "none".to_owned()),
            format!(
                "service sends spans in {}, none in {}",
                pair.base_env(),
                pair.cand_env()
            ),
        ));
        return true;
    }
    let Some(r) = ratios.get("traces") else {
        return false;
    };
    if r.ratio >= FAR_FEWER_RATIO {
        return false;
    }
    let mut message = format!(
        "{:.1} adjusted spans per 1k requests in {}, {:.1} in {} ({:.1}% of {}'s)",
        r.baseline_per_1k,
        pair.base_env(),
        r.candidate_per_1k,
        pair.cand_env(),
        r.ratio * 100.0,
        pair.base_env()
    );
    if !r.adjusted {
        message.push_str(
            "; not fully adjusted: some request counts or sampling thresholds are unknown",
        );
    }
    out.push(pair.finding(
        Dimension::MissingTraces,
        MISSING_TRACES,
        "spans per 1k requests",
        (
            format!("{:.1} per 1k requests", r.baseline_per_1k),
            format!("{:.1} per 1k requests", r.candidate_per_1k),
        ),
        message,
    ));
    true
}
