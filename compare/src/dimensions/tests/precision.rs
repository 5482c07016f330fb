//! Issue 13 and issue 12 #3: one cause, one finding, and scale reasoning in
//! the units that drive presence (exports, requests). Each test states what
//! the former rule (shares of data points or spans) got wrong.

use otel_parity_testkit::fingerprint::described::{Sampler, Scale, build, service_mut};
use otel_parity_testkit::fingerprint::described_shop;

use super::dimensions::old_http_semconv;
use super::*;

fn prod() -> pb::EnvironmentFingerprint {
    build(&described_shop(), Scale::prod())
}

fn staging_with(plant: impl FnOnce(&mut Vec<Service>), scale: Scale) -> pb::EnvironmentFingerprint {
    let mut shop = described_shop();
    plant(&mut shop);
    build(&shop, scale)
}

fn without_orders(shop: &mut [Service]) {
    service_mut(shop, "shop/checkout")
        .metrics
        .retain(|m| m.name != "app.orders.placed");
}

fn sampling_findings(report: &Report) -> Vec<&ParityFinding> {
    report
        .findings
        .iter()
        .filter(|f| f.dimension == Dimension::Sampling)
        .collect()
}

#[test]
fn a_live_candidate_missing_a_counter_is_high_however_many_series_the_baseline_has() {
    // Prod's request histogram has 200 times the series (more routes, status
    // codes and pods at its traffic): by data points the counter was 0.25% of
    // checkout's points, ≈1 expected in staging, "chance". By exports it was
    // in every one of prod's exports, and staging's one instance exported 30
    // times: 30 expected, none seen.
    let mut prod = prod();
    let checkout = prod.services.get_mut("shop/checkout").expect("checkout");
    let histogram = checkout
        .metrics
        .get_mut("rpc.server.duration")
        .expect("histogram");
    histogram.data_points *= 200;
    let scale = Scale {
        traffic: 0.1,
        instances: 1.0,
        series: 0.1,
        intervals: 30.0,
    };
    let staging = staging_with(|s| without_orders(s), scale);
    let report = compare_envs(&prod, &staging, &CompareOptions::new(today()));
    let finding = find(&report, Dimension::MetricDefinitions, "app.orders.placed");
    assert_eq!(finding.severity, Severity::High, "{}", finding.message);
    assert!(
        finding.message.ends_with(
            ": in 360 of 360 exports in prod, so ≈30.0 of staging's 30 exports should carry it"
        ),
        "{}",
        finding.message
    );
    assert_eq!(
        report.scores.services["shop/checkout"].metric_coverage,
        2.0 / 3.0
    );
}

#[test]
fn a_counter_missing_from_a_candidate_with_three_exports_is_scale() {
    let scale = Scale {
        traffic: 0.1,
        instances: 1.0,
        series: 0.5,
        intervals: 3.0,
    };
    let report = compare_envs(
        &prod(),
        &staging_with(|s| without_orders(s), scale),
        &CompareOptions::new(today()),
    );
    let finding = find(&report, Dimension::MetricDefinitions, "app.orders.placed");
    assert_eq!(finding.severity, Severity::Info, "{}", finding.message);
    assert!(
        finding.message.ends_with("(too few to tell: scale)"),
        "{}",
        finding.message
    );
}

#[test]
fn a_metric_in_a_tenth_of_the_baseline_exports_is_expected_in_a_tenth_of_the_candidates() {
    // A counter first recorded late (or a delta counter that is exported only
    // in intervals where something happened): in 36 of prod's 360 exports,
    // so 9 of staging's 90 were expected to carry it: still high; at 30
    // staging exports (3 expected) info.
    let mut prod = prod();
    prod.services
        .get_mut("shop/checkout")
        .and_then(|s| s.metrics.get_mut("app.orders.placed"))
        .expect("orders")
        .exports = 36;
    let severity = |instances: f64| {
        let scale = Scale {
            instances,
            ..staging_scale()
        };
        let report = compare_envs(
            &prod,
            &staging_with(|s| without_orders(s), scale),
            &CompareOptions::new(today()),
        );
        find(&report, Dimension::MetricDefinitions, "app.orders.placed").severity
    };
    assert_eq!(severity(3.0), Severity::High);
    assert_eq!(severity(1.0), Severity::Info);
}

#[test]
fn an_operation_missing_from_a_candidate_that_lost_most_of_its_spans_is_not_scale() {
    // Staging's checkout records only its SERVER spans, at a hundredth of
    // prod's traffic: as a share of its spans (a sixth of 25) the producer
    // span was barely expected (≈4, "chance"); per request (one each, 100
    // requests counted, kept at th:c) 25 were.
    let scale = Scale {
        traffic: 0.01,
        ..staging_scale()
    };
    let staging = staging_with(
        |s| {
            service_mut(s, "shop/checkout")
                .ops
                .retain(|o| o.name == "oteldemo.CheckoutService/PlaceOrder")
        },
        scale,
    );
    let report = compare_envs(&prod(), &staging, &CompareOptions::new(today()));
    let finding = find(
        &report,
        Dimension::SpanOperations,
        "orders publish (producer)",
    );
    assert_eq!(finding.severity, Severity::Medium, "{}", finding.message);
    assert!(
        finding.message.ends_with("where ≈25.0 were expected"),
        "{}",
        finding.message
    );
}

#[test]
fn a_sampler_differing_at_the_root_is_one_finding_naming_the_services_that_inherit_it() {
    // Every service parent-based, always-on in staging (no thresholds): the
    // frontend decides; checkout, payment and cart follow through its edges.
    let staging = staging_with(
        |shop| {
            for service in shop.iter_mut() {
                service.sampler = Sampler::NoThreshold(1.0);
            }
        },
        staging_scale(),
    );
    let report = compare_envs(&prod(), &staging, &CompareOptions::new(today()));
    let findings = sampling_findings(&report);
    assert_eq!(
        keys(&findings.iter().map(|f| (*f).clone()).collect::<Vec<_>>()),
        vec![(
            Dimension::Sampling,
            "shop/frontend".to_owned(),
            "threshold".to_owned(),
            Severity::Medium
        )]
    );
    let message = &findings[0].message;
    assert!(
        message.ends_with(
            "; decided here and inherited by shop/cart, shop/checkout, shop/payment (parent-based sampling: their rates follow)"
        ),
        "{message}"
    );
    assert_eq!(
        (
            findings[0].baseline.as_str(),
            findings[0].candidate.as_str()
        ),
        ("th:c (25%)", "none (100% inferred)")
    );
}

#[test]
fn a_downstream_service_that_samples_on_its_own_keeps_its_own_finding() {
    let staging = staging_with(
        |shop| {
            for service in shop.iter_mut() {
                service.sampler = Sampler::NoThreshold(1.0);
            }
            service_mut(shop, "shop/payment").sampler = Sampler::Threshold("8", 0.5);
        },
        staging_scale(),
    );
    let report = compare_envs(&prod(), &staging, &CompareOptions::new(today()));
    let services: Vec<(&str, Severity)> = sampling_findings(&report)
        .iter()
        .map(|f| (f.service.as_str(), f.severity))
        .collect();
    assert_eq!(
        services,
        vec![
            ("shop/frontend", Severity::Medium),
            ("shop/payment", Severity::Medium)
        ]
    );
    let frontend = &sampling_findings(&report)[0].message;
    assert!(
        frontend.ends_with(
            "inherited by shop/cart, shop/checkout (parent-based sampling: their rates follow)"
        ),
        "{frontend}"
    );
}

#[test]
fn a_semconv_rename_is_one_finding_with_both_names_versions_units_and_keys() {
    let report = compare_envs(
        &prod(),
        &staging_with(|s| old_http_semconv(s), staging_scale()),
        &CompareOptions::new(today()),
    );
    assert_eq!(
        keys(&report.findings),
        vec![(
            Dimension::Semconv,
            "shop/frontend".to_owned(),
            "http.server.request.duration".to_owned(),
            Severity::Medium
        )]
    );
    let finding = &report.findings[0];
    assert_eq!(
        finding.message,
        "prod emits `http.server.request.duration` in s (semconv ≥ 1.22.0), staging emits \
         `http.server.duration` in ms (semconv < 1.22.0): one metric, renamed in semconv 1.22.0 \
         with its unit ms → s; label keys http.method → http.request.method, \
         http.status_code → http.response.status_code; queries of \
         `http.server.request.duration` see nothing in staging"
    );
    let scores = &report.scores.services["shop/frontend"];
    assert_eq!(scores.metric_coverage, 1.0);
    assert_eq!(scores.attribute_key_coverage, 1.0);
    assert_eq!(report.scores.coverage, 1.0);
}

#[test]
fn semconv_versions_come_from_the_schema_urls() {
    let with_schema = |env: &mut pb::EnvironmentFingerprint, version: &str| {
        let resource = env
            .services
            .get_mut("shop/frontend")
            .and_then(|s| s.resource.as_mut())
            .expect("resource");
        for scope in resource.scopes.values_mut() {
            scope.schema_urls = [(
                format!("https://opentelemetry.io/schemas/{version}"),
                scope.count,
            )]
            .into();
        }
    };
    let mut prod = prod();
    with_schema(&mut prod, "1.26.0");
    let mut staging = staging_with(|s| old_http_semconv(s), staging_scale());
    with_schema(&mut staging, "1.20.0");
    let report = compare_envs(&prod, &staging, &CompareOptions::new(today()));
    let finding = find(&report, Dimension::Semconv, "http.server.request.duration");
    assert_eq!(
        (finding.baseline.as_str(), finding.candidate.as_str()),
        (
            "http.server.request.duration (s, semconv 1.26.0)",
            "http.server.duration (ms, semconv 1.20.0)"
        )
    );
}

#[test]
fn a_renamed_metric_that_also_lost_a_label_reports_the_label_apart() {
    let report = compare_envs(
        &prod(),
        &staging_with(
            |shop| {
                old_http_semconv(shop);
                service_mut(shop, "shop/frontend").metrics[0]
                    .keys
                    .retain(|(k, _)| *k != "http.route");
            },
            staging_scale(),
        ),
        &CompareOptions::new(today()),
    );
    assert_eq!(
        keys(&report.findings),
        vec![
            (
                Dimension::LabelKeys,
                "shop/frontend".to_owned(),
                "http.server.request.duration{http.route}".to_owned(),
                Severity::Medium
            ),
            (
                Dimension::Semconv,
                "shop/frontend".to_owned(),
                "http.server.request.duration".to_owned(),
                Severity::Medium
            ),
        ]
    );
}
