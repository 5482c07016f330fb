//! Parent→child edges between operations, across services: the call graph.

use std::collections::BTreeSet;

use otel_parity_proto::v1 as pb;

use super::scale::unless_scale;
use super::{Pair, operation_subject, traces::operations};
use crate::report::{Dimension, ParityFinding, Severity};

/// A call path the baseline takes and the candidate never does: that
/// dependency (a cache, a downstream service) is untested there, or traces
/// no longer connect. Medium: both operations still exist on their own.
const MISSING_EDGE: Severity = Severity::Medium;

/// Records baseline edges into this service's operations that the candidate
/// lacks. Not reported again: edges whose child or parent operation is
/// missing (the span-operation finding says so), whose parent service is
/// absent (the services finding), or whose child's propagation broke (the
/// context-propagation finding; `broken`).
pub(super) fn compare(pair: &Pair, broken: &BTreeSet<(String, i32)>, out: &mut Vec<ParityFinding>) {
    let base_ops = operations(pair.baseline);
    let cand_ops = operations(pair.candidate);
    let cand_edges: BTreeSet<EdgeKey> = pair.candidate.edges.iter().map(key).collect();
    for edge in &pair.baseline.edges {
        if cand_edges.contains(&key(edge)) {
            continue;
        }
        let child = (edge.child_operation.as_str(), edge.child_kind);
        let (Some(base_child), Some(cand_child)) = (base_ops.get(&child), cand_ops.get(&child))
        else {
            continue;
        };
        if broken.contains(&(edge.child_operation.clone(), edge.child_kind)) {
            continue;
        }
        let parent = (edge.parent_operation.as_str(), edge.parent_kind);
        let parent_present = if edge.parent_service == pair.service {
            cand_ops.contains_key(&parent)
        } else {
            pair.envs
                .candidate
                .services
                .get(&edge.parent_service)
                .is_some_and(|s| operations(s).contains_key(&parent))
        };
        if !parent_present {
            continue;
        }
        let severity = unless_scale(MISSING_EDGE, edge.count, base_child.spans, cand_child.spans);
        let message = format!(
            "{} calls {} in {} ({} of its spans), never in {}",
            operation_subject(&edge.parent_operation, edge.parent_kind),
            operation_subject(&edge.child_operation, edge.child_kind),
            pair.base_env(),
            super::pct(edge.count as f64 / base_child.spans.max(1) as f64),
            pair.cand_env()
        );
        out.push(pair.finding(
            Dimension::Edges,
            severity,
            subject(edge),
            super::present_absent(),
            message,
        ));
    }
}

type EdgeKey<'a> = (&'a str, &'a str, i32, &'a str, i32);

fn key(edge: &pb::OperationEdge) -> EdgeKey<'_> {
    (
        &edge.parent_service,
        &edge.parent_operation,
        edge.parent_kind,
        &edge.child_operation,
        edge.child_kind,
    )
}

/// `frontend: HTTP POST (client) -> PlaceOrder (server)`.
fn subject(edge: &pb::OperationEdge) -> String {
    format!(
        "{}: {} -> {}",
        edge.parent_service,
        operation_subject(&edge.parent_operation, edge.parent_kind),
        operation_subject(&edge.child_operation, edge.child_kind)
    )
}
