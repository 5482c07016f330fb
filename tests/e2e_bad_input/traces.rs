//! The shop's trace export requests: checkout and payment spans of checkout traces, sized to
//! order.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status as SpanStatus, span, status,
};
use otel_parity_testkit::otlp::{double, int, scope, string};
use prost::Message;

use crate::requests::{EPOCH_NANOS, resource, span_id, trace_id};

/// Span flags: the W3C sampled bit plus "parent is remote".
const FLAGS_REMOTE_PARENT: u32 = 0x301;
/// Span flags: the W3C sampled bit plus "parent is local".
const FLAGS_LOCAL_PARENT: u32 = 0x101;

/// Every `ERROR_EVERY`th charge (trace index 4, 9, …) fails.
const ERROR_EVERY: u64 = 5;

/// Failed charges in `shop_traces(_, traces)`.
pub fn errors_in(traces: u64) -> u64 {
    traces / ERROR_EVERY
}

/// `traces` checkout traces of request `round`: per trace, checkout's `POST /checkout`
/// (SERVER), `prepare order` (INTERNAL) and `POST /charge` (CLIENT), and payment's
/// `POST /charge` (SERVER); every fifth charge fails with 503.
pub fn shop_traces(round: u64, traces: u64) -> ExportTraceServiceRequest {
    let mut checkout_spans = Vec::new();
    let mut payment_spans = Vec::new();
    for t in 0..traces {
        let tid = trace_id(round, t);
        let failed = t % ERROR_EVERY == ERROR_EVERY - 1;
        let start = EPOCH_NANOS + round * 1_000_000_000_000 + t * 250_000_000;
        let status_code: i64 = if failed { 503 } else { 200 };
        let error_status = || {
            failed.then(|| SpanStatus {
                code: status::StatusCode::Error as i32,
                message: "card declined by issuer".to_owned(),
            })
        };
        checkout_spans.push(Span {
            trace_id: tid.clone(),
            span_id: span_id(round, t, 1),
            parent_span_id: span_id(round, t, 0),
            trace_state: "ot=th:0".to_owned(),
            flags: FLAGS_REMOTE_PARENT,
            name: "POST /checkout".to_owned(),
            kind: span::SpanKind::Server as i32,
            start_time_unix_nano: start,
            end_time_unix_nano: start + 48_000_000,
            attributes: vec![
                string("http.request.method", "POST"),
                string("http.route", "/checkout"),
                string("url.path", "/checkout"),
                string("url.scheme", "http"),
                int("http.response.status_code", status_code),
                string("user_agent.original", "python-requests/2.32.3"),
                string("app.user.id", format!("user-{}", 1000 + t * 7)),
            ],
            status: error_status(),
            ..Default::default()
        });
        checkout_spans.push(Span {
            trace_id: tid.clone(),
            span_id: span_id(round, t, 2),
            parent_span_id: span_id(round, t, 1),
            trace_state: "ot=th:0".to_owned(),
            flags: FLAGS_LOCAL_PARENT,
            name: "prepare order".to_owned(),
            kind: span::SpanKind::Internal as i32,
            start_time_unix_nano: start + 1_000_000,
            end_time_unix_nano: start + 9_000_000,
            attributes: vec![
                int("app.order.items", 1 + (t % 4) as i64),
                string("app.order.currency", "USD"),
                double("app.order.total", 19.99 + t as f64),
            ],
            events: vec![span::Event {
                time_unix_nano: start + 5_000_000,
                name: "inventory reserved".to_owned(),
                attributes: vec![string("app.warehouse", "eu-west-1a")],
                ..Default::default()
            }],
            ..Default::default()
        });
        checkout_spans.push(Span {
            trace_id: tid.clone(),
            span_id: span_id(round, t, 3),
            parent_span_id: span_id(round, t, 2),
            trace_state: "ot=th:0".to_owned(),
            flags: FLAGS_LOCAL_PARENT,
            name: "POST /charge".to_owned(),
            kind: span::SpanKind::Client as i32,
            start_time_unix_nano: start + 10_000_000,
            end_time_unix_nano: start + 46_000_000,
            attributes: vec![
                string("http.request.method", "POST"),
                string("server.address", "payment"),
                int("server.port", 8080),
                string("url.full", "http://payment:8080/charge"),
                int("http.response.status_code", status_code),
            ],
            status: error_status(),
            ..Default::default()
        });
        payment_spans.push(Span {
            trace_id: tid,
            span_id: span_id(round, t, 4),
            parent_span_id: span_id(round, t, 3),
            trace_state: "ot=th:0".to_owned(),
            flags: FLAGS_REMOTE_PARENT,
            name: "POST /charge".to_owned(),
            kind: span::SpanKind::Server as i32,
            start_time_unix_nano: start + 12_000_000,
            end_time_unix_nano: start + 44_000_000,
            attributes: vec![
                string("http.request.method", "POST"),
                string("http.route", "/charge"),
                int("http.response.status_code", status_code),
                string(
                    "app.payment.card_brand",
                    ["visa", "amex", "mastercard"][(t % 3) as usize],
                ),
            ],
            status: error_status(),
            ..Default::default()
        });
    }
    ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: Some(resource("checkout", "1.8.0", "checkout-0")),
                scope_spans: vec![ScopeSpans {
                    scope: scope("shop.checkout", "1.8.0"),
                    spans: checkout_spans,
                    ..Default::default()
                }],
                ..Default::default()
            },
            ResourceSpans {
                resource: Some(resource("payment", "0.9.4", "payment-0")),
                scope_spans: vec![ScopeSpans {
                    scope: scope("shop.payment", "0.9.4"),
                    spans: payment_spans,
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
    }
}

/// Spans in `shop_traces(_, traces)`.
pub fn spans_in(traces: u64) -> u64 {
    4 * traces
}

/// The smallest number of traces whose `shop_traces(round, _)` encodes to at least `bytes`.
fn traces_for_size(round: u64, bytes: usize) -> u64 {
    let size = |traces: u64| shop_traces(round, traces).encoded_len();
    let mut high = 1;
    while size(high) < bytes {
        high *= 2;
    }
    let mut low = 0;
    // size(low) < bytes <= size(high)
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if size(mid) < bytes {
            low = mid;
        } else {
            high = mid;
        }
    }
    high
}

/// A traces request of at least `bytes` encoded, and how many traces it holds.
pub fn shop_traces_of_at_least(round: u64, bytes: usize) -> (ExportTraceServiceRequest, u64) {
    let traces = traces_for_size(round, bytes);
    (shop_traces(round, traces), traces)
}

/// The largest traces request of at most `bytes` encoded, and how many traces it holds.
pub fn shop_traces_of_at_most(round: u64, bytes: usize) -> (ExportTraceServiceRequest, u64) {
    let traces = traces_for_size(round, bytes + 1) - 1;
    (shop_traces(round, traces), traces)
}
