//! Scores: telemetry parity coverage (the SLI dashboards track), per-service
//! coverages and ingestion ratios, and the composite parity score.
//!
//! Composite: every dimension starts at 100 and loses, per open (or
//! acceptance-expired) finding in it, 50 for critical, 20 for high, 8 for
//! medium, 2 for low and 0 for info, down to 0; accepted findings cost
//! nothing. The composite is the plain mean of all fourteen parts, so one
//! dimension in ruins costs at most 100/14 ≈ 7.1 points and a report with
//! findings everywhere is needed to approach 0.

use std::collections::BTreeMap;

use otel_parity_proto::v1 as pb;

use super::traces::{operation_coverage, operations};
use crate::report::{Dimension, IngestionRatio, ParityFinding, Scores, ServiceScores};

pub(super) fn score(
    baseline: &pb::EnvironmentFingerprint,
    candidate: &pb::EnvironmentFingerprint,
    findings: &[ParityFinding],
    mut ingestion: BTreeMap<String, BTreeMap<String, IngestionRatio>>,
) -> Scores {
    let mut with_metrics = 0usize;
    let mut covered = 0usize;
    let mut services = BTreeMap::new();
    for (key, base) in &baseline.services {
        let cand = candidate.services.get(key);
        let (present, total) = super::metrics::name_coverage(
            &base.metrics,
            cand.map_or(&BTreeMap::new(), |c| &c.metrics),
        );
        if total > 0 {
            with_metrics += 1;
            if present == total && cand.is_some() {
                covered += 1;
            }
        }
        services.insert(
            key.clone(),
            ServiceScores {
                metric_coverage: share(present, total),
                span_coverage: {
                    let (p, t) = operation_coverage(base, cand);
                    share(p, t)
                },
                attribute_key_coverage: {
                    let (p, t) = attribute_key_coverage(base, cand);
                    share(p, t)
                },
                log_event_coverage: {
                    let (p, t) = log_event_coverage(base, cand);
                    share(p, t)
                },
                ingestion: ingestion.remove(key).unwrap_or_default(),
            },
        );
    }
    let parts: BTreeMap<String, f64> = Dimension::ALL
        .iter()
        .map(|dimension| {
            let penalty: f64 = findings
                .iter()
                .filter(|f| f.dimension == *dimension && f.status.penalizes())
                .map(|f| f.severity.penalty())
                .sum();
            (dimension.as_str().to_owned(), (100.0 - penalty).max(0.0))
        })
        .collect();
    let composite = parts.values().sum::<f64>() / parts.len() as f64;
    Scores {
        coverage: share(covered, with_metrics),
        services,
        composite,
        parts,
    }
}

/// present / total, 1 when there is nothing to cover.
fn share(present: usize, total: usize) -> f64 {
    if total == 0 {
        1.0
    } else {
        present as f64 / total as f64
    }
}

/// Baseline attribute keys, per metric and per span operation, that the
/// candidate has on the same metric or operation (a metric and its keys
/// renamed by the conventions count). (Resource and log keys are left out:
/// they have no findings of their own to explain a gap.)
fn attribute_key_coverage(
    base: &pb::ServiceFingerprint,
    cand: Option<&pb::ServiceFingerprint>,
) -> (usize, usize) {
    let (mut present, mut total) = (0, 0);
    for (name, metric) in &base.metrics {
        let cand_metric =
            cand.and_then(|c| super::metrics::candidate_metric(name, &base.metrics, &c.metrics));
        for key in metric.attribute_keys.keys() {
            total += 1;
            let found = cand_metric.as_ref().is_some_and(|(m, renamed)| {
                m.attribute_keys.contains_key(key)
                    || renamed
                        .as_ref()
                        .is_some_and(|r| r.renamed_key(key, m).is_some())
            });
            if found {
                present += 1;
            }
        }
    }
    let cand_ops = cand.map(operations).unwrap_or_default();
    for (op_key, op) in operations(base) {
        let cand_op = cand_ops.get(&op_key);
        for key in op.attribute_keys.keys() {
            total += 1;
            if cand_op.is_some_and(|c| c.attribute_keys.contains_key(key)) {
                present += 1;
            }
        }
    }
    (present, total)
}

fn log_event_coverage(
    base: &pb::ServiceFingerprint,
    cand: Option<&pb::ServiceFingerprint>,
) -> (usize, usize) {
    let Some(base_logs) = &base.logs else {
        return (0, 0);
    };
    let cand_events = cand.and_then(|c| c.logs.as_ref()).map(|l| &l.event_names);
    let present = base_logs
        .event_names
        .keys()
        .filter(|e| cand_events.is_some_and(|c| c.contains_key(*e)))
        .count();
    (present, base_logs.event_names.len())
}
