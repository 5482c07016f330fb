//! The metric shapes of the shop's services: the request-duration histogram and the business
//! counters.

use otel_parity_testkit::e2e::{Expectations, json_at};
use serde_json::Value;

use crate::shop::{REQUEST_DURATION_BOUNDS, ShopService};

/// `http.server.request.duration`, which every service records once per SERVER span.
pub fn expect_request_duration(
    expect: &mut Expectations,
    service: &ShopService,
    fingerprint: &Value,
) {
    expect.keys_eq(service.key, fingerprint, &["metrics"], service.metric_names);
    let s = format!("{} metric http.server.request.duration", service.key);
    let Some(metric) = json_at(fingerprint, &["metrics", "http.server.request.duration"]) else {
        return;
    };
    expect_single_key(expect, &s, metric, "types", "histogram");
    expect_single_key(expect, &s, metric, "units", "s");
    expect_single_key(expect, &s, metric, "temporalities", "cumulative");
    expect.u64_at_least(&s, metric, &["dataPoints"], 1);
    let layouts = json_at(metric, &["bucketLayouts"]).and_then(Value::as_array);
    let bounds: Option<Vec<f64>> = layouts
        .filter(|layouts| layouts.len() == 1)
        .and_then(|layouts| json_at(&layouts[0], &["bounds"]))
        .and_then(Value::as_array)
        .map(|bounds| bounds.iter().filter_map(Value::as_f64).collect());
    expect.check(
        bounds.as_deref() == Some(&REQUEST_DURATION_BOUNDS[..]),
        &format!("{s} → bucketLayouts"),
        format!("expected one layout with bounds {REQUEST_DURATION_BOUNDS:?}"),
        Some(metric),
    );
    expect.keys_eq(
        &s,
        metric,
        &["attributeKeys"],
        &[
            "http.request.method",
            "http.response.status_code",
            "http.route",
        ],
    );
    expect.f64_near(
        &s,
        metric,
        &["series", "estimate"],
        service.request_duration_series,
        0.5,
    );
}

/// The business counter: monotonic, over three payment methods × two currencies.
pub fn expect_orders_placed(expect: &mut Expectations, checkout: &Value) {
    let s = "shop/checkout metric app.orders.placed";
    match json_at(checkout, &["metrics", "app.orders.placed"]) {
        None => expect.fail(s, "missing", json_at(checkout, &["metrics"])),
        Some(metric) => {
            expect_single_key(expect, s, metric, "types", "sum");
            expect_single_key(expect, s, metric, "units", "{order}");
            expect_single_key(expect, s, metric, "temporalities", "cumulative");
            expect.u64_at_least(s, metric, &["monotonicPoints"], 1);
            expect.u64_eq(s, metric, &["nonMonotonicPoints"], 0);
            expect.keys_eq(
                s,
                metric,
                &["attributeKeys"],
                &["app.currency", "app.payment.method"],
            );
            // Three payment methods × two currencies, all combined within 20 orders.
            expect.f64_near(s, metric, &["series", "estimate"], 6.0, 0.5);
            expect.f64_near(
                s,
                metric,
                &["attributeKeys", "app.payment.method", "values", "estimate"],
                3.0,
                0.5,
            );
            expect.f64_near(
                s,
                metric,
                &["attributeKeys", "app.currency", "values", "estimate"],
                2.0,
                0.5,
            );
        }
    }
}

/// The in-flight up-down counter: non-monotonic sum points.
pub fn expect_payments_inflight(expect: &mut Expectations, payment: &Value) {
    let s = "shop/payment metric app.payment.inflight";
    match json_at(payment, &["metrics", "app.payment.inflight"]) {
        None => expect.fail(s, "missing", json_at(payment, &["metrics"])),
        Some(metric) => {
            expect_single_key(expect, s, metric, "types", "sum");
            expect_single_key(expect, s, metric, "units", "{payment}");
            expect.u64_at_least(s, metric, &["nonMonotonicPoints"], 1);
            expect.u64_eq(s, metric, &["monotonicPoints"], 0);
        }
    }
}

/// The map `field` of `metric` has exactly one key, `key`, with a non-zero count.
fn expect_single_key(
    expect: &mut Expectations,
    subject: &str,
    metric: &Value,
    field: &str,
    key: &str,
) {
    expect.keys_eq(subject, metric, &[field], &[key]);
    expect.u64_at_least(subject, metric, &[field, key], 1);
}
