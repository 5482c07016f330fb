//! Scale: when a smaller candidate explains an absence.
//!
//! An item absent from the candidate is info instead of a finding only when
//! fewer than [`MIN_EXPECTED`] occurrences of it were *expected* there. The
//! expectation is the baseline's rate per unit times the candidate's units,
//! in the units that drive the item's presence:
//!
//! - a metric: **exports**. An SDK exports every cumulative instrument it has
//!   recorded at every collection, so a metric in 90% of the baseline's
//!   exports is expected in 90% of the candidate's, however many series or
//!   requests either side has (`MetricShape.exports`; the candidate's
//!   exports are those of its most exported metric);
//! - a span operation or a log event: **requests**, counted by the
//!   request-duration metric (else SERVER spans adjusted for sampling), with
//!   the spans expected in the candidate thinned by its own sampling;
//! - an attribute key: the spans of its operation, the data points of its
//!   metric; an edge: the spans of its child operation; a scope: the scope
//!   blocks.
//!
//! Without the unit on one side (older snapshots, no request count) the
//! expectation falls back to the item's share of all occurrences.

use otel_parity_proto::v1 as pb;

use super::ingestion::{adjusted_spans, requests};
use super::span_count;
use crate::report::Severity;

/// Fewer occurrences than this expected at the candidate's volume make an
/// absence plausible by chance (a Poisson count with mean 5 is 0 less than
/// 1% of the time).
pub(super) const MIN_EXPECTED: f64 = 5.0;

/// Occurrences of an item expected in the candidate: the baseline's `count`
/// per `base_units` times `cand_units`. None when either side has no units:
/// a candidate that sent nothing of the kind is not a matter of scale.
pub(super) fn expected(count: f64, base_units: f64, cand_units: f64) -> Option<f64> {
    let usable = |u: f64| u > 0.0 && u.is_finite();
    (usable(base_units) && usable(cand_units)).then(|| count / base_units * cand_units)
}

/// `severity`, or info when fewer than [`MIN_EXPECTED`] occurrences were
/// expected (None: no expectation, the absence counts).
pub(super) fn unless_expected_few(severity: Severity, expected: Option<f64>) -> Severity {
    match expected {
        Some(e) if e < MIN_EXPECTED => Severity::Info,
        _ => severity,
    }
}

/// `severity`, or info when the item (`count` of the baseline's `total`
/// occurrences) is expected fewer than [`MIN_EXPECTED`] times among the
/// candidate's `candidate_total`. A candidate with none at all is not a
/// matter of scale.
pub(super) fn unless_scale(
    severity: Severity,
    count: u64,
    total: u64,
    candidate_total: u64,
) -> Severity {
    unless_expected_few(
        severity,
        expected(count as f64, total as f64, candidate_total as f64),
    )
}

/// Exports (collections × instances) of a service's metrics: those of its
/// most exported metric. 0 when the fingerprint does not count exports.
pub(super) fn metric_exports(service: &pb::ServiceFingerprint) -> u64 {
    service
        .metrics
        .values()
        .map(|m| m.exports)
        .max()
        .unwrap_or(0)
}

/// How often a baseline metric, absent from the candidate, was expected
/// there, and in which unit: `(expected, "exports")`.
pub(super) fn expected_metric(
    metric: &pb::MetricShape,
    baseline: &pb::ServiceFingerprint,
    candidate: &pb::ServiceFingerprint,
) -> (Option<f64>, &'static str) {
    let (base, cand) = (metric_exports(baseline), metric_exports(candidate));
    if metric.exports > 0 && base > 0 && cand > 0 {
        return (
            expected(metric.exports as f64, base as f64, cand as f64),
            "exports",
        );
    }
    let points =
        |s: &pb::ServiceFingerprint| s.metrics.values().map(|m| m.data_points).sum::<u64>();
    (
        expected(
            metric.data_points as f64,
            points(baseline) as f64,
            points(candidate) as f64,
        ),
        "data points",
    )
}

/// The share of a service's spans it keeps: spans over their adjusted
/// count where thresholds say, else the inferred rate, else 1.
fn kept_share(service: &pb::ServiceFingerprint) -> f64 {
    let Some(sampling) = &service.sampling else {
        return 1.0;
    };
    let raw: u64 =
        sampling.thresholds.iter().map(|t| t.spans).sum::<u64>() + sampling.spans_without_threshold;
    let adjusted = adjusted_spans(sampling);
    if !sampling.thresholds.is_empty() && adjusted.value > 0.0 && raw > 0 {
        return (raw as f64 / adjusted.value).clamp(0.0, 1.0);
    }
    if sampling.inferred_rate > 0.0 && sampling.inferred_rate.is_finite() {
        return sampling.inferred_rate.min(1.0);
    }
    1.0
}

/// Spans of an operation (`spans` in the baseline) expected in the
/// candidate: per request, adjusted for both sides' sampling; else as a
/// share of the service's spans.
pub(super) fn expected_spans(
    spans: u64,
    baseline: &pb::ServiceFingerprint,
    candidate: &pb::ServiceFingerprint,
) -> Option<f64> {
    if let (Some(base_req), Some(cand_req)) = (requests(baseline), requests(candidate)) {
        let per_request = spans as f64 / kept_share(baseline) / base_req.value;
        return Some(per_request * cand_req.value * kept_share(candidate));
    }
    expected(
        spans as f64,
        span_count(baseline) as f64,
        span_count(candidate) as f64,
    )
}

/// Log records of one kind (`count` in the baseline) expected in the
/// candidate: per request where both sides count requests, else as a share
/// of the records.
pub(super) fn expected_records(
    count: u64,
    baseline: &pb::ServiceFingerprint,
    candidate: &pb::ServiceFingerprint,
) -> Option<f64> {
    if let (Some(base_req), Some(cand_req)) = (requests(baseline), requests(candidate)) {
        return expected(count as f64, base_req.value, cand_req.value);
    }
    let records = |s: &pb::ServiceFingerprint| s.logs.as_ref().map_or(0, |l| l.records);
    expected(
        count as f64,
        records(baseline) as f64,
        records(candidate) as f64,
    )
}

/// "≈3.2" for messages.
pub(super) fn count_text(expected: f64) -> String {
    if expected >= 100.0 {
        format!("≈{expected:.0}")
    } else {
        format!("≈{expected:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_expected_is_info_none_or_many_is_not() {
        let high = Severity::High;
        assert_eq!(unless_expected_few(high, Some(4.9)), Severity::Info);
        assert_eq!(unless_expected_few(high, Some(5.0)), high);
        assert_eq!(unless_expected_few(high, None), high);
        // A candidate without any units sent nothing of the kind: not scale.
        assert_eq!(expected(3.0, 10.0, 0.0), None);
        assert_eq!(expected(3.0, 0.0, 10.0), None);
        assert_eq!(unless_scale(high, 1, 100, 0), high);
        assert_eq!(unless_scale(high, 1, 100, 400), Severity::Info);
        assert_eq!(unless_scale(high, 10, 100, 400), high);
    }

    fn metric(exports: u64, points: u64) -> pb::MetricShape {
        pb::MetricShape {
            exports,
            data_points: points,
            ..Default::default()
        }
    }

    fn service(metrics: &[(&str, u64, u64)]) -> pb::ServiceFingerprint {
        pb::ServiceFingerprint {
            metrics: metrics
                .iter()
                .map(|(n, e, p)| ((*n).to_owned(), metric(*e, *p)))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_metric_is_expected_in_exports_not_in_data_points() {
        // Prod: a one-series counter among 200 histogram series, both in each
        // of 3 instances × 60 exports; staging: 20 series, 1 × 20 exports.
        let prod = service(&[
            ("app.orders.placed", 180, 180),
            ("http.server.request.duration", 180, 36_000),
        ]);
        let staging = service(&[("http.server.request.duration", 20, 400)]);
        let (expected, unit) = expected_metric(&prod.metrics["app.orders.placed"], &prod, &staging);
        assert_eq!(unit, "exports");
        assert_eq!(expected, Some(20.0));
        // By data points it would have been 400 / 36,180 of 180: ≈2, "chance".
        let legacy = |s: &pb::ServiceFingerprint| {
            let mut s = s.clone();
            s.metrics.values_mut().for_each(|m| m.exports = 0);
            s
        };
        let (by_points, unit) = expected_metric(
            &legacy(&prod).metrics["app.orders.placed"],
            &legacy(&prod),
            &legacy(&staging),
        );
        assert_eq!(unit, "data points");
        assert!(by_points.is_some_and(|e| e < 2.0), "{by_points:?}");
    }

    #[test]
    fn spans_are_expected_per_request_through_both_samplers() {
        let service = |spans: u64, threshold: Option<(&str, f64)>, requests: u64| {
            let sampling = match threshold {
                Some((th, p)) => pb::Sampling {
                    thresholds: vec![pb::ThresholdCount {
                        threshold: th.into(),
                        probability: p,
                        spans,
                    }],
                    request_metric_count: requests,
                    ..Default::default()
                },
                None => pb::Sampling {
                    spans_without_threshold: spans,
                    request_metric_count: requests,
                    ..Default::default()
                },
            };
            pb::ServiceFingerprint {
                sampling: Some(sampling),
                ..Default::default()
            }
        };
        // Prod keeps 25%: 250 spans of 1,000 requests, i.e. one span per
        // request; staging keeps everything of 40 requests: 40 expected.
        let prod = service(250, Some(("c", 0.25)), 1_000);
        let staging = service(40, None, 40);
        let e = expected_spans(250, &prod, &staging).expect("requests known");
        assert!((e - 40.0).abs() < 1e-9, "{e}");
        // A candidate that lost most of its spans still served its requests.
        let thin = service(2, None, 40);
        let e = expected_spans(250, &prod, &thin).expect("requests known");
        assert!((e - 40.0).abs() < 1e-9, "{e}");
    }
}
