//! Ingestion per 1k requests, adjusted for sampling.

use otel_parity_testkit::fingerprint::described::{
    Logs, Sampler, Scale, Service, build, service_mut,
};
use otel_parity_testkit::fingerprint::described_shop;

use super::*;

fn staging_at(sampler: Sampler, plant: impl FnOnce(&mut Vec<Service>)) -> Report {
    let prod = build(&described_shop(), Scale::prod());
    let mut staging_shop = described_shop();
    for s in &mut staging_shop {
        s.sampler = sampler;
    }
    plant(&mut staging_shop);
    let staging = build(&staging_shop, staging_scale());
    compare_envs(&prod, &staging, &CompareOptions::new(today()))
}

fn ratio(report: &Report, service: &str, signal: &str) -> f64 {
    report.scores.services[service].ingestion[signal].ratio
}

#[test]
fn prod_sampled_at_25_percent_and_staging_at_100_percent_have_traces_ratio_one() {
    for sampler in [Sampler::Threshold("0", 1.0), Sampler::NoThreshold(1.0)] {
        let report = staging_at(sampler, |_| {});
        for service in [
            "shop/frontend",
            "shop/checkout",
            "shop/payment",
            "shop/cart",
        ] {
            let r = &report.scores.services[service].ingestion["traces"];
            assert!((r.ratio - 1.0).abs() < 0.01, "{sampler:?} {service}: {r:?}");
            // prod's 25% spans each stand for 4.
            assert!(
                r.baseline_per_1k > 0.0
                    && (r.baseline_per_1k / r.candidate_per_1k - 1.0).abs() < 0.01
            );
            // Staging without thresholds: its spans count as 1 each, unadjusted.
            assert_eq!(
                r.adjusted,
                matches!(sampler, Sampler::Threshold(..)),
                "{sampler:?} {service}"
            );
        }
        assert!(
            !report
                .findings
                .iter()
                .any(|f| f.dimension == Dimension::Ingestion
                    || f.dimension == Dimension::MissingTraces),
            "{:#?}",
            report.findings
        );
    }
}

#[test]
fn requests_fall_back_to_adjusted_server_spans_without_a_request_metric() {
    let report = staging_at(Sampler::Threshold("0", 1.0), |_| {});
    // cart has no request-duration metric: its requests are its SERVER
    // spans (one per request, 25% sampled in prod, so ×4), and it records
    // 2.1 spans per request on both sides.
    let r = &report.scores.services["shop/cart"].ingestion["traces"];
    assert!((r.baseline_per_1k - 2100.0).abs() < 1.0, "{r:?}");
    assert!((r.ratio - 1.0).abs() < 0.01);
}

#[test]
fn three_times_the_logs_per_request_is_ratio_three_and_a_medium_finding() {
    let report = staging_at(Sampler::Threshold("0", 1.0), |s| {
        let logs: &mut Logs = service_mut(s, "shop/payment").logs.as_mut().expect("logs");
        logs.per_request *= 3.0;
    });
    let r = ratio(&report, "shop/payment", "logs");
    assert!((r - 3.0).abs() < 0.03, "{r}");
    let finding = find(&report, Dimension::Ingestion, "logs");
    assert_eq!(
        (finding.service.as_str(), finding.severity),
        ("shop/payment", Severity::Medium)
    );
    assert!(finding.message.contains("×3.00"), "{}", finding.message);
    assert!((ratio(&report, "shop/payment", "traces") - 1.0).abs() < 0.01);
}

#[test]
fn a_ratio_at_the_band_edge_is_inside() {
    let report = staging_at(Sampler::Threshold("c", 0.25), |s| {
        service_mut(s, "shop/payment")
            .logs
            .as_mut()
            .expect("logs")
            .per_request *= 2.0;
    });
    assert!((ratio(&report, "shop/payment", "logs") - 2.0).abs() < 1e-9);
    assert_eq!(keys(&report.findings), vec![]);
}

#[test]
fn a_narrower_band_from_options_is_honoured() {
    let prod = build(&described_shop(), Scale::prod());
    let mut staging_shop = described_shop();
    service_mut(&mut staging_shop, "shop/cart")
        .logs
        .as_mut()
        .expect("logs")
        .per_request *= 1.5;
    let staging = build(&staging_shop, staging_scale());
    let mut options = CompareOptions::new(today());
    options.ingestion_band = (0.8, 1.25);
    let report = compare_envs(&prod, &staging, &options);
    assert_eq!(
        keys(&report.findings),
        vec![(
            Dimension::Ingestion,
            "shop/cart".to_owned(),
            "logs".to_owned(),
            Severity::Medium
        )]
    );
}

#[test]
fn metric_points_per_request_out_of_band_are_scale_and_info_only() {
    // A quieter staging exports as often as prod: points per request triple.
    let report = staging_at(Sampler::Threshold("0", 1.0), |s| {
        for metric in &mut service_mut(s, "shop/payment").metrics {
            metric.per_1k *= 3.0;
        }
    });
    assert!((ratio(&report, "shop/payment", "metrics") - 3.0).abs() < 0.05);
    let finding = find(&report, Dimension::Ingestion, "metrics");
    assert_eq!(finding.severity, Severity::Info);
}

#[test]
fn impossible_request_counts_give_no_ratio_rather_than_an_infinite_one() {
    // Found by fuzzing (`push`): a pushed adjusted SERVER span count of 1e-310
    // made the baseline's metric points per 1k requests infinite, which the
    // JSON report wrote as null.
    let environment = |server_spans_adjusted: f64, points: u64| pb::EnvironmentFingerprint {
        services: [(
            "shop/payment".to_owned(),
            pb::ServiceFingerprint {
                sampling: Some(pb::Sampling {
                    server_spans_adjusted,
                    ..Default::default()
                }),
                ingestion: Some(pb::Ingestion {
                    metrics: Some(pb::SignalIngestion {
                        items: points,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )]
        .into(),
        ..Default::default()
    };
    let ratios = |prod: &pb::EnvironmentFingerprint, staging: &pb::EnvironmentFingerprint| {
        let report = compare_envs(prod, staging, &CompareOptions::new(today()));
        serde_json::to_string(&report).expect("serializes");
        report.scores.services["shop/payment"].ingestion.clone()
    };
    let real = environment(4.0, 2);
    assert_eq!(ratios(&real, &real)["metrics"].ratio, 1.0);
    assert!(ratios(&environment(1e-310, 2), &real).is_empty());
    // Both request counts in range, but the ratio of the volumes is beyond f64.
    let (quiet, loud) = (environment(f64::MAX, 1), environment(1.0, u64::MAX));
    assert!(ratios(&quiet, &loud).is_empty());
}
