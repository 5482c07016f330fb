//! Ingestion per request: each signal's items per 1,000 requests, candidate
//! against baseline, with spans adjusted for sampling. Absolute volume is
//! scale; volume per request is behaviour.
//!
//! Requests per service: the request-duration metric's count (metrics are
//! not sampled), else the sampling-adjusted SERVER spans (those without a
//! threshold counted as one each, which makes the ratio unadjusted); a
//! service with neither has no ratio. Items: spans adjusted for sampling
//! (Σ spans / probability over thresholds, plus spans without a threshold as
//! one each), metric data points, log records.

use std::collections::BTreeMap;

use otel_parity_proto::v1 as pb;

use super::Pair;
use super::missing_traces::FAR_FEWER_RATIO;
use crate::report::{Dimension, IngestionRatio, ParityFinding, Severity};

/// Volume per request outside the band: costs, quotas and pipeline load in
/// the candidate do not predict the baseline's, and a chatty or silent code
/// path often hides behind it. Medium; a collapse of traces is critical via
/// missing traces instead.
const OUTSIDE_BAND: Severity = Severity::Medium;
/// A traces ratio that rests on unknown sampling (spans without a threshold
/// counted as one) may be a sampler, not volume; the sampling dimension
/// reports sampler differences. Low.
const OUTSIDE_BAND_UNADJUSTED_TRACES: Severity = Severity::Low;
/// Metric data points follow instances × export intervals × series, not
/// requests: per request they differ with scale (a quieter staging exports
/// as often as prod). The ratio is reported; out of band it is info only.
const OUTSIDE_BAND_METRICS: Severity = Severity::Info;

/// An estimate that may rest on unknown adjusted counts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Estimate {
    /// The estimate.
    pub(super) value: f64,
    /// False when it rests on unknown adjusted counts.
    pub(super) adjusted: bool,
}

/// Ratios per signal ("traces", "metrics", "logs") where both sides' request
/// counts are known and the baseline sent the signal.
pub(super) fn ratios(pair: &Pair) -> BTreeMap<String, IngestionRatio> {
    let mut ratios = BTreeMap::new();
    let (Some(base_req), Some(cand_req)) = (requests(pair.baseline), requests(pair.candidate))
    else {
        return ratios;
    };
    for signal in ["traces", "metrics", "logs"] {
        let base = items(pair.baseline, signal);
        let cand = items(pair.candidate, signal);
        if base.value <= 0.0 {
            continue;
        }
        let baseline_per_1k = base.value / base_req.value * 1000.0;
        let candidate_per_1k = cand.value / cand_req.value * 1000.0;
        let ratio = candidate_per_1k / baseline_per_1k;
        // Counts at the ends of f64 (no fingerprint of real traffic) give no ratio.
        if ![baseline_per_1k, candidate_per_1k, ratio]
            .iter()
            .all(|v| v.is_finite())
        {
            continue;
        }
        ratios.insert(
            signal.to_owned(),
            IngestionRatio {
                baseline_per_1k,
                candidate_per_1k,
                ratio,
                adjusted: base.adjusted && cand.adjusted && base_req.adjusted && cand_req.adjusted,
            },
        );
    }
    ratios
}

/// Records signals whose ratio is outside `band`. A signal the candidate
/// does not send at all is left to its dimension (metrics missing, logs
/// without records, missing traces), and so are traces far below the band.
pub(super) fn compare(
    pair: &Pair,
    ratios: &BTreeMap<String, IngestionRatio>,
    band: (f64, f64),
    out: &mut Vec<ParityFinding>,
) {
    for (signal, r) in ratios {
        let inside = r.ratio >= band.0 && r.ratio <= band.1;
        let covered =
            r.candidate_per_1k <= 0.0 || (signal == "traces" && r.ratio < FAR_FEWER_RATIO);
        if inside || covered || !r.ratio.is_finite() {
            continue;
        }
        let what = match signal.as_str() {
            "traces" => "spans (adjusted for sampling)",
            "metrics" => "metric data points",
            _ => "log records",
        };
        let mut message = format!(
            "{what} per 1k requests: {:.1} in {}, {:.1} in {} (×{:.2}, band {}–{})",
            r.baseline_per_1k,
            pair.base_env(),
            r.candidate_per_1k,
            pair.cand_env(),
            r.ratio,
            band.0,
            band.1
        );
        if !r.adjusted {
            message.push_str(
                "; not fully adjusted: some request counts or sampling thresholds are unknown",
            );
        }
        let severity = match signal.as_str() {
            "metrics" => OUTSIDE_BAND_METRICS,
            "traces" if !r.adjusted => OUTSIDE_BAND_UNADJUSTED_TRACES,
            _ => OUTSIDE_BAND,
        };
        out.push(pair.finding(
            Dimension::Ingestion,
            severity,
            signal.as_str(),
            (
                format!("{:.1} per 1k requests", r.baseline_per_1k),
                format!("{:.1} per 1k requests", r.candidate_per_1k),
            ),
            message,
        ));
    }
}

/// Requests the service served over the window.
pub(super) fn requests(service: &pb::ServiceFingerprint) -> Option<Estimate> {
    let sampling = service.sampling.as_ref()?;
    if sampling.request_metric_count > 0 {
        return Some(Estimate {
            value: sampling.request_metric_count as f64,
            adjusted: true,
        });
    }
    let unknown = sampling.server_spans_without_threshold as f64;
    let value = sampling.server_spans_adjusted + unknown;
    // Fewer than one request is no estimate (each span stands for at least
    // itself): dividing by it would make any volume infinite.
    (value >= 1.0 && value.is_finite()).then_some(Estimate {
        value,
        adjusted: sampling.server_spans_without_threshold == 0,
    })
}

/// A signal's items, spans adjusted for sampling.
fn items(service: &pb::ServiceFingerprint, signal: &str) -> Estimate {
    let ingestion = service.ingestion.as_ref();
    let raw = |s: Option<&pb::SignalIngestion>| s.map_or(0, |s| s.items) as f64;
    match signal {
        "traces" => match &service.sampling {
            Some(sampling)
                if !sampling.thresholds.is_empty() || sampling.spans_without_threshold > 0 =>
            {
                adjusted_spans(sampling)
            }
            _ => Estimate {
                value: raw(ingestion.and_then(|i| i.traces.as_ref())),
                adjusted: false,
            },
        },
        "metrics" => Estimate {
            value: raw(ingestion.and_then(|i| i.metrics.as_ref())),
            adjusted: true,
        },
        _ => Estimate {
            value: raw(ingestion.and_then(|i| i.logs.as_ref())),
            adjusted: true,
        },
    }
}

/// The smallest sampling probability a threshold can express: OpenTelemetry's
/// thresholds have 56 bits, so 2^-56.
const MIN_PROBABILITY: f64 = 1.0 / (1u64 << 56) as f64;

/// Σ spans / probability over thresholds, plus spans without a threshold
/// counted as one each (which leaves the estimate unadjusted).
pub(super) fn adjusted_spans(sampling: &pb::Sampling) -> Estimate {
    let mut value = 0.0;
    let mut adjusted = sampling.spans_without_threshold == 0;
    for t in &sampling.thresholds {
        if (MIN_PROBABILITY..=1.0).contains(&t.probability) {
            value += t.spans as f64 / t.probability;
        } else {
            // No threshold gives this probability (0, a tiny one that would make
            // the estimate infinite, NaN): a corrupt entry.
            value += t.spans as f64;
            adjusted = false;
        }
    }
    Estimate {
        value: value + sampling.spans_without_threshold as f64,
        adjusted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_no_threshold_gives_count_spans_unadjusted_not_infinitely() {
        // Found by fuzzing (`push`): a pushed probability of 1e-320 made the spans per 1k
        // requests infinite, which the JSON report wrote as null.
        let threshold = |probability: f64, spans: u64| pb::ThresholdCount {
            threshold: "c".into(),
            probability,
            spans,
        };
        let sampling = pb::Sampling {
            thresholds: vec![
                threshold(0.25, 4),
                threshold(1e-320, 3),
                threshold(f64::NAN, 2),
            ],
            ..Default::default()
        };
        let estimate = adjusted_spans(&sampling);
        assert_eq!(estimate.value, 16.0 + 3.0 + 2.0);
        assert!(!estimate.adjusted);

        let smallest = pb::Sampling {
            thresholds: vec![threshold(MIN_PROBABILITY, 1)],
            ..Default::default()
        };
        let estimate = adjusted_spans(&smallest);
        assert_eq!(estimate.value, (1u64 << 56) as f64);
        assert!(estimate.adjusted);
    }
}
