//! Issue 13: comparison precision, end to end (parity_shop.py on the Python SDK, receivers
//! pushing windows to the analyzer, `otel-parity report`). The shop is the issue's: prod has
//! three instances, four times the traffic and parent-based sampling at 25%; staging one
//! instance and everything sampled.
//!
//! - a live staging service that never emits one of prod's counters is `high`: its other
//!   metrics export every interval, so the counter was expected in each of those exports;
//! - a sampler differing at the root of the traces is one sampling finding, at the root,
//!   naming the services that inherit it;
//! - traces whose spans straddle push windows keep their edges (`edges`).

use crate::deployment::{Deployment, Shop, ShopSummary};
use crate::report::{Finding, findings, listing, number};

const PROD_INSTANCES: u64 = 3;
const STAGING_REQUESTS: u64 = 24;
/// Prod serves four times staging's traffic.
const PROD_REQUESTS: u64 = 4 * STAGING_REQUESTS;
const SEED: u64 = 4;

/// Prod: three instances, 4× the traffic, th:c; staging: one instance, th:0.
fn issue_shops() -> (Shop, Shop) {
    let prod = Shop::new(PROD_REQUESTS, PROD_INSTANCES, "c", SEED);
    let staging = Shop::new(STAGING_REQUESTS, 1, "0", SEED);
    (prod, staging)
}

fn run(deployment: &mut Deployment, prod: &Shop, staging: &Shop) -> (ShopSummary, ShopSummary) {
    let (prod_summary, staging_summary) = deployment.run(prod, staging);
    for summary in [&prod_summary, &staging_summary] {
        let failures = summary.export_failures();
        assert!(
            failures.is_empty(),
            "the shop failed to export: {failures:?}"
        );
    }
    (prod_summary, staging_summary)
}

fn context(found: &[Finding], deployment: &Deployment) -> String {
    format!(
        "all findings:\n{}\n\n{}",
        listing(found),
        deployment.diagnostics()
    )
}

#[test]
fn a_live_staging_service_missing_one_counter_is_high() {
    let (prod, staging) = issue_shops();
    // Metrics every 100 ms and a request every 50 ms: staging's payment exports over a
    // dozen times in its run, prod's several dozen.
    let pace = |shop: Shop| Shop {
        metric_interval_ms: 100,
        request_pause_ms: 50,
        ..shop
    };
    let prod = pace(prod);
    let staging = Shop {
        drifts: vec!["missing-counter"],
        ..pace(staging)
    };
    let mut deployment = Deployment::start();
    let (_, staging_summary) = run(&mut deployment, &prod, &staging);
    let report = deployment.report_via_cli();
    let found = findings(&report);
    let context = context(&found, &deployment);

    let missing: Vec<&Finding> = found
        .iter()
        .filter(|f| {
            f.is(
                "metric_definitions",
                "shop/payment",
                "app.payments.processed",
            )
        })
        .collect();
    assert_eq!(missing.len(), 1, "{context}");
    let finding = missing[0];
    assert_eq!(
        (finding.severity.as_str(), finding.status.as_str()),
        ("high", "open"),
        "{context}"
    );
    // The expectation is in staging's exports, as many as its SDK made with data.
    let exports = staging_summary.count("payment", &["sent", "metric_exports"]);
    assert!(exports >= 10, "staging's payment exported {exports} times");
    assert!(
        finding
            .message
            .ends_with(&format!("of staging's {exports} exports should carry it")),
        "{finding}\n{context}"
    );
    assert_eq!(
        number(
            &report,
            &["scores", "services", "shop/payment", "metric_coverage"]
        ),
        Some(0.5),
        "{context}"
    );
    // Nothing else about payment's metrics: its request histogram is there.
    let other: Vec<&Finding> = found
        .iter()
        .filter(|f| f.above_info() && !std::ptr::eq(*f, finding))
        .filter(|f| f.dimension != "sampling")
        .collect();
    assert!(
        other.is_empty(),
        "unexpected findings: {other:?}\n{context}"
    );
}

#[test]
fn parent_based_sampling_differing_at_the_root_is_one_finding_naming_the_inheritors() {
    let (prod, staging) = issue_shops();
    // Staging runs the SDK's default ParentBased(ALWAYS_ON): no threshold in tracestate,
    // every trace kept. Recommendation (a root of its own) is left out of both.
    let without_recommendation = |shop: Shop| Shop {
        skip: vec!["recommendation"],
        flush_per_request: true,
        ..shop
    };
    let prod = without_recommendation(prod);
    let staging = Shop {
        threshold: "none",
        ..without_recommendation(staging)
    };
    let mut deployment = Deployment::start();
    run(&mut deployment, &prod, &staging);
    let report = deployment.report_via_cli();
    let found = findings(&report);
    let context = context(&found, &deployment);

    let sampling: Vec<&Finding> = found.iter().filter(|f| f.dimension == "sampling").collect();
    assert_eq!(
        sampling.len(),
        1,
        "one sampler, one finding (it was a medium inferred_rate and an info threshold \
         finding for each of the five services)\n{context}"
    );
    let finding = sampling[0];
    assert_eq!(
        (
            finding.service.as_str(),
            finding.subject.as_str(),
            finding.severity.as_str()
        ),
        ("shop/frontend", "threshold", "medium"),
        "{context}"
    );
    assert_eq!(finding.baseline, "th:c (25%)", "{context}");
    assert_eq!(finding.candidate, "none (100% inferred)", "{context}");
    assert!(
        finding.message.ends_with(
            "; decided here and inherited by shop/cart, shop/checkout, shop/payment, \
             shop/shipping (parent-based sampling: their rates follow)"
        ),
        "{finding}\n{context}"
    );
    let above_info: Vec<&Finding> = found.iter().filter(|f| f.above_info()).collect();
    assert_eq!(above_info.len(), 1, "only the sampler differs\n{context}");
}
