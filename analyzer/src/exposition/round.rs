//! What one evaluation round puts on `/metrics`: per pair, its coverage,
//! score, findings (by severity and dimension, and by service), ingestion
//! ratios and missing traces; per environment, each service's effective
//! sampling rate.

use std::collections::BTreeMap;

use otel_parity_compare::report::{Dimension, Report, Severity};

use super::labels::{
    FindingLabels, PairLabels, ResultLabels, SamplingLabels, ServiceFindingLabels, ServiceLabels,
    SignalLabels,
};
use super::sampling::EnvironmentSampling;
use super::{AnalyzerMetrics, OTHER_SERVICES};

impl AnalyzerMetrics {
    /// Replaces the per-pair and per-environment gauges with one evaluation
    /// round's reports and sampling rates, and counts its comparison events.
    /// Pairs and environments no longer evaluated disappear.
    pub fn record_round(
        &self,
        reports: &[Report],
        sampling: &[EnvironmentSampling],
        now_unix_seconds: f64,
    ) {
        self.coverage.clear();
        self.score.clear();
        self.service_coverage.clear();
        self.ingestion_ratio.clear();
        self.findings.clear();
        self.service_findings.clear();
        self.traces_missing.clear();
        self.last_evaluation.clear();
        self.sampling_rate.clear();
        for report in reports {
            self.record_report(report, now_unix_seconds);
        }
        for environment in sampling {
            for service in &environment.services {
                let labels = SamplingLabels {
                    environment: environment.environment.clone(),
                    service: service.service.clone(),
                    source: service.source.as_str().to_owned(),
                };
                self.sampling_rate.get_or_create(&labels).set(service.rate);
            }
        }
    }

    fn record_report(&self, report: &Report, now_unix_seconds: f64) {
        let pair = PairLabels {
            baseline: report.baseline.clone(),
            candidate: report.candidate.clone(),
        };
        self.coverage
            .get_or_create(&pair)
            .set(report.scores.coverage);
        self.score.get_or_create(&pair).set(report.scores.composite);
        self.last_evaluation
            .get_or_create(&pair)
            .set(now_unix_seconds);
        let service_labels = |service: &str| ServiceLabels {
            baseline: report.baseline.clone(),
            candidate: report.candidate.clone(),
            service: service.to_owned(),
        };
        // Both results exist from the first evaluation, so rate() sees the
        // first uncovered service too.
        for result in ["covered", "uncovered"] {
            let _ = self.comparisons.get_or_create(&ResultLabels {
                baseline: report.baseline.clone(),
                candidate: report.candidate.clone(),
                result: result.to_owned(),
            });
        }
        for (service, scores) in &report.scores.services {
            self.service_coverage
                .get_or_create(&service_labels(service))
                .set(scores.metric_coverage);
            for (signal, ratio) in &scores.ingestion {
                let labels = SignalLabels {
                    baseline: report.baseline.clone(),
                    candidate: report.candidate.clone(),
                    service: service.clone(),
                    signal: signal.clone(),
                };
                if ratio.ratio.is_finite() {
                    self.ingestion_ratio.get_or_create(&labels).set(ratio.ratio);
                }
            }
            self.traces_missing
                .get_or_create(&service_labels(service))
                .set(0);
            let result = if scores.metric_coverage >= 1.0 {
                "covered"
            } else {
                "uncovered"
            };
            self.comparisons
                .get_or_create(&ResultLabels {
                    baseline: report.baseline.clone(),
                    candidate: report.candidate.clone(),
                    result: result.to_owned(),
                })
                .inc();
        }
        // Every severity and dimension is present (0 when none) so that
        // alert expressions never see an absent series.
        for severity in Severity::ALL {
            for dimension in Dimension::ALL {
                let open = report
                    .findings
                    .iter()
                    .filter(|f| {
                        f.severity == severity && f.dimension == dimension && f.status.penalizes()
                    })
                    .count();
                let labels = FindingLabels {
                    baseline: report.baseline.clone(),
                    candidate: report.candidate.clone(),
                    severity: severity.as_str().to_owned(),
                    dimension: dimension.as_str().to_owned(),
                };
                self.findings.get_or_create(&labels).set(open as i64);
            }
        }
        self.record_service_findings(report);
        for finding in &report.findings {
            if !finding.status.penalizes() {
                continue;
            }
            // A service gone from the candidate is missing its traces too
            // when it had span operations in the baseline.
            let gone_with_spans = finding.dimension == Dimension::Services
                && report
                    .scores
                    .services
                    .get(&finding.service)
                    .is_some_and(|s| s.span_coverage < 1.0);
            if finding.dimension == Dimension::MissingTraces || gone_with_spans {
                self.traces_missing
                    .get_or_create(&service_labels(&finding.service))
                    .set(1);
            }
        }
    }

    /// Open findings per service and severity, every severity present for
    /// every service of the report. Past the services cap, the services with
    /// the fewest and mildest findings are summed into [`OTHER_SERVICES`].
    fn record_service_findings(&self, report: &Report) {
        let mut by_service: BTreeMap<&str, [i64; 5]> = report
            .scores
            .services
            .keys()
            .map(|s| (s.as_str(), [0; 5]))
            .collect();
        for finding in &report.findings {
            let counts = by_service.entry(&finding.service).or_insert([0; 5]);
            if finding.status.penalizes() {
                counts[finding.severity as usize] += 1;
            }
        }
        let mut services: Vec<(&str, [i64; 5])> = by_service.into_iter().collect();
        // Worst first: more criticals, then more highs, …; ties by name.
        services.sort_by(|(a_name, a), (b_name, b)| b.cmp(a).then_with(|| a_name.cmp(b_name)));
        let cap = self.services_cap;
        let mut others = None::<[i64; 5]>;
        if services.len() > cap {
            let mut sum = [0; 5];
            for (_, counts) in services.drain(cap..) {
                for (total, n) in sum.iter_mut().zip(counts) {
                    *total += n;
                }
            }
            others = Some(sum);
        }
        let rows = services
            .into_iter()
            .chain(others.map(|counts| (OTHER_SERVICES, counts)));
        for (service, counts) in rows {
            for severity in Severity::ALL {
                let labels = ServiceFindingLabels {
                    baseline: report.baseline.clone(),
                    candidate: report.candidate.clone(),
                    service: service.to_owned(),
                    severity: severity.as_str().to_owned(),
                };
                self.service_findings
                    .get_or_create(&labels)
                    .set(counts[severity as usize]);
            }
        }
    }
}
