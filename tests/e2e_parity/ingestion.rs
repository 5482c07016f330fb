//! Issue 3, "What it must show" #2: with known sampling (threshold c, 25%, in prod; 100% in
//! staging) and known volumes per request, the ingestion ratio adjusted for sampling comes out
//! within 10% of the truth.
//!
//! The volumes: every service sends the same spans per request in both environments (frontend
//! 3, checkout 4, the others 1) and writes one log record per request in prod, two in staging.
//! The truth is thus a traces ratio of 1.0 and a logs ratio of 2.0 for every service.
//!
//! Statistical error: prod keeps each trace with probability p = 0.25 independently (the
//! sampler compares random trace ids with the threshold), so of N requests it keeps
//! S ~ Binomial(N, p) traces, and its adjusted spans per request are k·S/(N·p) for a true k.
//! Their relative standard error is sqrt((1 − p)/(N·p)): 8.7% at N = 400, too close to 10%
//! (a bound of 1.15σ fails a quarter of the time); at N = 3000 it is 3.2%, so 10% is 3.2σ
//! and an arbitrary seed fails with probability about 0.2% per independently sampled root
//! (the storefront's traces, shared by five services, and recommendation's). Logs and
//! metrics are not sampled: the logs ratio has no statistical error at all. The seed is
//! pinned so that runs repeat; with it prod keeps 741 storefront traces (ratio 1.012) and
//! 778 recommendation traces (0.964).

use crate::deployment::{Deployment, Shop, ShopSummary};
use crate::report::{findings, listing, number};

const PROD_REQUESTS: u64 = 3000;
const PROD_INSTANCES: u64 = 2;
const STAGING_REQUESTS: u64 = 300;
const STAGING_INSTANCES: u64 = 1;
const STAGING_LOGS_PER_REQUEST: u64 = 2;
const SEED: u64 = 7;

/// How far a ratio may be from the truth, relative.
const TOLERANCE: f64 = 0.10;

/// Every service with the spans it sends per request it serves.
const SPANS_PER_REQUEST: [(&str, f64); 6] = [
    ("cart", 1.0),
    ("checkout", 4.0),
    ("frontend", 3.0),
    ("payment", 1.0),
    ("recommendation", 1.0),
    ("shipping", 1.0),
];

#[test]
fn ingestion_ratio_adjusts_for_sampling_within_ten_percent() {
    let prod = Shop::new(PROD_REQUESTS, PROD_INSTANCES, "c", SEED);
    let staging = Shop {
        requests: STAGING_REQUESTS,
        instances: STAGING_INSTANCES,
        threshold: "0",
        logs_per_request: STAGING_LOGS_PER_REQUEST,
        ..prod.clone()
    };
    let mut deployment = Deployment::start();
    let (prod_summary, staging_summary) = deployment.run_exporting_all(&prod, &staging);

    // The HTTP API path.
    let report = deployment.report_via_api();
    let mut failures = Vec::new();
    for (name, spans_per_request) in SPANS_PER_REQUEST {
        let service = format!("shop/{name}");
        let ingestion = |signal: &str, field: &str| {
            number(
                &report,
                &["scores", "services", &service, "ingestion", signal, field],
            )
        };
        let mut check =
            |what: String, found: Option<f64>, expected: f64, tolerance: f64| match found {
                Some(found) if (found - expected).abs() <= tolerance * expected => {}
                found => failures.push(format!(
                    "{service} {what}: expected {expected} ± {:.0e} relative, found {found:?}",
                    tolerance
                )),
            };
        // The truth, within the tolerance the issue asks for.
        check(
            "traces ratio".into(),
            ingestion("traces", "ratio"),
            1.0,
            TOLERANCE,
        );
        check(
            "logs ratio".into(),
            ingestion("logs", "ratio"),
            2.0,
            TOLERANCE,
        );
        // The known volumes, exactly where nothing is sampled.
        check(
            "staging spans per 1k requests".into(),
            ingestion("traces", "candidate_per_1k"),
            spans_per_request * 1000.0,
            1e-9,
        );
        check(
            "prod log records per 1k requests".into(),
            ingestion("logs", "baseline_per_1k"),
            1000.0,
            1e-9,
        );
        check(
            "staging log records per 1k requests".into(),
            ingestion("logs", "candidate_per_1k"),
            2000.0,
            1e-9,
        );
        // Prod's adjusted spans: exactly 4 per span the shop sent (th:c), per request served.
        check(
            "prod adjusted spans per 1k requests".into(),
            ingestion("traces", "baseline_per_1k"),
            adjusted_spans_per_1k(&prod_summary, name),
            1e-9,
        );
        for signal in ["traces", "logs"] {
            let adjusted =
                report["scores"]["services"][&service]["ingestion"][signal]["adjusted"].as_bool();
            if adjusted != Some(true) {
                failures.push(format!(
                    "{service} {signal} ratio: expected adjusted true (every span carries a \
                     threshold, requests come from the request-duration metric), found {adjusted:?}"
                ));
            }
        }
    }
    // Adjusted, the volumes agree: nothing for the ingestion or missing-traces dimensions.
    let found = findings(&report);
    let volume_findings: Vec<String> = found
        .iter()
        .filter(|f| f.above_info())
        .filter(|f| f.dimension == "ingestion" || f.dimension == "missing_traces")
        .map(ToString::to_string)
        .collect();
    if !volume_findings.is_empty() {
        failures.push(format!(
            "volume findings although the adjusted volumes agree: {volume_findings:?}"
        ));
    }
    assert!(
        failures.is_empty(),
        "{} expectation(s) failed:\n  - {}\n\nscores: {}\nfindings:\n{}\n\nprod shop: {}\nstaging shop: {}\n\n{}",
        failures.len(),
        failures.join("\n  - "),
        report["scores"],
        listing(&found),
        prod_summary.0,
        staging_summary.0,
        deployment.diagnostics()
    );
}

/// Spans service `name` sent in prod, each counting 4 (th:c), per 1,000 requests it served.
fn adjusted_spans_per_1k(prod: &ShopSummary, name: &str) -> f64 {
    let spans = prod.count(name, &["sent", "spans"]) as f64;
    let requests = prod.count(name, &["requests"]) as f64;
    spans * 4.0 / requests * 1000.0
}
