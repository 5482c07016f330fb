//! What a shop service's fingerprint says was ingested from it, per signal.

use otel_parity_testkit::e2e::{Expectations, json_at};
use serde_json::Value;

use crate::shop::{ShopService, summary_count};

pub fn expect_ingestion(
    expect: &mut Expectations,
    service: &ShopService,
    fingerprint: &Value,
    summary: &Value,
) {
    let s = format!("{} ingestion", service.key);
    let ingestion = json_at(fingerprint, &["ingestion"]).unwrap_or(&Value::Null);
    expect.u64_eq(&s, ingestion, &["traces", "items"], service.spans);
    expect.u64_eq(&s, ingestion, &["logs", "items"], service.log_records());
    let short_name = service.key.trim_start_matches("shop/");
    expect.u64_eq(
        &s,
        ingestion,
        &["metrics", "items"],
        summary_count(summary, short_name, "metric_points"),
    );
    for signal in ["traces", "metrics", "logs"] {
        expect.u64_at_least(&s, ingestion, &[signal, "requests"], 1);
        expect.u64_at_least(&s, ingestion, &[signal, "bytes"], 1);
    }
}
