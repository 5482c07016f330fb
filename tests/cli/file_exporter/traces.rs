//! Trace lines: checkouts through frontend and checkout, and payment's charges.

use serde_json::json;

use super::{
    EPOCH_NANOS, EnvironmentAttribute, MILLIS, double_attr, int_attr, nanos, resource, span_id,
    string_attr, trace_id,
};

/// Spans per trace in [`checkout_traces_line`]: frontend SERVER and CLIENT, checkout SERVER
/// and INTERNAL.
pub const SPANS_PER_CHECKOUT: u64 = 4;

const SPAN_KIND_INTERNAL: u32 = 1;
const SPAN_KIND_SERVER: u32 = 2;
const SPAN_KIND_CLIENT: u32 = 3;
const STATUS_CODE_ERROR: u32 = 2;
/// W3C sampled, parent flagged local (or no parent).
const FLAGS_LOCAL: u32 = 0x101;
/// W3C sampled, parent flagged remote.
const FLAGS_REMOTE: u32 = 0x301;

/// Failed checkouts among `traces` traces of one [`checkout_traces_line`].
pub fn failed_in(traces: u64) -> u64 {
    traces / 4
}

fn failed(trace: u64) -> bool {
    trace % 4 == 3
}

/// One traces request: `traces` checkouts, each a frontend `POST /api/checkout` SERVER span
/// (a root) with a `POST` CLIENT child, calling checkout's `POST /checkout` SERVER span (remote
/// parent) with a `prepare order` INTERNAL child.
pub fn checkout_traces_line(environment: EnvironmentAttribute, batch: u64, traces: u64) -> String {
    let mut frontend = Vec::new();
    let mut checkout = Vec::new();
    for t in 0..traces {
        let trace = trace_id(batch, t);
        let start = EPOCH_NANOS + batch * 60_000 * MILLIS + t * 200 * MILLIS;
        let (code, status) = if failed(t) {
            (
                500,
                json!({ "code": STATUS_CODE_ERROR, "message": "payment declined" }),
            )
        } else {
            (200, json!({}))
        };
        frontend.push(json!({
            "traceId": trace, "spanId": span_id(batch, t, 1), "flags": FLAGS_LOCAL,
            "name": "POST /api/checkout", "kind": SPAN_KIND_SERVER,
            "startTimeUnixNano": nanos(start), "endTimeUnixNano": nanos(start + 120 * MILLIS),
            "attributes": [
                string_attr("http.request.method", "POST"),
                string_attr("http.route", "/api/checkout"),
                string_attr("url.path", "/api/checkout"),
                int_attr("http.response.status_code", code),
                string_attr("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)"),
                string_attr("client.address", &format!("10.1.{}.{}", t % 7, t % 250)),
            ],
            "status": status,
        }));
        frontend.push(json!({
            "traceId": trace, "spanId": span_id(batch, t, 2), "parentSpanId": span_id(batch, t, 1),
            "flags": FLAGS_LOCAL, "name": "POST", "kind": SPAN_KIND_CLIENT,
            "startTimeUnixNano": nanos(start + 5 * MILLIS),
            "endTimeUnixNano": nanos(start + 110 * MILLIS),
            "attributes": [
                string_attr("http.request.method", "POST"),
                string_attr("server.address", "checkout"),
                int_attr("server.port", 8080),
                string_attr("url.full", "http://checkout:8080/checkout"),
                int_attr("http.response.status_code", code),
            ],
            "status": status,
        }));
        checkout.push(json!({
            "traceId": trace, "spanId": span_id(batch, t, 3), "parentSpanId": span_id(batch, t, 2),
            "traceState": "ot=th:0", "flags": FLAGS_REMOTE,
            "name": "POST /checkout", "kind": SPAN_KIND_SERVER,
            "startTimeUnixNano": nanos(start + 8 * MILLIS),
            "endTimeUnixNano": nanos(start + 105 * MILLIS),
            "attributes": [
                string_attr("http.request.method", "POST"),
                string_attr("http.route", "/checkout"),
                int_attr("http.response.status_code", code),
                string_attr("app.user.id", &format!("user-{}", 1000 + 7 * t)),
            ],
            "status": status,
        }));
        checkout.push(json!({
            "traceId": trace, "spanId": span_id(batch, t, 4), "parentSpanId": span_id(batch, t, 3),
            "traceState": "ot=th:0", "flags": FLAGS_LOCAL,
            "name": "prepare order", "kind": SPAN_KIND_INTERNAL,
            "startTimeUnixNano": nanos(start + 10 * MILLIS),
            "endTimeUnixNano": nanos(start + 30 * MILLIS),
            "attributes": [
                int_attr("app.order.items", 1 + (t % 4) as i64),
                double_attr("app.order.total", 19.99 + t as f64),
            ],
            "events": [{
                "timeUnixNano": nanos(start + 20 * MILLIS),
                "name": "inventory reserved",
                "attributes": [string_attr("app.warehouse", "eu-west-1a")],
            }],
            "status": {},
        }));
    }
    json!({ "resourceSpans": [
        {
            "resource": resource("frontend", "nodejs", environment),
            "scopeSpans": [{
                "scope": { "name": "@opentelemetry/instrumentation-http", "version": "0.57.2" },
                "spans": frontend,
            }],
        },
        {
            "resource": resource("checkout", "go", environment),
            "scopeSpans": [{
                "scope": {
                    "name": "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
                    "version": "0.60.0",
                },
                "spans": checkout,
            }],
        },
    ]})
    .to_string()
}

/// One traces request of payment: `charges` `POST /charge` SERVER spans (remote parents), each
/// with a `POST` CLIENT child to the card processor.
pub fn payment_traces_line(environment: EnvironmentAttribute, batch: u64, charges: u64) -> String {
    let mut spans = Vec::new();
    for c in 0..charges {
        let trace = trace_id(batch, c);
        let start = EPOCH_NANOS + batch * 60_000 * MILLIS + c * 300 * MILLIS;
        spans.push(json!({
            "traceId": trace, "spanId": span_id(batch, c, 5), "parentSpanId": span_id(batch, c, 4),
            "flags": FLAGS_REMOTE, "name": "POST /charge", "kind": SPAN_KIND_SERVER,
            "startTimeUnixNano": nanos(start), "endTimeUnixNano": nanos(start + 80 * MILLIS),
            "attributes": [
                string_attr("http.request.method", "POST"),
                string_attr("http.route", "/charge"),
                int_attr("http.response.status_code", 200),
            ],
            "status": {},
        }));
        spans.push(json!({
            "traceId": trace, "spanId": span_id(batch, c, 6), "parentSpanId": span_id(batch, c, 5),
            "flags": FLAGS_LOCAL, "name": "POST", "kind": SPAN_KIND_CLIENT,
            "startTimeUnixNano": nanos(start + 2 * MILLIS),
            "endTimeUnixNano": nanos(start + 75 * MILLIS),
            "attributes": [
                string_attr("http.request.method", "POST"),
                string_attr("server.address", "api.stripe.com"),
                int_attr("server.port", 443),
                int_attr("http.response.status_code", 200),
            ],
            "status": {},
        }));
    }
    json!({ "resourceSpans": [{
        "resource": resource("payment", "python", environment),
        "scopeSpans": [{
            "scope": { "name": "opentelemetry.instrumentation.flask", "version": "0.51b0" },
            "spans": spans,
        }],
    }]})
    .to_string()
}
