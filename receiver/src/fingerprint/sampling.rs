//! Sampling as OpenTelemetry records it: the threshold in the W3C tracestate's
//! `ot` member (`ot=th:T`), and the rate inferred from SERVER spans against
//! requests counted by the request-duration metric.

use otel_parity_proto::v1 as pb;

use super::table::CountTable;

/// Threshold values span 56 bits: T/2^56 of traces are rejected.
const MAX_THRESHOLD: u64 = 1 << 56;
/// A threshold has at most 14 hex digits.
const THRESHOLD_DIGITS: usize = 14;
/// Distinct thresholds kept per service (a handful is normal).
const MAX_THRESHOLDS: usize = otel_parity_model::limits::MAX_SAMPLING_THRESHOLDS;

/// A sampling threshold from tracestate, in its normalized hex form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    digits: [u8; THRESHOLD_DIGITS],
    len: usize,
    value: u64,
}

impl Threshold {
    /// Lower-case hex without trailing zeros; "0" for 100% sampling.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.digits[..self.len]).unwrap_or("0")
    }

    /// Sampling probability: (2^56 − T) / 2^56.
    pub fn probability(&self) -> f64 {
        (MAX_THRESHOLD - self.value) as f64 / MAX_THRESHOLD as f64
    }

    /// Parses a `th` value: 1–14 hex digits, padded right with zeros.
    pub fn parse_th(th: &str) -> Option<Threshold> {
        if th.is_empty() || th.len() > THRESHOLD_DIGITS {
            return None;
        }
        let mut value = 0u64;
        for c in th.bytes() {
            let digit = (c as char).to_digit(16)?;
            value = value << 4 | u64::from(digit);
        }
        value <<= 4 * (THRESHOLD_DIGITS - th.len());
        Some(Threshold::from_value(value))
    }

    /// Converts the legacy `p:N` (probability 2^-N) to a threshold.
    pub fn from_legacy_p(p: &str) -> Option<Threshold> {
        let n: u32 = p.parse().ok()?;
        if n > 56 {
            return None;
        }
        Some(Threshold::from_value(MAX_THRESHOLD - (MAX_THRESHOLD >> n)))
    }

    fn from_value(value: u64) -> Threshold {
        let mut digits = [b'0'; THRESHOLD_DIGITS];
        for (i, digit) in digits.iter_mut().enumerate() {
            let nibble = (value >> (4 * (THRESHOLD_DIGITS - 1 - i))) & 0xf;
            *digit = b"0123456789abcdef"[nibble as usize];
        }
        let len = digits.iter().rposition(|d| *d != b'0').map_or(1, |i| i + 1);
        Threshold { digits, len, value }
    }
}

/// The threshold in a W3C tracestate header value, if its `ot` member has one.
pub fn threshold_from_tracestate(tracestate: &str) -> Option<Threshold> {
    let ot = tracestate
        .split(',')
        .map(str::trim)
        .find_map(|member| member.strip_prefix("ot="))?;
    let mut legacy = None;
    for entry in ot.split(';') {
        if let Some(th) = entry.strip_prefix("th:") {
            return Threshold::parse_th(th);
        }
        if let Some(p) = entry.strip_prefix("p:") {
            legacy = Threshold::from_legacy_p(p);
        }
    }
    legacy
}

/// How a service's spans were sampled over the window.
#[derive(Debug, Default)]
pub struct SamplingState {
    /// The last tracestate parsed and its threshold: spans of one batch
    /// mostly share their tracestate, so most spans skip parsing.
    last_tracestate: Vec<u8>,
    last_threshold: Option<Threshold>,
    thresholds: CountTable,
    spans_without_threshold: u64,
    server_spans: u64,
    server_spans_adjusted: f64,
    server_spans_without_threshold: u64,
}

impl SamplingState {
    /// Records one span's tracestate; `server` for SERVER spans.
    #[inline]
    pub fn observe_span(&mut self, tracestate: &[u8], server: bool) {
        let threshold = if tracestate.is_empty() {
            None
        } else if tracestate == self.last_tracestate.as_slice() {
            self.last_threshold
        } else {
            let threshold = std::str::from_utf8(tracestate)
                .ok()
                .and_then(threshold_from_tracestate);
            self.last_tracestate.clear();
            self.last_tracestate.extend_from_slice(tracestate);
            self.last_threshold = threshold;
            threshold
        };
        match threshold {
            Some(t) => {
                // A new threshold past the cap is counted as "without".
                if !self.thresholds.count(t.as_str().as_bytes(), MAX_THRESHOLDS) {
                    self.spans_without_threshold += 1;
                }
            }
            None => self.spans_without_threshold += 1,
        }
        if server {
            self.server_spans += 1;
            match threshold {
                Some(t) if t.probability() > 0.0 => {
                    self.server_spans_adjusted += 1.0 / t.probability()
                }
                _ => self.server_spans_without_threshold += 1,
            }
        }
    }

    /// The snapshot form, given the requests the service's request-duration
    /// metric counted over the same window.
    pub fn to_proto(&self, request_metric_count: u64) -> pb::Sampling {
        let mut thresholds: Vec<pb::ThresholdCount> = self
            .thresholds
            .iter_named()
            .filter_map(|(th, spans)| {
                let t = Threshold::parse_th(&th)?;
                Some(pb::ThresholdCount {
                    threshold: th,
                    probability: t.probability(),
                    spans: *spans,
                })
            })
            .collect();
        thresholds.sort_by(|a, b| a.threshold.cmp(&b.threshold));
        let inferred_rate = if self.server_spans > 0 && request_metric_count > 0 {
            self.server_spans as f64 / request_metric_count as f64
        } else {
            0.0
        };
        pb::Sampling {
            thresholds,
            spans_without_threshold: self.spans_without_threshold,
            server_spans: self.server_spans,
            server_spans_adjusted: self.server_spans_adjusted,
            server_spans_without_threshold: self.server_spans_without_threshold,
            request_metric_count,
            inferred_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probability(tracestate: &str) -> Option<f64> {
        threshold_from_tracestate(tracestate).map(|t| t.probability())
    }

    #[test]
    fn thresholds_follow_the_specification_examples() {
        assert_eq!(probability("ot=th:0"), Some(1.0));
        assert_eq!(probability("ot=th:8"), Some(0.5));
        assert_eq!(probability("ot=th:c"), Some(0.25));
        assert_eq!(
            probability("ot=th:fd70a4"),
            Some((0x1000000 - 0xfd70a4) as f64 / 16777216.0)
        );
    }

    #[test]
    fn threshold_is_found_among_other_members_and_subkeys() {
        let t =
            threshold_from_tracestate("vendor=x, ot=rv:abcdef12345678;th:c000, other=1").unwrap();
        assert_eq!(t.as_str(), "c");
        assert_eq!(t.probability(), 0.25);
    }

    #[test]
    fn missing_or_malformed_threshold_is_unknown_not_one() {
        assert_eq!(probability(""), None);
        assert_eq!(probability("vendor=x"), None);
        assert_eq!(probability("ot=rv:abcdef12345678"), None);
        assert_eq!(probability("ot=th:xyz"), None);
        assert_eq!(probability("ot=th:123456789abcdef0"), None);
    }

    #[test]
    fn legacy_p_value_is_converted_to_a_threshold() {
        let t = threshold_from_tracestate("ot=p:2").unwrap();
        assert_eq!(t.as_str(), "c");
        assert_eq!(t.probability(), 0.25);
    }

    #[test]
    fn server_spans_are_adjusted_only_where_the_threshold_is_known() {
        let mut s = SamplingState::default();
        for _ in 0..4 {
            s.observe_span(b"ot=th:c", true);
        }
        s.observe_span(b"", true);
        s.observe_span(b"ot=th:c", false);
        let p = s.to_proto(20);
        assert_eq!(p.server_spans, 5);
        assert_eq!(p.server_spans_adjusted, 16.0);
        assert_eq!(p.server_spans_without_threshold, 1);
        assert_eq!(p.spans_without_threshold, 1);
        assert_eq!(p.thresholds.len(), 1);
        assert_eq!(p.thresholds[0].spans, 5);
        assert_eq!(p.inferred_rate, 0.25);
    }
}
