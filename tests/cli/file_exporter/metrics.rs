//! Metric lines: request-duration histograms and counters.

use serde_json::{Value, json};

use super::{EPOCH_NANOS, EnvironmentAttribute, MILLIS, int_attr, nanos, resource, string_attr};

/// Checkout's request-duration bucket bounds (the semantic conventions' advice, Go SDK).
pub const CHECKOUT_DURATION_BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
/// Frontend's request-duration bucket bounds: seconds too, but another layout.
pub const FRONTEND_DURATION_BOUNDS: [f64; 4] = [0.1, 0.5, 1.0, 5.0];

/// Data points per [`shop_metrics_line`]: checkout's request duration (2 series) and orders
/// counter, frontend's request duration.
pub const POINTS_PER_METRICS_LINE: u64 = 4;

fn duration_point(attributes: Vec<Value>, bounds: &[f64], batch: u64) -> Value {
    let buckets: Vec<String> = (0..=bounds.len())
        .map(|i| ((i as u64 * 3 + batch) % 5).to_string())
        .collect();
    json!({
        "attributes": attributes,
        "startTimeUnixNano": nanos(EPOCH_NANOS),
        "timeUnixNano": nanos(EPOCH_NANOS + batch * 60_000 * MILLIS),
        "count": "17", "sum": 2.35, "bucketCounts": buckets, "explicitBounds": bounds,
        "min": 0.004, "max": 1.2,
    })
}

/// One metrics request: checkout's `http.server.request.duration` histogram (2 series) and
/// `app.orders.placed` counter, frontend's `http.server.request.duration` (1 series).
pub fn shop_metrics_line(environment: EnvironmentAttribute, batch: u64) -> String {
    let checkout_series = |code: i64| {
        vec![
            string_attr("http.request.method", "POST"),
            string_attr("http.route", "/checkout"),
            int_attr("http.response.status_code", code),
        ]
    };
    let checkout_duration = json!({
        "name": "http.server.request.duration",
        "description": "Duration of HTTP server requests.",
        "unit": "s",
        "histogram": {
            "dataPoints": [
                duration_point(checkout_series(200), &CHECKOUT_DURATION_BOUNDS, batch),
                duration_point(checkout_series(500), &CHECKOUT_DURATION_BOUNDS, batch),
            ],
            "aggregationTemporality": 2,
        },
    });
    let orders = json!({
        "name": "app.orders.placed",
        "unit": "{order}",
        "sum": {
            "dataPoints": [{
                "attributes": [string_attr("app.order.currency", "EUR")],
                "startTimeUnixNano": nanos(EPOCH_NANOS),
                "timeUnixNano": nanos(EPOCH_NANOS + batch * 60_000 * MILLIS),
                "asInt": (40 + batch).to_string(),
            }],
            "aggregationTemporality": 2,
            "isMonotonic": true,
        },
    });
    let frontend_duration = json!({
        "name": "http.server.request.duration",
        "unit": "s",
        "histogram": {
            "dataPoints": [duration_point(
                vec![
                    string_attr("http.request.method", "POST"),
                    string_attr("http.route", "/api/checkout"),
                ],
                &FRONTEND_DURATION_BOUNDS,
                batch,
            )],
            "aggregationTemporality": 2,
        },
    });
    json!({ "resourceMetrics": [
        {
            "resource": resource("checkout", "go", environment),
            "scopeMetrics": [{
                "scope": { "name": "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp" },
                "metrics": [checkout_duration, orders],
            }],
        },
        {
            "resource": resource("frontend", "nodejs", environment),
            "scopeMetrics": [{
                "scope": { "name": "@opentelemetry/instrumentation-http" },
                "metrics": [frontend_duration],
            }],
        },
    ]})
    .to_string()
}

/// One metrics request of payment: the `app.payment.charges` counter (delta, 1 point).
pub fn payment_metrics_line(environment: EnvironmentAttribute, batch: u64) -> String {
    json!({ "resourceMetrics": [{
        "resource": resource("payment", "python", environment),
        "scopeMetrics": [{
            "scope": { "name": "payment" },
            "metrics": [{
                "name": "app.payment.charges",
                "unit": "{charge}",
                "sum": {
                    "dataPoints": [{
                        "attributes": [string_attr("app.payment.card_brand", "visa")],
                        "startTimeUnixNano": nanos(EPOCH_NANOS + (batch - 1) * 60_000 * MILLIS),
                        "timeUnixNano": nanos(EPOCH_NANOS + batch * 60_000 * MILLIS),
                        "asInt": "12",
                    }],
                    "aggregationTemporality": 1,
                    "isMonotonic": true,
                },
            }],
        }],
    }]})
    .to_string()
}
