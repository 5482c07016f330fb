//! Coverage, composite score, and accepted differences.

use otel_parity_testkit::fingerprint::described::{Scale, Service, build, service_mut};
use otel_parity_testkit::fingerprint::described_shop;

use super::*;
use crate::accepted::AcceptedDifference;
use crate::report::Status;

fn without_orders_metric(s: &mut [Service]) {
    service_mut(s, "shop/checkout")
        .metrics
        .retain(|m| m.name != "app.orders.placed");
}

#[test]
fn coverage_with_one_of_four_services_missing_a_metric_is_three_quarters() {
    let report = prod_vs(|s| without_orders_metric(s), staging_scale());
    assert_eq!(report.scores.coverage, 0.75);
    let checkout = &report.scores.services["shop/checkout"];
    assert!((checkout.metric_coverage - 2.0 / 3.0).abs() < 1e-9);
    // app.orders.placed had one of checkout's 24 keys (5 metric, 19 span).
    assert!(
        (checkout.attribute_key_coverage - 23.0 / 24.0).abs() < 1e-9,
        "{checkout:?}"
    );
    assert_eq!(checkout.span_coverage, 1.0);
    assert_eq!(report.scores.services["shop/payment"].metric_coverage, 1.0);
}

#[test]
fn an_absent_service_is_not_covered_and_has_zero_coverages() {
    let report = prod_vs(|s| s.retain(|s| s.key != "shop/payment"), staging_scale());
    assert_eq!(report.scores.coverage, 0.75);
    let payment = &report.scores.services["shop/payment"];
    assert_eq!((payment.metric_coverage, payment.span_coverage), (0.0, 0.0));
    assert_eq!(payment.log_event_coverage, 0.0);
    assert!(payment.ingestion.is_empty());
    // The frontend logs no events: nothing to cover is full coverage.
    assert_eq!(
        report.scores.services["shop/frontend"].log_event_coverage,
        1.0
    );
}

#[test]
fn composite_is_the_mean_of_parts_with_penalties_per_severity() {
    // One high (metric missing) and one low (extra label key).
    let report = prod_vs(
        |s| {
            without_orders_metric(s);
            service_mut(s, "shop/payment").metrics[1]
                .keys
                .push(("cloud.region", 1.0));
        },
        staging_scale(),
    );
    let parts = &report.scores.parts;
    assert_eq!(parts.len(), 14);
    assert_eq!(parts["metric_definitions"], 80.0);
    assert_eq!(parts["label_keys"], 98.0);
    assert_eq!(parts["services"], 100.0);
    let expected = (12.0 * 100.0 + 80.0 + 98.0) / 14.0;
    assert!((report.scores.composite - expected).abs() < 1e-9);
}

#[test]
fn a_part_never_goes_below_zero() {
    // Eight metrics missing across services: 8 × 20 = 160 points.
    let report = prod_vs(
        |s| {
            for svc in s.iter_mut() {
                svc.metrics.truncate(svc.metrics.len().saturating_sub(2));
            }
        },
        staging_scale(),
    );
    let high = report
        .findings
        .iter()
        .filter(|f| f.dimension == Dimension::MetricDefinitions && f.severity == Severity::High)
        .count();
    assert!(high >= 6, "{high}");
    assert_eq!(report.scores.parts["metric_definitions"], 0.0);
}

fn acceptance(expires: &str) -> AcceptedDifference {
    AcceptedDifference {
        service: "shop/*".into(),
        dimension: Some(Dimension::MetricDefinitions),
        subject: "app.orders.*".into(),
        reason: "orders are counted by the new ledger service in staging".into(),
        owner: "team-x".into(),
        expires: Date::parse(expires).expect("date"),
    }
}

fn report_with(accepted: Vec<AcceptedDifference>) -> Report {
    let prod = build(&described_shop(), Scale::prod());
    let mut staging_shop = described_shop();
    without_orders_metric(&mut staging_shop);
    let staging = build(&staging_shop, staging_scale());
    let mut options = CompareOptions::new(today());
    options.accepted = accepted;
    compare_envs(&prod, &staging, &options)
}

#[test]
fn an_accepted_difference_is_reported_as_accepted_and_not_penalized() {
    let report = report_with(vec![acceptance("2026-12-31")]);
    let finding = find(&report, Dimension::MetricDefinitions, "app.orders.placed");
    assert_eq!(finding.status, Status::Accepted);
    let a = finding.accepted.as_ref().expect("acceptance");
    assert_eq!(
        (a.owner.as_str(), a.expires.to_string().as_str()),
        ("team-x", "2026-12-31")
    );
    assert_eq!(report.scores.parts["metric_definitions"], 100.0);
    assert_eq!(report.scores.composite, 100.0);
    // Coverage is about what the candidate has, accepted or not.
    assert_eq!(report.scores.coverage, 0.75);
}

#[test]
fn an_acceptance_holds_through_its_expiry_day() {
    let report = report_with(vec![acceptance("2026-11-15")]);
    assert_eq!(
        find(&report, Dimension::MetricDefinitions, "app.orders.placed").status,
        Status::Accepted
    );
}

#[test]
fn an_expired_acceptance_is_open_again_penalized_and_says_so() {
    let report = report_with(vec![acceptance("2026-10-01")]);
    let finding = find(&report, Dimension::MetricDefinitions, "app.orders.placed");
    assert_eq!(finding.status, Status::AcceptanceExpired);
    assert!(
        finding
            .message
            .starts_with("acceptance by team-x expired 2026-10-01: "),
        "{}",
        finding.message
    );
    assert_eq!(report.scores.parts["metric_definitions"], 80.0);
}

#[test]
fn an_active_acceptance_wins_over_an_expired_one() {
    let report = report_with(vec![acceptance("2026-10-01"), acceptance("2027-01-31")]);
    let finding = find(&report, Dimension::MetricDefinitions, "app.orders.placed");
    assert_eq!(finding.status, Status::Accepted);
    assert_eq!(
        finding.accepted.as_ref().map(|a| a.expires.to_string()),
        Some("2027-01-31".to_owned())
    );
}

#[test]
fn acceptances_match_on_service_dimension_and_subject() {
    let mut other_dimension = acceptance("2026-12-31");
    other_dimension.dimension = Some(Dimension::LabelKeys);
    let mut other_service = acceptance("2026-12-31");
    other_service.service = "shop/pay*".into();
    let mut other_subject = acceptance("2026-12-31");
    other_subject.subject = "app.orders.cancel?ed".into();
    let report = report_with(vec![other_dimension, other_service, other_subject]);
    let finding = find(&report, Dimension::MetricDefinitions, "app.orders.placed");
    assert_eq!(
        (finding.status, finding.accepted.is_none()),
        (Status::Open, true)
    );

    let mut any_dimension = acceptance("2026-12-31");
    any_dimension.dimension = None;
    any_dimension.service = "*".into();
    any_dimension.subject = "app.orders.plac?d".into();
    let report = report_with(vec![any_dimension]);
    assert_eq!(
        find(&report, Dimension::MetricDefinitions, "app.orders.placed").status,
        Status::Accepted
    );
}

#[test]
fn findings_are_sorted_worst_first_then_by_service_dimension_subject() {
    let report = prod_vs(
        |s| {
            without_orders_metric(s);
            service_mut(s, "shop/frontend").span_factor = 0.0;
            service_mut(s, "shop/payment").logs = None;
            service_mut(s, "shop/cart").metrics[1]
                .keys
                .push(("cloud.region", 1.0));
        },
        staging_scale(),
    );
    let order: Vec<(Severity, &str)> = report
        .findings
        .iter()
        .map(|f| (f.severity, f.service.as_str()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(report.findings[0].dimension, Dimension::MissingTraces);
    let counts = report.counts_by_severity();
    assert_eq!(counts.len(), 5);
    assert_eq!(
        (
            counts[&Severity::Critical],
            counts[&Severity::High],
            counts[&Severity::Low]
        ),
        (1, 1, 1)
    );
}
