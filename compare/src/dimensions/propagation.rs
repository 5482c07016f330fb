//! Context propagation into SERVER and CONSUMER spans: where the baseline's
//! entry spans continue a caller's trace and the candidate's start new ones.

use std::collections::BTreeSet;

use otel_parity_proto::v1 as pb;

use super::scale::MIN_EXPECTED;
use super::{Pair, is_entry_kind, operation_subject, pct};
use crate::report::{Dimension, ParityFinding, Severity};

/// Broken propagation splits every distributed trace through the service in
/// two: end-to-end latency, service maps and root-cause navigation all stop
/// working, though each half still looks healthy. High.
const PROPAGATION_BROKEN: Severity = Severity::High;

/// The baseline must mostly continue remote traces…
const BASELINE_REMOTE_SHARE: f64 = 0.5;
/// …and the candidate's spans must mostly be roots.
const CANDIDATE_ROOT_SHARE: f64 = 0.5;

/// Records propagation findings; returns the (name, kind) of operations whose
/// propagation broke, whose missing edges are then not reported again.
pub(super) fn compare(pair: &Pair, out: &mut Vec<ParityFinding>) -> BTreeSet<(String, i32)> {
    let mut broken = BTreeSet::new();
    let cand_ops = super::traces::operations(pair.candidate);
    for base in &pair.baseline.span_operations {
        if !is_entry_kind(base.kind) {
            continue;
        }
        let Some(cand) = cand_ops.get(&(base.name.as_str(), base.kind)) else {
            continue;
        };
        let (Some(bp), Some(cp)) = (&base.propagation, &cand.propagation) else {
            continue;
        };
        let (b_total, c_total) = (total(bp), total(cp));
        if b_total == 0 || c_total == 0 {
            continue;
        }
        let remote = bp.remote_parent as f64 / b_total as f64;
        let roots = cp.root as f64 / c_total as f64;
        if remote < BASELINE_REMOTE_SHARE || roots <= CANDIDATE_ROOT_SHARE {
            continue;
        }
        // A handful of candidate spans (e.g. a health check or a manual call
        // during a quiet window) cannot show that propagation is broken.
        let severity = if (c_total as f64) < MIN_EXPECTED {
            Severity::Info
        } else {
            broken.insert((base.name.clone(), base.kind));
            PROPAGATION_BROKEN
        };
        let cand_remote = cp.remote_parent as f64 / c_total as f64;
        let message = format!(
            "{} of spans continue a remote trace in {}, {} in {} where {} are roots: context is not propagated",
            pct(remote),
            pair.base_env(),
            pct(cand_remote),
            pair.cand_env(),
            pct(roots)
        );
        out.push(pair.finding(
            Dimension::ContextPropagation,
            severity,
            operation_subject(&base.name, base.kind),
            (
                format!("{} remote parent", pct(remote)),
                format!("{} root", pct(roots)),
            ),
            message,
        ));
    }
    broken
}

fn total(p: &pb::Propagation) -> u64 {
    p.remote_parent + p.local_parent + p.root
}
