//! What `/metrics` shows: names, labels and values a dashboard or an alert
//! reads.

use super::sampling::{EnvironmentSampling, RateSource, ServiceSampling};
use super::*;
use otel_parity_compare::report::{
    Dimension, ParityFinding, Report, Scores, ServiceScores, Severity, Status,
};

fn finding(dimension: Dimension, service: &str) -> ParityFinding {
    ParityFinding {
        dimension,
        service: service.into(),
        subject: service.into(),
        baseline: String::new(),
        candidate: String::new(),
        severity: Severity::High,
        status: Status::Open,
        message: String::new(),
        accepted: None,
    }
}

fn scores(span_coverage: f64) -> ServiceScores {
    ServiceScores {
        metric_coverage: 0.0,
        span_coverage,
        attribute_key_coverage: 0.0,
        log_event_coverage: 1.0,
        ingestion: Default::default(),
    }
}

#[test]
fn a_vanished_service_that_had_spans_counts_as_traces_missing() {
    let report = Report {
        baseline: "prod".into(),
        candidate: "staging".into(),
        findings: vec![
            finding(Dimension::Services, "shop/recommendation"),
            finding(Dimension::Services, "shop/batch-job"),
        ],
        scores: Scores {
            coverage: 0.5,
            services: [
                ("shop/recommendation".to_owned(), scores(0.0)),
                ("shop/batch-job".to_owned(), scores(1.0)),
            ]
            .into(),
            composite: 60.0,
            parts: Default::default(),
        },
    };
    let metrics = AnalyzerMetrics::new();
    metrics.record_round(&[report], &[], 1.0);
    let text = metrics.encode_prometheus();
    let pair = r#"baseline="prod",candidate="staging""#;
    assert!(
        text.contains(&format!(
            r#"otel_parity_traces_missing{{{pair},service="shop/recommendation"}} 1"#
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            r#"otel_parity_traces_missing{{{pair},service="shop/batch-job"}} 0"#
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            r#"otel_parity_comparisons_total{{{pair},result="covered"}} 0"#
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            r#"otel_parity_comparisons_total{{{pair},result="uncovered"}} 2"#
        )),
        "{text}"
    );
}

#[test]
fn counters_take_their_total_name_in_the_classic_format() {
    let metrics = AnalyzerMetrics::new();
    metrics.record_push("stored", 120);
    let text = metrics.encode_prometheus();
    assert!(
        text.contains("# TYPE otel_parity_pushes_total counter\n"),
        "{text}"
    );
    assert!(
        text.contains("# HELP otel_parity_pushes_total Fingerprint pushes received"),
        "{text}"
    );
    assert!(
        text.contains("otel_parity_pushes_total{result=\"stored\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("otel_parity_push_bytes_total 120\n"),
        "{text}"
    );
    assert!(!text.contains("# EOF"), "{text}");
    assert!(metrics.encode_openmetrics().ends_with("# EOF\n"));
}

fn report_with(findings: Vec<ParityFinding>, services: &[&str]) -> Report {
    Report {
        baseline: "prod".into(),
        candidate: "staging".into(),
        findings,
        scores: Scores {
            coverage: 0.8,
            services: services
                .iter()
                .map(|s| ((*s).to_owned(), scores(1.0)))
                .collect(),
            composite: 70.0,
            parts: Default::default(),
        },
    }
}

fn with(severity: Severity, status: Status, dimension: Dimension, service: &str) -> ParityFinding {
    ParityFinding {
        severity,
        status,
        ..finding(dimension, service)
    }
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn families_with_known_label_values_start_at_zero() {
    let metrics = AnalyzerMetrics::new();
    metrics.declare_auth_listener("push");
    let text = metrics.encode_prometheus();
    for result in PUSH_RESULTS {
        assert_eq!(
            sample(
                &text,
                &format!(r#"otel_parity_pushes_total{{result="{result}"}}"#)
            ),
            Some(0.0),
            "{text}"
        );
    }
    for result in ["accepted", "missing", "malformed", "invalid"] {
        let series =
            format!(r#"otel_parity_auth_requests_total{{listener="push",result="{result}"}}"#);
        assert_eq!(sample(&text, &series), Some(0.0), "{text}");
    }
    // Only the listeners with tokens.
    assert!(!text.contains(r#"listener="api""#), "{text}");
    assert_eq!(
        sample(&text, "otel_parity_coverage_objective_ratio"),
        Some(0.9)
    );
    metrics.set_coverage_objective(0.95);
    assert_eq!(
        sample(
            &metrics.encode_prometheus(),
            "otel_parity_coverage_objective_ratio"
        ),
        Some(0.95)
    );
}

#[test]
fn findings_are_broken_down_by_service_and_severity_open_ones_only() {
    let report = report_with(
        vec![
            with(
                Severity::Critical,
                Status::Open,
                Dimension::MissingTraces,
                "shop/shipping",
            ),
            with(
                Severity::High,
                Status::Open,
                Dimension::LabelKeys,
                "shop/shipping",
            ),
            with(
                Severity::High,
                Status::AcceptanceExpired,
                Dimension::LabelKeys,
                "shop/cart",
            ),
            with(
                Severity::Medium,
                Status::Accepted,
                Dimension::Logs,
                "shop/cart",
            ),
            // A service only the candidate has (no coverage score).
            with(
                Severity::Info,
                Status::Open,
                Dimension::Services,
                "shop/new-ads",
            ),
        ],
        &["shop/cart", "shop/checkout", "shop/shipping"],
    );
    let metrics = AnalyzerMetrics::new();
    metrics.record_round(&[report], &[], 1.0);
    let text = metrics.encode_prometheus();
    let series = |service: &str, severity: &str| {
        sample(
            &text,
            &format!(
                r#"otel_parity_service_findings{{baseline="prod",candidate="staging",service="{service}",severity="{severity}"}}"#
            ),
        )
    };
    assert_eq!(series("shop/shipping", "critical"), Some(1.0));
    assert_eq!(series("shop/shipping", "high"), Some(1.0));
    assert_eq!(
        series("shop/cart", "high"),
        Some(1.0),
        "expired acceptance counts"
    );
    assert_eq!(
        series("shop/cart", "medium"),
        Some(0.0),
        "accepted does not"
    );
    assert_eq!(
        series("shop/checkout", "critical"),
        Some(0.0),
        "every severity present"
    );
    assert_eq!(series("shop/checkout", "info"), Some(0.0));
    assert_eq!(series("shop/new-ads", "info"), Some(1.0));
    let count = text
        .lines()
        .filter(|l| l.starts_with("otel_parity_service_findings{"))
        .count();
    assert_eq!(count, 4 * 5, "{text}");
}

#[test]
fn services_past_the_cap_are_summed_under_other_services() {
    let findings = vec![
        with(
            Severity::Critical,
            Status::Open,
            Dimension::MissingTraces,
            "shop/shipping",
        ),
        with(
            Severity::High,
            Status::Open,
            Dimension::LabelKeys,
            "shop/cart",
        ),
        with(
            Severity::High,
            Status::Open,
            Dimension::LabelKeys,
            "shop/ad",
        ),
        with(Severity::Low, Status::Open, Dimension::Versions, "shop/ad"),
        with(
            Severity::Low,
            Status::Open,
            Dimension::Versions,
            "shop/quote",
        ),
    ];
    let services = [
        "shop/ad",
        "shop/cart",
        "shop/checkout",
        "shop/quote",
        "shop/shipping",
    ];
    let metrics = AnalyzerMetrics::with_services_cap(2);
    metrics.record_round(&[report_with(findings, &services)], &[], 1.0);
    let text = metrics.encode_prometheus();
    let mut listed: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("otel_parity_service_findings{") && l.contains(r#"severity="critical""#)
        })
        .filter_map(|l| l.split(r#"service=""#).nth(1)?.split('"').next())
        .collect();
    listed.sort_unstable();
    // The worst two (shipping: a critical; ad: a high and a low) are kept.
    assert_eq!(listed, ["(other services)", "shop/ad", "shop/shipping"]);
    let other = |severity: &str| {
        sample(
            &text,
            &format!(
                r#"otel_parity_service_findings{{baseline="prod",candidate="staging",service="(other services)",severity="{severity}"}}"#
            ),
        )
    };
    assert_eq!(other("high"), Some(1.0), "cart's");
    assert_eq!(other("low"), Some(1.0), "quote's");
    assert_eq!(other("critical"), Some(0.0));
}

#[test]
fn sampling_rates_are_per_environment_and_service_and_follow_the_round() {
    let rates = |environment: &str, rate: f64, source: RateSource| EnvironmentSampling {
        environment: environment.into(),
        services: vec![ServiceSampling {
            service: "shop/checkout".into(),
            rate,
            source,
            spans: 100,
        }],
    };
    let metrics = AnalyzerMetrics::new();
    let round = [
        rates("prod", 0.25, RateSource::Threshold),
        rates("staging", 1.0, RateSource::Requests),
    ];
    metrics.record_round(&[], &round, 1.0);
    let text = metrics.encode_prometheus();
    assert_eq!(
        sample(
            &text,
            r#"otel_parity_effective_sampling_rate{environment="prod",service="shop/checkout",source="threshold"}"#
        ),
        Some(0.25),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"otel_parity_effective_sampling_rate{environment="staging",service="shop/checkout",source="requests"}"#
        ),
        Some(1.0)
    );
    assert!(text.contains("# TYPE otel_parity_effective_sampling_rate gauge"));
    // An environment no longer evaluated disappears.
    metrics.record_round(&[], &round[..1], 2.0);
    assert!(
        !metrics
            .encode_prometheus()
            .contains(r#"environment="staging""#)
    );
}
