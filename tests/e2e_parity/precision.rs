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
    let (_, staging_summary) = deployment.run_exporting_all(&prod, &staging);
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
    deployment.run_exporting_all(&prod, &staging);
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

/// An edge's identity: parent service, parent operation and kind, child operation and kind.
type EdgeKey = (String, String, String, String, String);

/// Edges into every service of `side`, as the analyzer merged them over all windows.
fn edges(deployment: &Deployment, side: &str, services: &[&str]) -> Vec<(String, EdgeKey, u64)> {
    let mut found = Vec::new();
    for service in services {
        let fingerprint = deployment.service_fingerprint(&format!("shop/{service}"), side);
        for edge in fingerprint["edges"].as_array().into_iter().flatten() {
            let text = |field: &str| edge[field].as_str().unwrap_or_default().to_owned();
            let count = text("count").parse::<u64>().unwrap_or(0);
            let key = (
                text("parentService"),
                text("parentOperation"),
                text("parentKind"),
                text("childOperation"),
                text("childKind"),
            );
            found.push(((*service).to_owned(), key, count));
        }
    }
    found.sort();
    found
}

#[test]
fn traces_straddling_push_windows_keep_their_edges() {
    // The same traffic (same seed, every trace kept, spans exported in batches every
    // 200 ms by each service's own processor, as SDKs do) into prod's receiver, whose windows
    // end every 300 ms, and into staging's, which keeps one window for the whole run.
    let shop = Shop {
        request_pause_ms: 15,
        ..Shop::new(120, 1, "0", SEED)
    };
    let mut deployment =
        Deployment::start_with_intervals(crate::deployment::ANALYZER_CONFIG, "300ms", "1h");
    let (windowed, whole) = deployment.run_exporting_all(&shop, &shop);
    let services = ["frontend", "cart", "checkout", "shipping", "payment"];
    let edges_windowed = edges(&deployment, "baseline", &services);
    let edges_whole = edges(&deployment, "candidate", &services);
    let windows = deployment.analyzer.environments();

    // Every span but the roots (the storefront's and recommendation's requests) has a
    // parent that the shop sent.
    let truth: u64 = services
        .iter()
        .chain(&["recommendation"])
        .map(|s| windowed.count(s, &["sent", "spans"]))
        .sum::<u64>()
        - windowed.count("frontend", &["requests"])
        - windowed.count("recommendation", &["requests"]);
    let found: u64 = edges_windowed.iter().map(|(_, _, n)| n).sum();
    let context = format!(
        "truth {truth}, found {found}\nwindowed: {edges_windowed:#?}\none window: \
         {edges_whole:#?}\nenvironments: {windows}\nshop: {}\n{}",
        windowed.0,
        deployment.diagnostics()
    );
    assert_eq!(truth, 9 * shop.requests, "{context}");
    assert!(
        found * 100 >= truth * 99 && found <= truth,
        "at least 99% of edges are found across windows\n{context}"
    );
    assert_eq!(edges_windowed, edges_whole, "{context}");
    for service in services {
        let spans = |summary: &ShopSummary| {
            summary.0["services"][service]["spans_sent_by_operation"].clone()
        };
        assert_eq!(spans(&whole), spans(&windowed), "the same traffic");
    }
    // The run did cross windows: prod's receiver pushed many.
    let pushes = windows["prod"]["pushes"].as_u64().unwrap_or(0);
    assert!(pushes >= 5, "prod pushed {pushes} windows\n{context}");
}
