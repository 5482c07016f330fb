//! The shop over OTLP/gRPC and OTLP/HTTP must yield the fingerprint its traffic implies: the
//! tests, and the expectation over the whole snapshot that calls the per-signal ones.

use otel_parity_testkit::e2e::{Expectations, json_at};
use serde_json::Value;

use crate::ingestion::expect_ingestion;
use crate::logs::expect_logs;
use crate::metrics::{expect_orders_placed, expect_payments_inflight, expect_request_duration};
use crate::resource::expect_resource;
use crate::run::run_shop;
use crate::sampling::expect_sampling;
use crate::shop::{REQUESTS, ShopService, shop_services, summary_count};
use crate::traces::{expect_checkout_spans, expect_frontend_spans, expect_payment_spans};

#[test]
fn python_sdk_over_grpc_yields_expected_fingerprint() {
    shop_fingerprint_over("grpc");
}

#[test]
fn python_sdk_over_http_yields_expected_fingerprint() {
    shop_fingerprint_over("http");
}

fn shop_fingerprint_over(protocol: &str) {
    let run = run_shop(&[], protocol, "staging", REQUESTS);
    let mut expect = Expectations::new();
    run.expect_clean_run(&mut expect);
    expect_shop_fingerprint(&mut expect, &run.final_snapshot, &run.summary, REQUESTS);
    expect.finish(&format!("shop.py over OTLP/{protocol}"), &run.diagnostics());
}

/// Every expectation about the fingerprint of `requests` shop requests in environment
/// "staging", the environment coming from the resource attribute.
fn expect_shop_fingerprint(
    expect: &mut Expectations,
    snapshot: &Value,
    summary: &Value,
    requests: u64,
) {
    let services = shop_services(requests);

    expect.keys_eq("snapshot", snapshot, &["environments"], &["staging"]);
    let Some(environment) = json_at(snapshot, &["environments", "staging"]) else {
        return;
    };
    expect.keys_eq(
        "environment staging",
        environment,
        &["services"],
        &["shop/checkout", "shop/frontend", "shop/payment"],
    );

    for service in &services {
        let Some(fingerprint) = json_at(environment, &["services", service.key]) else {
            expect.fail(
                service.key,
                "service missing from environment staging",
                Some(environment),
            );
            continue;
        };
        let key = service.key;
        let (namespace, name) = key.split_once('/').unwrap_or(("", key));
        expect.str_eq(key, fingerprint, &["namespace"], namespace);
        expect.str_eq(key, fingerprint, &["name"], name);
        expect_resource(expect, service, fingerprint, summary);
        expect_request_duration(expect, service, fingerprint);
        expect_sampling(expect, service, fingerprint, requests);
        expect_logs(expect, service, fingerprint);
        expect_ingestion(expect, service, fingerprint, summary);
    }

    let service = |key: &str| json_at(environment, &["services", key]);
    if let Some(frontend) = service("shop/frontend") {
        expect_frontend_spans(expect, frontend, requests);
    }
    if let Some(checkout) = service("shop/checkout") {
        expect_checkout_spans(expect, checkout, requests);
        expect_orders_placed(expect, checkout);
    }
    if let Some(payment) = service("shop/payment") {
        expect_payment_spans(expect, payment, requests);
        expect_payments_inflight(expect, payment);
    }

    let all_spans: u64 = services.iter().map(|s| s.spans).sum();
    let all_logs: u64 = services.iter().map(ShopService::log_records).sum();
    let sent_points: u64 = ["frontend", "checkout", "payment"]
        .iter()
        .map(|name| summary_count(summary, name, "metric_points"))
        .sum();
    let received = json_at(snapshot, &["received"]).unwrap_or(&Value::Null);
    expect.u64_eq("received", received, &["traces", "items"], all_spans);
    expect.u64_eq("received", received, &["logs", "items"], all_logs);
    expect.u64_eq("received", received, &["metrics", "items"], sent_points);
    for signal in ["traces", "metrics", "logs"] {
        expect.u64_at_least("received", received, &[signal, "requests"], 1);
        expect.u64_eq("received", received, &[signal, "rejectedRequests"], 0);
        expect.u64_eq("received", received, &[signal, "rejectedItems"], 0);
        expect.u64_at_least("received", received, &[signal, "wireBytes"], 1);
    }
}
