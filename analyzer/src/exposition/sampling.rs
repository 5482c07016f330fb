//! Each environment's effective sampling rate per service, for the
//! `otel_parity_effective_sampling_rate` gauge: the dashboard's sampling row
//! shows the baseline's and the candidate's side by side.

use otel_parity_proto::v1 as pb;

/// Where a service's effective sampling rate was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateSource {
    /// SERVER spans ÷ requests counted by the request-duration metric: what
    /// was really kept, whatever sampled it (tail samplers included).
    Requests,
    /// The spans' `ot=th:…` thresholds: spans kept ÷ spans they represent
    /// (their adjusted counts), over the spans that carry one.
    Threshold,
}

impl RateSource {
    /// The `source` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RateSource::Requests => "requests",
            RateSource::Threshold => "threshold",
        }
    }
}

/// One service's effective sampling rate in one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSampling {
    /// The service key.
    pub service: String,
    /// The rate: 1 keeps everything.
    pub rate: f64,
    /// Where it was read from.
    pub source: RateSource,
    /// Spans the rate covers (to keep the busiest services under the cap).
    pub spans: u64,
}

/// The effective sampling rates of one environment's services.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentSampling {
    /// The environment.
    pub environment: String,
    /// Services with a known rate, busiest first, at most the services cap.
    pub services: Vec<ServiceSampling>,
}

impl EnvironmentSampling {
    /// The rates of `fingerprint`'s services: from counted requests where
    /// known, else from thresholds; services with neither are left out, and
    /// past `max_services` the ones with the fewest spans.
    pub fn of(
        environment: &str,
        fingerprint: &pb::EnvironmentFingerprint,
        max_services: usize,
    ) -> Self {
        let mut services: Vec<ServiceSampling> = fingerprint
            .services
            .iter()
            .filter_map(|(key, service)| {
                let sampling = service.sampling.as_ref()?;
                let (rate, source) = effective_rate(sampling)?;
                let spans = sampling
                    .thresholds
                    .iter()
                    .map(|t| t.spans)
                    .sum::<u64>()
                    .saturating_add(sampling.spans_without_threshold);
                Some(ServiceSampling {
                    service: key.clone(),
                    rate,
                    source,
                    spans,
                })
            })
            .collect();
        services.sort_by(|a, b| {
            b.spans
                .cmp(&a.spans)
                .then_with(|| a.service.cmp(&b.service))
        });
        services.truncate(max_services);
        EnvironmentSampling {
            environment: environment.to_owned(),
            services,
        }
    }
}

/// The rate that was in effect: SERVER spans per counted request where the
/// service reports both, else kept ÷ represented spans over the thresholds.
pub fn effective_rate(sampling: &pb::Sampling) -> Option<(f64, RateSource)> {
    let inferred = sampling.inferred_rate;
    if inferred > 0.0 && inferred.is_finite() {
        return Some((inferred, RateSource::Requests));
    }
    let (kept, represented) = sampling
        .thresholds
        .iter()
        .filter(|t| t.probability > 0.0 && t.probability <= 1.0)
        .fold((0.0, 0.0), |(kept, represented), t| {
            let spans = t.spans as f64;
            (kept + spans, represented + spans / t.probability)
        });
    (kept > 0.0).then(|| (kept / represented, RateSource::Threshold))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threshold(th: &str, probability: f64, spans: u64) -> pb::ThresholdCount {
        pb::ThresholdCount {
            threshold: th.into(),
            probability,
            spans,
        }
    }

    #[test]
    fn counted_requests_win_over_thresholds() {
        let sampling = pb::Sampling {
            thresholds: vec![threshold("c", 0.25, 40)],
            server_spans: 10,
            request_metric_count: 100,
            inferred_rate: 0.1,
            ..Default::default()
        };
        assert_eq!(effective_rate(&sampling), Some((0.1, RateSource::Requests)));
    }

    #[test]
    fn thresholds_give_kept_over_represented_spans() {
        // 30 spans at 25% stand for 120, 10 at 100% for 10: 40 of 130 kept.
        let sampling = pb::Sampling {
            thresholds: vec![threshold("0", 1.0, 10), threshold("c", 0.25, 30)],
            spans_without_threshold: 5,
            ..Default::default()
        };
        let (rate, source) = effective_rate(&sampling).unwrap();
        assert_eq!(source, RateSource::Threshold);
        assert!((rate - 40.0 / 130.0).abs() < 1e-12, "{rate}");
        // Neither a request count nor a threshold: unknown, not 1.
        let unknown = pb::Sampling {
            spans_without_threshold: 7,
            ..Default::default()
        };
        assert_eq!(effective_rate(&unknown), None);
    }

    #[test]
    fn the_busiest_services_are_kept_under_the_cap() {
        let service = |spans| pb::ServiceFingerprint {
            sampling: Some(pb::Sampling {
                thresholds: vec![threshold("8", 0.5, spans)],
                ..Default::default()
            }),
            ..Default::default()
        };
        let fingerprint = pb::EnvironmentFingerprint {
            services: [
                ("shop/ad".to_owned(), service(5)),
                ("shop/cart".to_owned(), service(50)),
                ("shop/checkout".to_owned(), service(20)),
                ("shop/quote".to_owned(), pb::ServiceFingerprint::default()),
            ]
            .into(),
            overflow: None,
        };
        let sampling = EnvironmentSampling::of("prod", &fingerprint, 2);
        let kept: Vec<_> = sampling
            .services
            .iter()
            .map(|s| (s.service.as_str(), s.rate, s.spans))
            .collect();
        assert_eq!(kept, [("shop/cart", 0.5, 50), ("shop/checkout", 0.5, 20)]);
    }
}
