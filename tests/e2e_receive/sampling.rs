//! Sampling thresholds and the adjusted counts of a shop service.

use otel_parity_testkit::e2e::{Expectations, json_at};
use serde_json::Value;

use crate::shop::ShopService;

/// Every span carries `ot=th:c` (probability 0.25); requests counted by the request-duration
/// histogram (cumulative points turned into deltas) match the SERVER spans one to one.
pub fn expect_sampling(
    expect: &mut Expectations,
    service: &ShopService,
    fingerprint: &Value,
    requests: u64,
) {
    let s = format!("{} sampling", service.key);
    let Some(sampling) = json_at(fingerprint, &["sampling"]) else {
        expect.fail(&s, "missing", Some(fingerprint));
        return;
    };
    let thresholds = json_at(sampling, &["thresholds"]).and_then(Value::as_array);
    match thresholds.map(Vec::as_slice) {
        Some([only]) => {
            expect.str_eq(&s, only, &["threshold"], "c");
            expect.f64_near(&s, only, &["probability"], 0.25, 1e-12);
            expect.u64_eq(&s, only, &["spans"], service.spans);
        }
        _ => expect.fail(
            &format!("{s} → thresholds"),
            format!(
                "expected exactly [{{threshold \"c\", probability 0.25, spans {}}}]",
                service.spans
            ),
            Some(sampling),
        ),
    }
    expect.u64_eq(&s, sampling, &["spansWithoutThreshold"], 0);
    expect.u64_eq(&s, sampling, &["serverSpans"], service.server_spans);
    // Adjusted count 1 / 0.25 = 4 per SERVER span.
    expect.f64_near(
        &s,
        sampling,
        &["serverSpansAdjusted"],
        4.0 * service.server_spans as f64,
        1e-9,
    );
    expect.u64_eq(&s, sampling, &["serverSpansWithoutThreshold"], 0);
    expect.u64_eq(&s, sampling, &["requestMetricCount"], requests);
    expect.f64_near(
        &s,
        sampling,
        &["inferredRate"],
        service.server_spans as f64 / requests as f64,
        1e-9,
    );
}
