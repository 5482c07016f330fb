//! Span operations (name, kind) and their attribute keys.

use std::collections::BTreeMap;

use otel_parity_proto::v1 as pb;

use super::scale::{self, unless_scale};
use otel_parity_model::span_kind;

use super::{Pair, is_entry_kind, operation_subject, present_absent, span_count};
use crate::report::{Dimension, ParityFinding, Severity};

/// A SERVER or CONSUMER operation is an entry point: an endpoint or a queue
/// the candidate never serves means that path is untested there.
const MISSING_ENTRY_OPERATION: Severity = Severity::High;
/// A missing inner operation (client call, internal step) is a gap in
/// traces, but the entry point still shows up.
const MISSING_OPERATION: Severity = Severity::Medium;
/// The same operation recorded under another kind breaks service maps and
/// kind-filtered queries (e.g. SERVER-only latency SLOs).
const KIND_DIFFERS: Severity = Severity::Medium;
/// A candidate-only operation harms nothing in the baseline.
const CANDIDATE_ONLY_OPERATION: Severity = Severity::Info;
/// A span attribute the baseline has (http.route, db.system) missing breaks
/// trace queries and span-derived metrics grouped by it.
const MISSING_SPAN_ATTRIBUTE: Severity = Severity::Medium;

/// Operations by (name, kind).
pub(super) fn operations(
    service: &pb::ServiceFingerprint,
) -> BTreeMap<(&str, i32), &pb::SpanOperation> {
    service
        .span_operations
        .iter()
        .filter(|op| op.spans > 0)
        .map(|op| ((op.name.as_str(), op.kind), op))
        .collect()
}

pub(super) fn compare(pair: &Pair, out: &mut Vec<ParityFinding>) {
    let base_total = span_count(pair.baseline);
    let cand_total = span_count(pair.candidate);
    if cand_total == 0 {
        // No spans at all is the missing-traces finding, not one per operation.
        return;
    }
    let base_ops = operations(pair.baseline);
    let cand_ops = operations(pair.candidate);
    // Candidate operations that are a baseline operation under another kind.
    let mut rekinded: Vec<(&str, i32)> = Vec::new();
    for (&(name, kind), base) in &base_ops {
        if let Some(cand) = cand_ops.get(&(name, kind)) {
            attribute_keys(pair, base, cand, out);
            continue;
        }
        let other_kind = cand_ops
            .keys()
            .find(|(n, k)| *n == name && !base_ops.contains_key(&(name, *k)))
            .copied();
        if let Some((_, cand_kind)) = other_kind {
            rekinded.push((name, cand_kind));
            out.push(pair.finding(
                Dimension::SpanOperations,
                KIND_DIFFERS,
                name,
                (
                    span_kind::name(kind).to_owned(),
                    span_kind::name(cand_kind).to_owned(),
                ),
                pair.both(
                    "span kind",
                    span_kind::name(kind),
                    span_kind::name(cand_kind),
                ),
            ));
            continue;
        }
        let severity = if is_entry_kind(kind) {
            MISSING_ENTRY_OPERATION
        } else {
            MISSING_OPERATION
        };
        // Operations follow requests: a candidate that lost most of its
        // spans still served its requests.
        let expected = scale::expected_spans(base.spans, pair.baseline, pair.candidate);
        let severity = scale::unless_expected_few(severity, expected);
        let mut message = format!(
            "{} of {}'s spans, none in {}",
            super::pct(base.spans as f64 / base_total.max(1) as f64),
            pair.base_env(),
            pair.cand_env()
        );
        if let Some(expected) = expected {
            message.push_str(&format!(
                " where {} were expected",
                scale::count_text(expected)
            ));
        }
        out.push(pair.finding(
            Dimension::SpanOperations,
            severity,
            operation_subject(name, kind),
            present_absent(),
            message,
        ));
    }
    for &(name, kind) in cand_ops.keys() {
        if base_ops.contains_key(&(name, kind)) || rekinded.contains(&(name, kind)) {
            continue;
        }
        out.push(pair.finding(
            Dimension::SpanOperations,
            CANDIDATE_ONLY_OPERATION,
            operation_subject(name, kind),
            ("absent".to_owned(), "present".to_owned()),
            format!("operation recorded in {} only", pair.cand_env()),
        ));
    }
}

fn attribute_keys(
    pair: &Pair,
    base: &pb::SpanOperation,
    cand: &pb::SpanOperation,
    out: &mut Vec<ParityFinding>,
) {
    for (key, count) in &base.attribute_keys {
        if cand.attribute_keys.contains_key(key) {
            continue;
        }
        let severity = unless_scale(MISSING_SPAN_ATTRIBUTE, *count, base.spans, cand.spans);
        let message = format!(
            "attribute on {} of {}'s spans, absent in {}",
            super::pct(*count as f64 / base.spans.max(1) as f64),
            pair.base_env(),
            pair.cand_env()
        );
        out.push(pair.finding(
            Dimension::SpanAttributes,
            severity,
            format!("{}{{{key}}}", operation_subject(&base.name, base.kind)),
            present_absent(),
            message,
        ));
    }
}

/// (present, total) baseline operations in the candidate, for scores.
pub(super) fn operation_coverage(
    base: &pb::ServiceFingerprint,
    cand: Option<&pb::ServiceFingerprint>,
) -> (usize, usize) {
    let base_ops = operations(base);
    let cand_ops = cand.map(operations).unwrap_or_default();
    let present = base_ops
        .keys()
        .filter(|k| cand_ops.contains_key(*k))
        .count();
    (present, base_ops.len())
}
