//! End to end: bad input sent to a real `otel-parity receive` process over real sockets, over
//! OTLP/gRPC (a tonic client that sends raw, possibly malformed, message bytes) and OTLP/HTTP
//! (handwritten HTTP/1.1 on a TCP stream). Every bad request must get the protocol's own
//! error (DESIGN.md, "Ports and endpoints"), and the receiver must keep serving: a good request
//! before and one after the bad one succeed, and the snapshot written at SIGTERM counts exactly
//! the good items (per service and operation) and the rejected requests, nothing more.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use bytes::{Buf, BufMut};
use flate2::Compression;
use flate2::write::GzEncoder;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status as SpanStatus, span, status,
};
use prost::Message;
use serde_json::{Value, json};
use support::{Expectations, ReceiverProcess, ScratchDir, json_at, proto_u64};
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

/// The `deployment.environment.name` of all the test telemetry.
const ENVIRONMENT: &str = "production";
const CHECKOUT: &str = "shop/checkout";
const PAYMENT: &str = "shop/payment";
/// How long one gRPC call or HTTP exchange may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Receiver memory high-water mark allowed after a decompression bomb.
const MAX_RECEIVER_PEAK_RSS_BYTES: u64 = 200 * 1024 * 1024;
/// First span start of the test data: 2023-11-14T22:13:20Z.
const EPOCH_NANOS: u64 = 1_700_000_000_000_000_000;

// ---------------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sig {
    Traces,
    Metrics,
    Logs,
}

impl Sig {
    const ALL: [Sig; 3] = [Sig::Traces, Sig::Metrics, Sig::Logs];

    /// The key under the snapshot's `received` map.
    fn key(self) -> &'static str {
        match self {
            Sig::Traces => "traces",
            Sig::Metrics => "metrics",
            Sig::Logs => "logs",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn grpc_service(self) -> &'static str {
        match self {
            Sig::Traces => "opentelemetry.proto.collector.trace.v1.TraceService",
            Sig::Metrics => "opentelemetry.proto.collector.metrics.v1.MetricsService",
            Sig::Logs => "opentelemetry.proto.collector.logs.v1.LogsService",
        }
    }

    fn grpc_export_path(self) -> String {
        format!("/{}/Export", self.grpc_service())
    }

    fn http_path(self) -> &'static str {
        match self {
            Sig::Traces => "/v1/traces",
            Sig::Metrics => "/v1/metrics",
            Sig::Logs => "/v1/logs",
        }
    }

    /// Items rejected according to an export response body (protobuf), with the message.
    fn decode_rejected(self, body: &[u8]) -> Result<(i64, String), prost::DecodeError> {
        Ok(match self {
            Sig::Traces => ExportTraceServiceResponse::decode(body)?
                .partial_success
                .map_or((0, String::new()), |p| (p.rejected_spans, p.error_message)),
            Sig::Metrics => ExportMetricsServiceResponse::decode(body)?
                .partial_success
                .map_or((0, String::new()), |p| {
                    (p.rejected_data_points, p.error_message)
                }),
            Sig::Logs => ExportLogsServiceResponse::decode(body)?
                .partial_success
                .map_or((0, String::new()), |p| {
                    (p.rejected_log_records, p.error_message)
                }),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Test data: a checkout service calling a payment service
// ---------------------------------------------------------------------------------------------

fn string_kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

fn int_kv(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

fn double_kv(key: &str, value: f64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::DoubleValue(value)),
        }),
        ..Default::default()
    }
}

fn resource(service: &str, version: &str, instance: &str) -> Resource {
    Resource {
        attributes: vec![
            string_kv("service.namespace", "shop"),
            string_kv("service.name", service),
            string_kv("service.version", version),
            string_kv("service.instance.id", instance),
            string_kv("deployment.environment.name", ENVIRONMENT),
            string_kv("host.name", &format!("{service}-7d9f8b6c4-x2k9q")),
            string_kv("telemetry.sdk.name", "opentelemetry"),
            string_kv("telemetry.sdk.language", "rust"),
            string_kv("telemetry.sdk.version", "0.31.0"),
        ],
        ..Default::default()
    }
}

fn scope(name: &str, version: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: name.to_owned(),
        version: version.to_owned(),
        ..Default::default()
    })
}

/// A trace id unique to (round, trace), never all zero.
fn trace_id(round: u64, trace: u64) -> Vec<u8> {
    let mut id = Vec::with_capacity(16);
    id.extend_from_slice(&(0x4bf9_2f35_77b3_4da6 ^ round).to_be_bytes());
    id.extend_from_slice(&(0xa3ce_929d_0e0e_4736_u64.wrapping_add(trace)).to_be_bytes());
    id
}

/// Span id `n` (0–15) of (round, trace), never all zero.
fn span_id(round: u64, trace: u64, n: u64) -> Vec<u8> {
    ((round << 48) | (trace << 8) | (n + 1))
        .to_be_bytes()
        .to_vec()
}

/// Span flags: the W3C sampled bit plus "parent is remote".
const FLAGS_REMOTE_PARENT: u32 = 0x301;
/// Span flags: the W3C sampled bit plus "parent is local".
const FLAGS_LOCAL_PARENT: u32 = 0x101;

/// Every `ERROR_EVERY`th charge (trace index 4, 9, …) fails.
const ERROR_EVERY: u64 = 5;

fn errors_in(traces: u64) -> u64 {
    traces / ERROR_EVERY
}

/// `traces` checkout traces of request `round`: per trace, checkout's `POST /checkout`
/// (SERVER), `prepare order` (INTERNAL) and `POST /charge` (CLIENT), and payment's
/// `POST /charge` (SERVER); every fifth charge fails with 503.
fn shop_traces(round: u64, traces: u64) -> ExportTraceServiceRequest {
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
                string_kv("http.request.method", "POST"),
                string_kv("http.route", "/checkout"),
                string_kv("url.path", "/checkout"),
                string_kv("url.scheme", "http"),
                int_kv("http.response.status_code", status_code),
                string_kv("user_agent.original", "python-requests/2.32.3"),
                string_kv("app.user.id", &format!("user-{}", 1000 + t * 7)),
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
                int_kv("app.order.items", 1 + (t % 4) as i64),
                string_kv("app.order.currency", "USD"),
                double_kv("app.order.total", 19.99 + t as f64),
            ],
            events: vec![span::Event {
                time_unix_nano: start + 5_000_000,
                name: "inventory reserved".to_owned(),
                attributes: vec![string_kv("app.warehouse", "eu-west-1a")],
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
                string_kv("http.request.method", "POST"),
                string_kv("server.address", "payment"),
                int_kv("server.port", 8080),
                string_kv("url.full", "http://payment:8080/charge"),
                int_kv("http.response.status_code", status_code),
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
                string_kv("http.request.method", "POST"),
                string_kv("http.route", "/charge"),
                int_kv("http.response.status_code", status_code),
                string_kv(
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
fn spans_in(traces: u64) -> u64 {
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
fn shop_traces_of_at_least(round: u64, bytes: usize) -> (ExportTraceServiceRequest, u64) {
    let traces = traces_for_size(round, bytes);
    (shop_traces(round, traces), traces)
}

/// The largest traces request of at most `bytes` encoded, and how many traces it holds.
fn shop_traces_of_at_most(round: u64, bytes: usize) -> (ExportTraceServiceRequest, u64) {
    let traces = traces_for_size(round, bytes + 1) - 1;
    (shop_traces(round, traces), traces)
}

const REQUEST_DURATION_BOUNDS: [f64; 10] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// One metrics export of request `round`: checkout's `http.server.request.duration` with
/// `series` points (one per route and status), `app.orders.placed` (1 point), and payment's
/// `app.payment.inflight` gauge (1 point).
fn shop_metrics(round: u64, series: u64) -> ExportMetricsServiceRequest {
    let time = EPOCH_NANOS + round * 1_000_000_000_000;
    let routes = [
        "/checkout",
        "/cart",
        "/api/products",
        "/api/recommendations",
    ];
    let histogram_points = (0..series)
        .map(|i| HistogramDataPoint {
            attributes: vec![
                string_kv(
                    "http.request.method",
                    if i % 2 == 0 { "POST" } else { "GET" },
                ),
                string_kv("http.route", routes[(i as usize) % routes.len()]),
                int_kv(
                    "http.response.status_code",
                    if i % 5 == 4 { 503 } else { 200 },
                ),
            ],
            start_time_unix_nano: EPOCH_NANOS,
            time_unix_nano: time,
            count: 11,
            sum: Some(0.42),
            bucket_counts: vec![1, 2, 3, 2, 1, 1, 1, 0, 0, 0, 0],
            explicit_bounds: REQUEST_DURATION_BOUNDS.to_vec(),
            min: Some(0.003),
            max: Some(0.9),
            ..Default::default()
        })
        .collect();
    let checkout_metrics = vec![
        Metric {
            name: "http.server.request.duration".to_owned(),
            description: "Duration of HTTP server requests.".to_owned(),
            unit: "s".to_owned(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: histogram_points,
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })),
            ..Default::default()
        },
        Metric {
            name: "app.orders.placed".to_owned(),
            unit: "{order}".to_owned(),
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![NumberDataPoint {
                    attributes: vec![string_kv("app.order.currency", "USD")],
                    start_time_unix_nano: EPOCH_NANOS,
                    time_unix_nano: time,
                    value: Some(number_data_point::Value::AsInt(17 + round as i64)),
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        },
    ];
    let payment_metrics = vec![Metric {
        name: "app.payment.inflight".to_owned(),
        unit: "{request}".to_owned(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                attributes: vec![string_kv("app.payment.processor", "stripe")],
                time_unix_nano: time,
                value: Some(number_data_point::Value::AsDouble(3.0)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    }];
    ExportMetricsServiceRequest {
        resource_metrics: vec![
            ResourceMetrics {
                resource: Some(resource("checkout", "1.8.0", "checkout-0")),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope("shop.checkout", "1.8.0"),
                    metrics: checkout_metrics,
                    ..Default::default()
                }],
                ..Default::default()
            },
            ResourceMetrics {
                resource: Some(resource("payment", "0.9.4", "payment-0")),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope("shop.payment", "0.9.4"),
                    metrics: payment_metrics,
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
    }
}

/// Data points in `shop_metrics(_, series)`.
fn points_in(series: u64) -> u64 {
    series + 2
}

/// One logs export of request `round`: `records` INFO "order placed" records from checkout
/// (each with a trace id) and one WARN "card declined" from payment.
fn shop_logs(round: u64, records: u64) -> ExportLogsServiceRequest {
    let time = EPOCH_NANOS + round * 1_000_000_000_000;
    let checkout_records = (0..records)
        .map(|r| LogRecord {
            time_unix_nano: time + r * 1_000_000,
            observed_time_unix_nano: time + r * 1_000_000 + 200_000,
            severity_number: SeverityNumber::Info as i32,
            severity_text: "INFO".to_owned(),
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!(
                    "order {} placed",
                    round * 1000 + r
                ))),
            }),
            attributes: vec![
                string_kv("app.order.id", &format!("ord-{}", round * 1000 + r)),
                double_kv("app.order.total", 42.5 + r as f64),
            ],
            trace_id: trace_id(round, r),
            span_id: span_id(round, r, 1),
            flags: 1,
            ..Default::default()
        })
        .collect();
    let payment_records = vec![LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time + 100_000,
        severity_number: SeverityNumber::Warn as i32,
        severity_text: "WARN".to_owned(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue("card declined".to_owned())),
        }),
        attributes: vec![string_kv("app.payment.card_brand", "amex")],
        ..Default::default()
    }];
    ExportLogsServiceRequest {
        resource_logs: vec![
            ResourceLogs {
                resource: Some(resource("checkout", "1.8.0", "checkout-0")),
                scope_logs: vec![ScopeLogs {
                    scope: scope("shop.checkout", "1.8.0"),
                    log_records: checkout_records,
                    ..Default::default()
                }],
                ..Default::default()
            },
            ResourceLogs {
                resource: Some(resource("payment", "0.9.4", "payment-0")),
                scope_logs: vec![ScopeLogs {
                    scope: scope("shop.payment", "0.9.4"),
                    log_records: payment_records,
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
    }
}

/// Log records in `shop_logs(_, records)`.
fn records_in(records: u64) -> u64 {
    records + 1
}

/// Appends an unknown length-delimited field (number 1000) of `len` zero bytes: a request that
/// is valid protobuf and, decompressed, `len` bytes larger.
fn with_zero_padding(mut message: Vec<u8>, len: usize) -> Vec<u8> {
    // Tag: field 1000, wire type 2.
    put_varint(&mut message, (1000 << 3) | 2);
    put_varint(&mut message, len as u64);
    message.resize(message.len() + len, 0);
    message
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(data)
        .unwrap_or_else(|e| panic!("gzip into memory failed: {e}"));
    encoder
        .finish()
        .unwrap_or_else(|e| panic!("gzip into memory failed: {e}"))
}

/// `message` with the first occurrence of `marker` overwritten by the same number of bytes
/// that are not UTF-8 (a continuation byte, then 0xFF), so the framing stays valid.
fn with_invalid_utf8(mut message: Vec<u8>, marker: &str) -> Vec<u8> {
    let marker = marker.as_bytes();
    let at = message
        .windows(marker.len())
        .position(|w| w == marker)
        .unwrap_or_else(|| panic!("marker {marker:?} not in the encoded message"));
    message[at] = 0x80;
    message[at + 1] = 0xff;
    assert!(std::str::from_utf8(&message[at..at + marker.len()]).is_err());
    message
}

// ---------------------------------------------------------------------------------------------
// OTLP/JSON, written by hand from the protobuf types (hex ids, lowerCamelCase, int64 as strings)
// ---------------------------------------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn any_value_json(value: &AnyValue) -> Value {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => json!({ "stringValue": s }),
        Some(any_value::Value::IntValue(i)) => json!({ "intValue": i.to_string() }),
        Some(any_value::Value::DoubleValue(d)) => json!({ "doubleValue": d }),
        Some(any_value::Value::BoolValue(b)) => json!({ "boolValue": b }),
        other => panic!("the test data has no {other:?} values"),
    }
}

fn attributes_json(attributes: &[KeyValue]) -> Value {
    Value::Array(
        attributes
            .iter()
            .map(|kv| {
                json!({
                    "key": kv.key,
                    "value": kv.value.as_ref().map_or(json!({}), any_value_json),
                })
            })
            .collect(),
    )
}

fn span_json(span: &Span) -> Value {
    let mut out = json!({
        "traceId": hex(&span.trace_id),
        "spanId": hex(&span.span_id),
        "traceState": span.trace_state,
        "parentSpanId": hex(&span.parent_span_id),
        "flags": span.flags,
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": span.start_time_unix_nano.to_string(),
        "endTimeUnixNano": span.end_time_unix_nano.to_string(),
        "attributes": attributes_json(&span.attributes),
        "events": span.events.iter().map(|e| json!({
            "timeUnixNano": e.time_unix_nano.to_string(),
            "name": e.name,
            "attributes": attributes_json(&e.attributes),
        })).collect::<Vec<_>>(),
    });
    if let Some(status) = &span.status {
        out["status"] = json!({ "code": status.code, "message": status.message });
    }
    out
}

fn traces_json(request: &ExportTraceServiceRequest) -> Value {
    let resource_spans: Vec<Value> = request
        .resource_spans
        .iter()
        .map(|rs| {
            json!({
                "resource": {
                    "attributes": attributes_json(
                        &rs.resource.as_ref().map(|r| r.attributes.clone()).unwrap_or_default()
                    ),
                },
                "scopeSpans": rs.scope_spans.iter().map(|ss| json!({
                    "scope": ss.scope.as_ref().map(|s| json!({ "name": s.name, "version": s.version })),
                    "spans": ss.spans.iter().map(span_json).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "resourceSpans": resource_spans })
}

// ---------------------------------------------------------------------------------------------
// OTLP/gRPC client sending raw message bytes
// ---------------------------------------------------------------------------------------------

/// A codec that sends the given bytes as the message and returns the response undecoded.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

#[derive(Debug, Default)]
struct RawBytes;

impl Encoder for RawBytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawBytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawBytes;
    type Decoder = RawBytes;

    fn encoder(&mut self) -> RawBytes {
        RawBytes
    }

    fn decoder(&mut self) -> RawBytes {
        RawBytes
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot build a tokio runtime: {e}"))
}

async fn grpc_channel(receiver: &ReceiverProcess) -> Channel {
    Endpoint::from_shared(receiver.grpc_endpoint())
        .unwrap_or_else(|e| panic!("bad endpoint {}: {e}", receiver.grpc_endpoint()))
        .connect_timeout(CALL_TIMEOUT)
        .timeout(CALL_TIMEOUT)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", receiver.grpc_endpoint()))
}

/// Calls `path` with `message` as the request message (gzip-compressed on the wire if
/// `gzip`); the response message bytes, or the status.
async fn grpc_call(
    channel: &Channel,
    path: &str,
    message: Vec<u8>,
    gzip: bool,
) -> Result<Vec<u8>, Status> {
    let mut client = tonic::client::Grpc::new(channel.clone());
    if gzip {
        client = client.send_compressed(CompressionEncoding::Gzip);
    }
    client
        .ready()
        .await
        .map_err(|e| Status::unavailable(format!("channel not ready: {e}")))?;
    let path: PathAndQuery = path
        .parse()
        .unwrap_or_else(|e| panic!("bad gRPC path {path}: {e}"));
    let call = client.unary(tonic::Request::new(message), path, RawCodec);
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result.map(tonic::Response::into_inner),
        Err(_) => panic!("gRPC call did not finish within {CALL_TIMEOUT:?}"),
    }
}

/// Exports a good request over gRPC and checks that it was accepted whole.
async fn grpc_export_good(channel: &Channel, sig: Sig, message: Vec<u8>, gzip: bool) {
    let response = grpc_call(channel, &sig.grpc_export_path(), message, gzip)
        .await
        .unwrap_or_else(|status| {
            panic!(
                "good {} export over gRPC failed: {:?} {:?}",
                sig.key(),
                status.code(),
                status.message()
            )
        });
    let (rejected, reason) = sig.decode_rejected(&response).unwrap_or_else(|e| {
        panic!(
            "gRPC export response for {} is not protobuf: {e}",
            sig.key()
        )
    });
    assert_eq!(
        rejected,
        0,
        "good {} export reported {rejected} rejected items: {reason:?}",
        sig.key()
    );
}

/// Sends a bad message and checks that the call fails with `code`.
async fn grpc_expect_error(
    channel: &Channel,
    path: &str,
    message: Vec<u8>,
    gzip: bool,
    code: Code,
) {
    let status = grpc_expect_code(channel, path, message, gzip, code).await;
    assert!(
        !status.message().is_empty(),
        "bad request to {path}: {code:?} without a message that says why"
    );
}

/// Sends a bad message and checks that the call fails with `code`; returns the status.
async fn grpc_expect_code(
    channel: &Channel,
    path: &str,
    message: Vec<u8>,
    gzip: bool,
    code: Code,
) -> Status {
    match grpc_call(channel, path, message, gzip).await {
        Ok(response) => panic!(
            "bad request to {path} succeeded ({} response bytes); expected {code:?}",
            response.len()
        ),
        Err(status) => {
            assert_eq!(
                status.code(),
                code,
                "bad request to {path}: expected {code:?}, got {:?} with message {:?}",
                status.code(),
                status.message()
            );
            status
        }
    }
}

/// Sends one gRPC request whose HTTP/2 body is exactly `body` (gRPC length-prefixed frames,
/// possibly broken), with `headers` added; returns the call's grpc-status and grpc-message,
/// from the response headers (trailers-only) or trailers. The body is a `String` because that
/// is the body type reachable without another dependency, so it must be ASCII.
async fn grpc_raw_call(
    channel: &Channel,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Status {
    use tonic::codegen::{Body as _, Service as _};

    let body = String::from_utf8(body).unwrap_or_else(|e| panic!("raw gRPC body not ASCII: {e}"));
    let mut request = tonic::codegen::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(tonic::body::Body::new(body))
        .unwrap_or_else(|e| panic!("cannot build a raw gRPC request: {e}"));
    let mut channel = channel.clone();
    let exchange = async move {
        std::future::poll_fn(|cx| channel.poll_ready(cx))
            .await
            .unwrap_or_else(|e| panic!("gRPC channel not ready: {e}"));
        let response = channel
            .call(request)
            .await
            .unwrap_or_else(|e| panic!("raw gRPC request failed at the HTTP/2 level: {e}"));
        assert_eq!(
            response.status(),
            200,
            "gRPC responses are HTTP 200: {response:?}"
        );
        if let Some(status) = Status::from_header_map(response.headers()) {
            return status;
        }
        let mut body = response.into_body();
        loop {
            let frame =
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        return Status::from_header_map(&trailers).unwrap_or_else(|| {
                            panic!("gRPC trailers without grpc-status: {trailers:?}")
                        });
                    }
                }
                Some(Err(e)) => panic!("reading the gRPC response body failed: {e}"),
                None => panic!("gRPC response without grpc-status"),
            }
        }
    };
    tokio::time::timeout(CALL_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| panic!("raw gRPC call did not finish within {CALL_TIMEOUT:?}"))
}

/// A gRPC length-prefixed message: compression flag, 4-byte big-endian length, payload.
fn grpc_frame(flag: u8, declared_len: u32, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![flag];
    frame.extend_from_slice(&declared_len.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

// ---------------------------------------------------------------------------------------------
// OTLP/HTTP over a raw HTTP/1.1 connection
// ---------------------------------------------------------------------------------------------

/// `google.rpc.Status`, the body of OTLP/HTTP error responses.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// gRPC code INVALID_ARGUMENT, as a `google.rpc.Status` code.
const INVALID_ARGUMENT: i32 = 3;
/// gRPC code RESOURCE_EXHAUSTED.
const RESOURCE_EXHAUSTED: i32 = 8;

#[derive(Debug)]
struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn media_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    fn describe(&self) -> String {
        format!(
            "HTTP {} {:?} body ({} bytes): {}",
            self.status,
            self.headers,
            self.body.len(),
            String::from_utf8_lossy(&self.body[..self.body.len().min(500)])
        )
    }

    /// The body as `google.rpc.Status` (protobuf).
    fn rpc_status(&self) -> RpcStatus {
        assert_eq!(
            self.media_type(),
            "application/x-protobuf",
            "error body should be protobuf: {}",
            self.describe()
        );
        RpcStatus::decode(&*self.body).unwrap_or_else(|e| {
            panic!(
                "error body is not a google.rpc.Status ({e}): {}",
                self.describe()
            )
        })
    }

    /// The body as JSON.
    fn json(&self) -> Value {
        assert_eq!(
            self.media_type(),
            "application/json",
            "body should be JSON: {}",
            self.describe()
        );
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.describe()))
    }
}

/// Sends one HTTP/1.1 request on a new connection (`Connection: close`) and reads the response.
/// A body the server stops reading (it answered early) is not an error: the response counts.
fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut stream = TcpStream::connect_timeout(&addr, CALL_TIMEOUT)
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    stream
        .set_read_timeout(Some(CALL_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(CALL_TIMEOUT)))
        .unwrap_or_else(|e| panic!("cannot set socket timeouts: {e}"));
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: otel-parity-e2e\r\n\
         Connection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .unwrap_or_else(|e| panic!("cannot send request head to {addr}: {e}"));
    // The server may answer (413, 415) and close without reading the whole body.
    if let Err(e) = stream.write_all(body).and_then(|()| stream.flush()) {
        assert!(
            matches!(
                e.kind(),
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
            ),
            "cannot send request body to {addr}: {e}"
        );
    }
    let mut raw = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A reset after the response (the server closed with body bytes unread).
            Err(e) if e.kind() == ErrorKind::ConnectionReset && !raw.is_empty() => break,
            Err(e) => panic!(
                "reading the response from {addr} failed after {} bytes: {e}",
                raw.len()
            ),
        }
    }
    parse_http_response(&raw).unwrap_or_else(|e| {
        panic!(
            "bad HTTP response from {addr} ({e}): {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

fn parse_http_response(raw: &[u8]) -> Result<HttpResponse, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|e| format!("head not UTF-8: {e}"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(format!("status line {status_line:?}"));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            line.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| format!("header line {line:?}"))
        })
        .collect::<Result<_, _>>()?;
    let rest = &raw[end + 4..];
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|e| format!("content-length {length:?}: {e}"))?;
        rest.get(..length)
            .ok_or_else(|| format!("body has {} of {length} bytes", rest.len()))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("chunk size line")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("chunk size {size_text:?}: {e}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(rest.get(..size).ok_or("short chunk")?);
        rest = rest.get(size + 2..).ok_or("chunk without CRLF")?;
    }
}

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

fn http_post(
    receiver: &ReceiverProcess,
    path: &str,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut headers = vec![("Content-Type", content_type)];
    headers.extend_from_slice(extra);
    http_request(receiver.http_addr(), "POST", path, &headers, body)
}

/// POSTs a good protobuf request (gzip-compressed on the wire if `gzip`) and checks that it
/// was accepted whole; returns the bytes sent.
fn http_export_good(receiver: &ReceiverProcess, sig: Sig, message: &[u8], gzip: bool) -> u64 {
    let body = if gzip {
        self::gzip(message)
    } else {
        message.to_vec()
    };
    let extra: &[(&str, &str)] = if gzip {
        &[("Content-Encoding", "gzip")]
    } else {
        &[]
    };
    let response = http_post(receiver, sig.http_path(), PROTOBUF, extra, &body);
    assert_eq!(
        response.status,
        200,
        "good {} export over HTTP: {}",
        sig.key(),
        response.describe()
    );
    assert_eq!(response.media_type(), PROTOBUF, "{}", response.describe());
    let (rejected, reason) = sig.decode_rejected(&response.body).unwrap_or_else(|e| {
        panic!(
            "export response is not protobuf ({e}): {}",
            response.describe()
        )
    });
    assert_eq!(
        rejected,
        0,
        "good {} export reported {rejected} rejected: {reason:?}",
        sig.key()
    );
    body.len() as u64
}

/// POSTs a good OTLP/JSON traces request and checks that it was accepted whole.
fn http_export_good_json(receiver: &ReceiverProcess, request: &Value) -> u64 {
    let body = request.to_string().into_bytes();
    let response = http_post(receiver, Sig::Traces.http_path(), JSON, &[], &body);
    assert_eq!(
        response.status,
        200,
        "good OTLP/JSON traces export: {}",
        response.describe()
    );
    let json = response.json();
    let rejected = json_at(&json, &["partialSuccess", "rejectedSpans"]);
    assert!(
        proto_u64(rejected) == Ok(0),
        "good OTLP/JSON export reported rejected spans: {json}"
    );
    body.len() as u64
}

/// Checks an OTLP/HTTP error response: `status`, a `google.rpc.Status` body with `code` (when
/// given) and a message that says what was wrong.
fn assert_http_error(response: &HttpResponse, status: u16, code: Option<i32>, what: &str) {
    assert_eq!(response.status, status, "{what}: {}", response.describe());
    let body = response.rpc_status();
    if let Some(code) = code {
        assert_eq!(body.code, code, "{what}: google.rpc.Status code; {body:?}");
    }
    assert!(
        !body.message.is_empty(),
        "{what}: google.rpc.Status without a message: {}",
        response.describe()
    );
}

/// The same for an OTLP/JSON request: the error body is `{"code": …, "message": …}`.
fn assert_http_json_error(response: &HttpResponse, status: u16, code: i64, what: &str) {
    assert_eq!(response.status, status, "{what}: {}", response.describe());
    let body = response.json();
    assert_eq!(
        body.get("code").and_then(Value::as_i64),
        Some(code),
        "{what}: JSON status code: {body}"
    );
    assert!(
        body.get("message")
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty()),
        "{what}: JSON status without a message: {body}"
    );
}

// ---------------------------------------------------------------------------------------------
// What the receiver must have counted
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Clone, Copy)]
struct SignalCounts {
    requests: u64,
    rejected_requests: u64,
    items: u64,
    rejected_items: u64,
    /// Exact decoded bytes, when every accepted request was protobuf (known size).
    decoded_bytes: Option<u64>,
    wire_bytes_at_least: u64,
}

/// What a test sent that the receiver accepted, and what it refused.
#[derive(Debug)]
struct Expected {
    signals: [SignalCounts; 3],
    /// Traces of `shop_traces` accepted (per trace: 3 checkout spans, 1 payment span).
    traces: u64,
    /// Of those, failed charges.
    failed_charges: u64,
    /// `shop_metrics` requests accepted, and their request-duration series in total.
    metric_requests: u64,
    metric_series: u64,
    /// `shop_logs` requests accepted, and their checkout records in total.
    log_requests: u64,
    log_records: u64,
}

impl Expected {
    fn new() -> Self {
        Expected {
            signals: [SignalCounts {
                decoded_bytes: Some(0),
                ..Default::default()
            }; 3],
            traces: 0,
            failed_charges: 0,
            metric_requests: 0,
            metric_series: 0,
            log_requests: 0,
            log_records: 0,
        }
    }

    /// An accepted request of `sig` carrying `items`; `decoded` is its protobuf size when known.
    fn accepted(
        &mut self,
        sig: Sig,
        items: u64,
        rejected_items: u64,
        decoded: Option<u64>,
        wire: u64,
    ) {
        let s = &mut self.signals[sig.index()];
        s.requests += 1;
        s.items += items;
        s.rejected_items += rejected_items;
        s.decoded_bytes = match (s.decoded_bytes, decoded) {
            (Some(total), Some(len)) => Some(total + len),
            _ => None,
        };
        s.wire_bytes_at_least += wire;
    }

    fn rejected(&mut self, sig: Sig) {
        self.signals[sig.index()].rejected_requests += 1;
    }

    fn traces_accepted(&mut self, traces: u64, decoded: Option<u64>, wire: u64) {
        self.accepted(Sig::Traces, spans_in(traces), 0, decoded, wire);
        self.traces += traces;
        self.failed_charges += errors_in(traces);
    }

    fn metrics_accepted(&mut self, series: u64, decoded: u64, wire: u64) {
        self.accepted(Sig::Metrics, points_in(series), 0, Some(decoded), wire);
        self.metric_requests += 1;
        self.metric_series += series;
    }

    fn logs_accepted(&mut self, records: u64, decoded: u64, wire: u64) {
        self.accepted(Sig::Logs, records_in(records), 0, Some(decoded), wire);
        self.log_requests += 1;
        self.log_records += records;
    }
}

/// Sends a good traces request over gRPC and records it.
async fn grpc_good_traces(channel: &Channel, expected: &mut Expected, round: u64, traces: u64) {
    let message = shop_traces(round, traces).encode_to_vec();
    let len = message.len() as u64;
    grpc_export_good(channel, Sig::Traces, message, false).await;
    expected.traces_accepted(traces, Some(len), len);
}

async fn grpc_good_metrics(channel: &Channel, expected: &mut Expected, round: u64, series: u64) {
    let message = shop_metrics(round, series).encode_to_vec();
    let len = message.len() as u64;
    grpc_export_good(channel, Sig::Metrics, message, false).await;
    expected.metrics_accepted(series, len, len);
}

async fn grpc_good_logs(channel: &Channel, expected: &mut Expected, round: u64, records: u64) {
    let message = shop_logs(round, records).encode_to_vec();
    let len = message.len() as u64;
    grpc_export_good(channel, Sig::Logs, message, false).await;
    expected.logs_accepted(records, len, len);
}

fn http_good_traces(
    receiver: &ReceiverProcess,
    expected: &mut Expected,
    round: u64,
    traces: u64,
    gzip: bool,
) {
    let message = shop_traces(round, traces).encode_to_vec();
    let wire = http_export_good(receiver, Sig::Traces, &message, gzip);
    expected.traces_accepted(traces, Some(message.len() as u64), wire);
}

fn http_good_metrics(receiver: &ReceiverProcess, expected: &mut Expected, round: u64, series: u64) {
    let message = shop_metrics(round, series).encode_to_vec();
    let wire = http_export_good(receiver, Sig::Metrics, &message, false);
    expected.metrics_accepted(series, message.len() as u64, wire);
}

fn http_good_logs(receiver: &ReceiverProcess, expected: &mut Expected, round: u64, records: u64) {
    let message = shop_logs(round, records).encode_to_vec();
    let wire = http_export_good(receiver, Sig::Logs, &message, false);
    expected.logs_accepted(records, message.len() as u64, wire);
}

fn http_good_traces_json(
    receiver: &ReceiverProcess,
    expected: &mut Expected,
    round: u64,
    traces: u64,
) {
    let wire = http_export_good_json(receiver, &traces_json(&shop_traces(round, traces)));
    expected.traces_accepted(traces, None, wire);
}

/// (name, kind, spans, errors) of each span operation of a service in the snapshot.
fn span_operations(service: &Value) -> Result<Vec<(String, String, u64, u64)>, String> {
    let Some(ops) = service.get("spanOperations") else {
        return Ok(Vec::new());
    };
    let ops = ops.as_array().ok_or("spanOperations is not an array")?;
    let mut out = ops
        .iter()
        .map(|op| {
            Ok((
                op.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                op.get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("SPAN_KIND_UNSPECIFIED")
                    .to_owned(),
                proto_u64(op.get("spans"))?,
                proto_u64(op.get("errors"))?,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    out.sort();
    Ok(out)
}

fn check_span_operations(
    expect: &mut Expectations,
    snapshot: &Value,
    service_key: &str,
    expected: &[(&str, &str, u64, u64)],
) {
    let subject = format!("snapshot → environments.{ENVIRONMENT}.services.{service_key}");
    let service = json_at(
        snapshot,
        &["environments", ENVIRONMENT, "services", service_key],
    );
    let found = match service.map(span_operations) {
        Some(Ok(found)) => found,
        Some(Err(e)) => return expect.fail(&subject, e, service),
        None => Vec::new(),
    };
    let mut wanted: Vec<(String, String, u64, u64)> = expected
        .iter()
        .filter(|(_, _, spans, _)| *spans > 0)
        .map(|(n, k, s, e)| ((*n).to_owned(), (*k).to_owned(), *s, *e))
        .collect();
    wanted.sort();
    expect.check(
        found == wanted,
        &format!("{subject} → spanOperations (name, kind, spans, errors)"),
        format!("expected {wanted:?}, found {found:?}"),
        service,
    );
}

/// Stops the receiver (SIGTERM), reads the snapshot it wrote on the way out and checks it
/// against everything the test sent.
fn stop_and_check(receiver: ReceiverProcess, expected: &Expected, what: &str) {
    stop_and_check_with(receiver, expected, what, Vec::new());
}

/// [`stop_and_check`], also reporting `earlier_failures` (found while the receiver ran) with
/// the snapshot's, so that one run shows all of them.
fn stop_and_check_with(
    mut receiver: ReceiverProcess,
    expected: &Expected,
    what: &str,
    earlier_failures: Vec<String>,
) {
    let status = receiver.stop();
    assert!(
        status.success(),
        "{what}: the receiver exited with {status} after SIGTERM\n{}",
        receiver.stderr_tail()
    );
    let snapshot = receiver.read_snapshot().unwrap_or_else(|| {
        panic!(
            "{what}: no snapshot at {} after SIGTERM\n{}",
            receiver.snapshot_path().display(),
            receiver.stderr_tail()
        )
    });
    let mut expect = Expectations::new();
    for failure in earlier_failures {
        expect.fail(what, failure, None);
    }

    for sig in Sig::ALL {
        let c = expected.signals[sig.index()];
        let received = json_at(&snapshot, &["received", sig.key()])
            .cloned()
            .unwrap_or(json!({}));
        let subject = format!("snapshot → received.{}", sig.key());
        expect.u64_eq(&subject, &received, &["requests"], c.requests);
        expect.u64_eq(
            &subject,
            &received,
            &["rejectedRequests"],
            c.rejected_requests,
        );
        expect.u64_eq(&subject, &received, &["items"], c.items);
        expect.u64_eq(&subject, &received, &["rejectedItems"], c.rejected_items);
        match c.decoded_bytes {
            Some(decoded) => expect.u64_eq(&subject, &received, &["decodedBytes"], decoded),
            None => expect.u64_at_least(&subject, &received, &["decodedBytes"], 1),
        }
        expect.u64_at_least(&subject, &received, &["wireBytes"], c.wire_bytes_at_least);
    }

    // Every item the test sent, and only those, in the services' fingerprints.
    let anything = expected.signals.iter().any(|s| s.items > 0);
    let environments: &[&str] = if anything { &[ENVIRONMENT] } else { &[] };
    expect.keys_eq("snapshot", &snapshot, &["environments"], environments);
    if anything {
        expect.keys_eq(
            "snapshot",
            &snapshot,
            &["environments", ENVIRONMENT, "services"],
            &[CHECKOUT, PAYMENT],
        );
    }
    let t = expected.traces;
    let failed = expected.failed_charges;
    check_span_operations(
        &mut expect,
        &snapshot,
        CHECKOUT,
        &[
            ("POST /checkout", "SPAN_KIND_SERVER", t, failed),
            ("prepare order", "SPAN_KIND_INTERNAL", t, 0),
            ("POST /charge", "SPAN_KIND_CLIENT", t, failed),
        ],
    );
    check_span_operations(
        &mut expect,
        &snapshot,
        PAYMENT,
        &[("POST /charge", "SPAN_KIND_SERVER", t, failed)],
    );
    let services = json_at(&snapshot, &["environments", ENVIRONMENT, "services"])
        .cloned()
        .unwrap_or(json!({}));
    let subject = format!("snapshot → environments.{ENVIRONMENT}.services");
    expect.u64_eq(
        &subject,
        &services,
        &[CHECKOUT, "ingestion", "traces", "items"],
        3 * t,
    );
    expect.u64_eq(
        &subject,
        &services,
        &[PAYMENT, "ingestion", "traces", "items"],
        t,
    );

    let m = expected.metric_requests;
    let checkout_metrics: &[&str] = if m > 0 {
        &["app.orders.placed", "http.server.request.duration"]
    } else {
        &[]
    };
    let payment_metrics: &[&str] = if m > 0 {
        &["app.payment.inflight"]
    } else {
        &[]
    };
    expect.keys_eq(
        &subject,
        &services,
        &[CHECKOUT, "metrics"],
        checkout_metrics,
    );
    expect.keys_eq(&subject, &services, &[PAYMENT, "metrics"], payment_metrics);
    if m > 0 {
        expect.u64_eq(
            &subject,
            &services,
            &[
                CHECKOUT,
                "metrics",
                "http.server.request.duration",
                "dataPoints",
            ],
            expected.metric_series,
        );
        expect.u64_eq(
            &subject,
            &services,
            &[CHECKOUT, "metrics", "app.orders.placed", "dataPoints"],
            m,
        );
        expect.u64_eq(
            &subject,
            &services,
            &[PAYMENT, "metrics", "app.payment.inflight", "dataPoints"],
            m,
        );
    }

    let l = expected.log_requests;
    expect.u64_eq(
        &subject,
        &services,
        &[CHECKOUT, "logs", "records"],
        expected.log_records,
    );
    expect.u64_eq(&subject, &services, &[PAYMENT, "logs", "records"], l);
    let info: &[(&str, u64)] = if expected.log_records > 0 {
        &[("INFO", expected.log_records)]
    } else {
        &[]
    };
    let warn: &[(&str, u64)] = if l > 0 { &[("WARN", l)] } else { &[] };
    expect.u64_map_eq(&subject, &services, &[CHECKOUT, "logs", "severities"], info);
    expect.u64_map_eq(&subject, &services, &[PAYMENT, "logs", "severities"], warn);

    expect.finish(what, &receiver.stderr_tail());
}

// ---------------------------------------------------------------------------------------------
// Receivers with limits
// ---------------------------------------------------------------------------------------------

/// A receiver started with a config file of `yaml` (kept in `dir` for the test's lifetime).
fn receiver_with_config(dir: &ScratchDir, yaml: &str) -> ReceiverProcess {
    let path: PathBuf = dir.path().join("receiver.yaml");
    std::fs::write(&path, yaml).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    let path = path.display().to_string();
    ReceiverProcess::start(&["--config", &path])
}

const GRPC_MAX_1_MIB: &str = "otlp:\n  protocols:\n    grpc:\n      max_recv_msg_size_mib: 1\n";
const HTTP_MAX_64_KIB: &str =
    "otlp:\n  protocols:\n    http:\n      max_request_body_size: 65536\n";

/// The pid of `receiver`, found through /proc by its unique snapshot path.
fn receiver_pid(receiver: &ReceiverProcess) -> u32 {
    let needle = receiver.snapshot_path().display().to_string();
    let entries = std::fs::read_dir("/proc").unwrap_or_else(|e| panic!("cannot list /proc: {e}"));
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        if args.contains(&b"receive".as_slice()) && args.contains(&needle.as_bytes()) {
            return pid;
        }
    }
    panic!("no process in /proc has the receiver's snapshot path {needle} on its command line")
}

/// (VmRSS, VmHWM) of process `pid`, in bytes.
fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kb| kb.trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status:\n{status}"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

// ---------------------------------------------------------------------------------------------
// OTLP/gRPC
// ---------------------------------------------------------------------------------------------

#[test]
fn grpc_malformed_protobuf_is_invalid_argument_on_every_signal_and_counts_nothing() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver).await;
        grpc_good_traces(&channel, &mut expected, 1, 5).await;
        grpc_good_metrics(&channel, &mut expected, 1, 4).await;
        grpc_good_logs(&channel, &mut expected, 1, 3).await;

        // Field 1, length-delimited, claiming 4 GiB of payload that is not there.
        let huge_length = vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f];
        grpc_expect_error(
            &channel,
            &Sig::Traces.grpc_export_path(),
            huge_length,
            false,
            Code::InvalidArgument,
        )
        .await;
        expected.rejected(Sig::Traces);
        // A valid request followed by a tag with wire type 7, which protobuf does not define.
        let mut wire_type_7 = shop_metrics(90, 4).encode_to_vec();
        wire_type_7.extend_from_slice(&[0x0f, 0x01]);
        grpc_expect_error(
            &channel,
            &Sig::Metrics.grpc_export_path(),
            wire_type_7,
            false,
            Code::InvalidArgument,
        )
        .await;
        expected.rejected(Sig::Metrics);
        // A valid request followed by field number 0.
        let mut field_zero = shop_logs(90, 3).encode_to_vec();
        field_zero.extend_from_slice(&[0x00, 0x01]);
        grpc_expect_error(
            &channel,
            &Sig::Logs.grpc_export_path(),
            field_zero,
            false,
            Code::InvalidArgument,
        )
        .await;
        expected.rejected(Sig::Logs);

        grpc_good_traces(&channel, &mut expected, 2, 7).await;
        grpc_good_metrics(&channel, &mut expected, 2, 6).await;
        grpc_good_logs(&channel, &mut expected, 2, 2).await;
    });
    stop_and_check(receiver, &expected, "gRPC malformed protobuf");
}

#[test]
fn grpc_truncated_request_is_invalid_argument_and_counts_nothing() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver).await;
        grpc_good_traces(&channel, &mut expected, 1, 5).await;
        grpc_good_logs(&channel, &mut expected, 1, 4).await;

        let mut traces = shop_traces(90, 5).encode_to_vec();
        traces.truncate(traces.len() - 5);
        grpc_expect_error(
            &channel,
            &Sig::Traces.grpc_export_path(),
            traces,
            false,
            Code::InvalidArgument,
        )
        .await;
        expected.rejected(Sig::Traces);
        let mut logs = shop_logs(90, 4).encode_to_vec();
        logs.truncate(logs.len() - 5);
        grpc_expect_error(
            &channel,
            &Sig::Logs.grpc_export_path(),
            logs,
            false,
            Code::InvalidArgument,
        )
        .await;
        expected.rejected(Sig::Logs);

        grpc_good_traces(&channel, &mut expected, 2, 3).await;
        grpc_good_logs(&channel, &mut expected, 2, 6).await;
    });
    stop_and_check(receiver, &expected, "gRPC truncated request");
}

#[test]
fn grpc_invalid_utf8_in_a_span_name_is_invalid_argument_and_counts_nothing() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver).await;
        grpc_good_traces(&channel, &mut expected, 1, 5).await;

        // Ten good traces and one more span whose name is not UTF-8: the whole request is
        // malformed, so none of its spans may be counted.
        let mut request = shop_traces(90, 10);
        let mut odd = request.resource_spans[0].scope_spans[0].spans[0].clone();
        odd.name = "GET /cart/UTF8MARKER".to_owned();
        odd.span_id = vec![0xee; 8];
        request.resource_spans[0].scope_spans[0].spans.push(odd);
        let message = with_invalid_utf8(request.encode_to_vec(), "UTF8MARKER");
        grpc_expect_error(
            &channel,
            &Sig::Traces.grpc_export_path(),
            message,
            false,
            Code::InvalidArgument,
        )
        .await;
        expected.rejected(Sig::Traces);

        grpc_good_traces(&channel, &mut expected, 2, 6).await;
    });
    stop_and_check(receiver, &expected, "gRPC invalid UTF-8 span name");
}

#[test]
fn grpc_message_over_max_recv_msg_size_is_resource_exhausted() {
    let dir = ScratchDir::new("bad-input-config");
    let receiver = receiver_with_config(&dir, GRPC_MAX_1_MIB);
    let mut expected = Expected::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver).await;
        grpc_good_traces(&channel, &mut expected, 1, 20).await;

        // 2 MiB of valid spans against a 1 MiB limit.
        let (big, _) = shop_traces_of_at_least(90, 2 << 20);
        grpc_expect_error(
            &channel,
            &Sig::Traces.grpc_export_path(),
            big.encode_to_vec(),
            false,
            Code::ResourceExhausted,
        )
        .await;
        expected.rejected(Sig::Traces);

        // A message of at most exactly the limit is accepted.
        let (near, near_traces) = shop_traces_of_at_most(91, 1 << 20);
        let near = near.encode_to_vec();
        assert!(near.len() > (1 << 20) - 4096, "{} bytes", near.len());
        let len = near.len() as u64;
        grpc_export_good(&channel, Sig::Traces, near, false).await;
        expected.traces_accepted(near_traces, Some(len), len);

        grpc_good_traces(&channel, &mut expected, 2, 20).await;
    });
    stop_and_check(receiver, &expected, "gRPC message over the size limit");
}

#[test]
fn grpc_gzip_bomb_is_resource_exhausted_and_receiver_memory_stays_bounded() {
    let dir = ScratchDir::new("bad-input-config");
    let receiver = receiver_with_config(&dir, GRPC_MAX_1_MIB);
    let pid = receiver_pid(&receiver);
    let mut expected = Expected::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver).await;
        // gzip works for good requests.
        let message = shop_traces(1, 8).encode_to_vec();
        let len = message.len() as u64;
        grpc_export_good(&channel, Sig::Traces, message, true).await;
        expected.traces_accepted(8, Some(len), 1);

        // A valid request padded with 64 MiB of zeros in an unknown field: about 65 KB of
        // gzip on the wire, far over the 1 MiB limit once decompressed. Were the limit not
        // applied while decompressing, it would be accepted and its spans counted.
        let bomb = with_zero_padding(shop_traces(90, 10).encode_to_vec(), 64 << 20);
        grpc_expect_error(
            &channel,
            &Sig::Traces.grpc_export_path(),
            bomb,
            true,
            Code::ResourceExhausted,
        )
        .await;
        expected.rejected(Sig::Traces);

        grpc_good_traces(&channel, &mut expected, 2, 8).await;
    });
    let (rss, peak) = memory_of(pid);
    eprintln!(
        "receiver {pid}: VmRSS {} KiB, VmHWM {} KiB",
        rss >> 10,
        peak >> 10
    );
    assert!(
        peak < MAX_RECEIVER_PEAK_RSS_BYTES,
        "receiver memory peaked at {} MiB (now {} MiB) after a 64 MiB gzip bomb; limit {} MiB",
        peak >> 20,
        rss >> 20,
        MAX_RECEIVER_PEAK_RSS_BYTES >> 20
    );
    stop_and_check(receiver, &expected, "gRPC gzip bomb");
}

#[test]
fn grpc_corrupt_gzip_is_invalid_argument_and_unknown_encoding_is_unimplemented() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver).await;
        let path = Sig::Traces.grpc_export_path();
        let message = shop_traces(1, 5).encode_to_vec();
        let len = message.len() as u64;
        grpc_export_good(&channel, Sig::Traces, message, true).await;
        expected.traces_accepted(5, Some(len), 1);

        // A frame flagged compressed, under grpc-encoding gzip, whose payload is not gzip.
        let payload = b"POST /checkout was here, but this is not gzip";
        let not_gzip = grpc_frame(1, payload.len() as u32, payload);
        let status = grpc_raw_call(&channel, &path, &[("grpc-encoding", "gzip")], not_gzip).await;
        assert_eq!(status.code(), Code::InvalidArgument, "not gzip: {status:?}");
        expected.rejected(Sig::Traces);

        // An encoding the receiver does not support: UNIMPLEMENTED, as gRPC specifies.
        let snappy = grpc_frame(1, payload.len() as u32, payload);
        let status = grpc_raw_call(&channel, &path, &[("grpc-encoding", "snappy")], snappy).await;
        assert_eq!(
            status.code(),
            Code::Unimplemented,
            "grpc-encoding snappy: {status:?}"
        );
        expected.rejected(Sig::Traces);

        grpc_good_traces(&channel, &mut expected, 2, 5).await;
    });
    stop_and_check(receiver, &expected, "gRPC corrupt compression");
}

/// A broken gRPC length-prefixed frame is a malformed payload: INVALID_ARGUMENT by DESIGN.md
/// (the receiver already maps tonic's INTERNAL for undecompressable gzip that way; gRPC's own
/// libraries would say INTERNAL), and a rejected request in the counters either way.
#[test]
fn grpc_broken_length_prefixed_framing_is_invalid_argument() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    let mut wrong = Vec::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver).await;
        let path = Sig::Logs.grpc_export_path();
        grpc_good_logs(&channel, &mut expected, 1, 3).await;

        let payload = b"order 17 placed";
        let cases = [
            // Compressed flag set, but no grpc-encoding header.
            (
                "compressed flag without grpc-encoding",
                grpc_frame(1, payload.len() as u32, payload),
            ),
            // A compression flag that gRPC does not define.
            (
                "compression flag 2",
                grpc_frame(2, payload.len() as u32, payload),
            ),
            // The prefix announces 100 bytes; the stream ends after 15.
            ("frame cut short", grpc_frame(0, 100, payload)),
            // Three bytes of a prefix and then the end of the stream.
            ("prefix cut short", vec![0, 0, 0]),
        ];
        for (what, body) in cases {
            let status = grpc_raw_call(&channel, &path, &[], body).await;
            if status.code() != Code::InvalidArgument {
                wrong.push(format!(
                    "{what}: expected INVALID_ARGUMENT, got {:?} {:?}",
                    status.code(),
                    status.message()
                ));
            }
            expected.rejected(Sig::Logs);
        }

        grpc_good_logs(&channel, &mut expected, 2, 4).await;
    });
    stop_and_check_with(receiver, &expected, "gRPC broken framing", wrong);
}

#[test]
fn grpc_span_with_15_byte_trace_id_is_partial_success_and_other_spans_count() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver).await;
        grpc_good_traces(&channel, &mut expected, 1, 5).await;

        // Ten good traces plus one more `POST /checkout` span whose trace id has 15 bytes.
        let mut request = shop_traces(90, 10);
        let mut bad = request.resource_spans[0].scope_spans[0].spans[0].clone();
        bad.trace_id.truncate(15);
        bad.span_id = vec![0xee; 8];
        request.resource_spans[0].scope_spans[0].spans.push(bad);
        let message = request.encode_to_vec();
        let len = message.len() as u64;
        let response = grpc_call(&channel, &Sig::Traces.grpc_export_path(), message, false)
            .await
            .unwrap_or_else(|status| {
                panic!(
                    "request with one bad span was refused whole: {:?} {:?}",
                    status.code(),
                    status.message()
                )
            });
        let (rejected, reason) = Sig::Traces
            .decode_rejected(&response)
            .unwrap_or_else(|e| panic!("response is not an ExportTraceServiceResponse: {e}"));
        assert_eq!(rejected, 1, "partial_success.rejected_spans ({reason:?})");
        assert!(
            !reason.is_empty(),
            "partial_success without an error_message"
        );
        expected.accepted(Sig::Traces, spans_in(10), 1, Some(len), len);
        expected.traces += 10;
        expected.failed_charges += errors_in(10);

        grpc_good_traces(&channel, &mut expected, 2, 5).await;
    });
    stop_and_check(receiver, &expected, "gRPC partial success");
}

#[test]
fn grpc_unknown_method_and_service_are_unimplemented_and_not_counted_as_exports() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver).await;
        grpc_good_traces(&channel, &mut expected, 1, 5).await;

        let message = shop_traces(90, 5).encode_to_vec();
        let unknown_method = format!("/{}/Exports", Sig::Traces.grpc_service());
        grpc_expect_error(
            &channel,
            &unknown_method,
            message.clone(),
            false,
            Code::Unimplemented,
        )
        .await;
        // tonic's router answers an unknown service with an empty message; only the code is
        // pinned.
        let unknown_service = "/opentelemetry.proto.collector.trace.v2.TraceService/Export";
        grpc_expect_code(
            &channel,
            unknown_service,
            message,
            false,
            Code::Unimplemented,
        )
        .await;

        grpc_good_traces(&channel, &mut expected, 2, 5).await;
    });
    // These are not export requests of any signal: nothing counted, rejections included.
    stop_and_check(receiver, &expected, "gRPC unknown method");
}

// ---------------------------------------------------------------------------------------------
// OTLP/HTTP
// ---------------------------------------------------------------------------------------------

#[test]
fn http_wrong_content_type_is_415() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 5, false);

    // A valid protobuf body, but labelled text/plain.
    let body = shop_traces(90, 5).encode_to_vec();
    let response = http_post(
        &receiver,
        "/v1/traces",
        "text/plain; charset=utf-8",
        &[],
        &body,
    );
    assert_http_error(&response, 415, None, "text/plain");
    expected.rejected(Sig::Traces);

    http_good_traces(&receiver, &mut expected, 2, 4, false);
    stop_and_check(receiver, &expected, "HTTP wrong content type");
}

#[test]
fn http_malformed_protobuf_is_400_with_google_rpc_status() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 5, false);
    http_good_metrics(&receiver, &mut expected, 1, 4);

    let huge_length = [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f];
    let response = http_post(&receiver, "/v1/traces", PROTOBUF, &[], &huge_length);
    assert_http_error(
        &response,
        400,
        Some(INVALID_ARGUMENT),
        "malformed traces protobuf",
    );
    expected.rejected(Sig::Traces);
    let mut wire_type_7 = shop_metrics(90, 4).encode_to_vec();
    wire_type_7.extend_from_slice(&[0x0f, 0x01]);
    let response = http_post(&receiver, "/v1/metrics", PROTOBUF, &[], &wire_type_7);
    assert_http_error(
        &response,
        400,
        Some(INVALID_ARGUMENT),
        "malformed metrics protobuf",
    );
    expected.rejected(Sig::Metrics);

    http_good_traces(&receiver, &mut expected, 2, 3, false);
    http_good_metrics(&receiver, &mut expected, 2, 2);
    stop_and_check(receiver, &expected, "HTTP malformed protobuf");
}

#[test]
fn http_invalid_json_is_400_with_json_status() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces_json(&receiver, &mut expected, 1, 5);

    // A real OTLP/JSON request cut in the middle.
    let text = traces_json(&shop_traces(90, 5)).to_string();
    let cut = &text.as_bytes()[..text.len() / 2];
    let response = http_post(&receiver, "/v1/traces", JSON, &[], cut);
    assert_http_json_error(
        &response,
        400,
        i64::from(INVALID_ARGUMENT),
        "truncated JSON",
    );
    expected.rejected(Sig::Traces);

    http_good_traces_json(&receiver, &mut expected, 2, 4);
    stop_and_check(receiver, &expected, "HTTP invalid JSON");
}

#[test]
fn http_body_over_max_request_body_size_is_413() {
    let dir = ScratchDir::new("bad-input-config");
    let receiver = receiver_with_config(&dir, HTTP_MAX_64_KIB);
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 20, false);

    let (big, _) = shop_traces_of_at_least(90, 100_000);
    let response = http_post(&receiver, "/v1/traces", PROTOBUF, &[], &big.encode_to_vec());
    assert_http_error(
        &response,
        413,
        Some(RESOURCE_EXHAUSTED),
        "100 KB body, 64 KiB limit",
    );
    expected.rejected(Sig::Traces);

    // A body of at most exactly the limit is accepted.
    let (near, near_traces) = shop_traces_of_at_most(91, 65536);
    let near = near.encode_to_vec();
    assert!(near.len() > 65536 - 2048, "{} bytes", near.len());
    let wire = http_export_good(&receiver, Sig::Traces, &near, false);
    expected.traces_accepted(near_traces, Some(near.len() as u64), wire);

    http_good_traces(&receiver, &mut expected, 2, 20, false);
    stop_and_check(receiver, &expected, "HTTP body over the limit");
}

#[test]
fn http_gzip_bomb_is_413_and_receiver_memory_stays_bounded() {
    let dir = ScratchDir::new("bad-input-config");
    let receiver = receiver_with_config(&dir, HTTP_MAX_64_KIB);
    let pid = receiver_pid(&receiver);
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 20, true);

    // A valid request padded with 32 MiB of zeros: under the 64 KiB limit on the wire, 500
    // times over it decompressed.
    let bomb = gzip(&with_zero_padding(
        shop_traces(90, 10).encode_to_vec(),
        32 << 20,
    ));
    assert!(
        bomb.len() < 65536,
        "the bomb is {} bytes compressed",
        bomb.len()
    );
    let response = http_post(
        &receiver,
        "/v1/traces",
        PROTOBUF,
        &[("Content-Encoding", "gzip")],
        &bomb,
    );
    assert_http_error(&response, 413, Some(RESOURCE_EXHAUSTED), "gzip bomb");
    expected.rejected(Sig::Traces);

    http_good_traces(&receiver, &mut expected, 2, 20, true);
    let (rss, peak) = memory_of(pid);
    eprintln!(
        "receiver {pid}: VmRSS {} KiB, VmHWM {} KiB",
        rss >> 10,
        peak >> 10
    );
    assert!(
        peak < MAX_RECEIVER_PEAK_RSS_BYTES,
        "receiver memory peaked at {} MiB (now {} MiB) after a 32 MiB gzip bomb",
        peak >> 20,
        rss >> 20
    );
    stop_and_check(receiver, &expected, "HTTP gzip bomb");
}

#[test]
fn http_corrupt_gzip_is_400() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 5, true);

    let compressed = gzip(&shop_traces(90, 20).encode_to_vec());
    // The first half of a gzip stream: the deflate data ends early.
    let response = http_post(
        &receiver,
        "/v1/traces",
        PROTOBUF,
        &[("Content-Encoding", "gzip")],
        &compressed[..compressed.len() / 2],
    );
    assert_http_error(&response, 400, Some(INVALID_ARGUMENT), "truncated gzip");
    expected.rejected(Sig::Traces);
    // Plain protobuf labelled gzip: no gzip header at all.
    let response = http_post(
        &receiver,
        "/v1/traces",
        PROTOBUF,
        &[("Content-Encoding", "gzip")],
        &shop_traces(91, 5).encode_to_vec(),
    );
    assert_http_error(
        &response,
        400,
        Some(INVALID_ARGUMENT),
        "protobuf labelled gzip",
    );
    expected.rejected(Sig::Traces);
    // A complete gzip stream whose CRC does not match its data.
    let mut bad_crc = compressed.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 0xff;
    let response = http_post(
        &receiver,
        "/v1/traces",
        PROTOBUF,
        &[("Content-Encoding", "gzip")],
        &bad_crc,
    );
    assert_http_error(
        &response,
        400,
        Some(INVALID_ARGUMENT),
        "gzip with a wrong CRC",
    );
    expected.rejected(Sig::Traces);

    http_good_traces(&receiver, &mut expected, 2, 5, true);
    stop_and_check(receiver, &expected, "HTTP corrupt gzip");
}

#[test]
fn http_unsupported_content_encoding_is_415() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_logs(&receiver, &mut expected, 1, 4);

    let body = shop_logs(90, 4).encode_to_vec();
    let response = http_post(
        &receiver,
        "/v1/logs",
        PROTOBUF,
        &[("Content-Encoding", "br")],
        &body,
    );
    assert_http_error(&response, 415, None, "Content-Encoding: br");
    expected.rejected(Sig::Logs);

    http_good_logs(&receiver, &mut expected, 2, 3);
    stop_and_check(receiver, &expected, "HTTP unsupported content encoding");
}

#[test]
fn http_json_of_the_wrong_shape_is_400_not_200() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces_json(&receiver, &mut expected, 1, 5);

    for body in [
        json!({ "resourceSpans": 5 }),
        json!({ "resourceSpans": { "scopeSpans": [] } }),
        json!("resourceSpans"),
        json!([{ "resourceSpans": [] }]),
        // Malformed below the top but above the spans: still undecodable.
        json!({ "resourceSpans": [{ "scopeSpans": "checkout" }] }),
        json!({ "resourceSpans": [{ "resource": "checkout", "scopeSpans": [] }] }),
    ] {
        let response = http_post(
            &receiver,
            "/v1/traces",
            JSON,
            &[],
            body.to_string().as_bytes(),
        );
        assert_http_json_error(
            &response,
            400,
            i64::from(INVALID_ARGUMENT),
            &format!("JSON {body}"),
        );
        expected.rejected(Sig::Traces);
    }

    http_good_traces_json(&receiver, &mut expected, 2, 5);
    stop_and_check(receiver, &expected, "HTTP JSON of the wrong shape");
}

#[test]
fn http_json_span_with_31_hex_digit_trace_id_is_partial_success() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces_json(&receiver, &mut expected, 1, 5);

    // Ten good traces plus one `POST /checkout` span whose traceId has 31 hex digits.
    let request = shop_traces(90, 10);
    let mut bad = request.resource_spans[0].scope_spans[0].spans[0].clone();
    bad.span_id = vec![0xee; 8];
    let mut bad_json = span_json(&bad);
    let short_id = hex(&bad.trace_id)[..31].to_owned();
    bad_json["traceId"] = json!(short_id);
    let mut body = traces_json(&request);
    body["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array_mut()
        .unwrap_or_else(|| unreachable!("traces_json writes spans as an array"))
        .push(bad_json);
    let bytes = body.to_string().into_bytes();
    let response = http_post(&receiver, "/v1/traces", JSON, &[], &bytes);
    assert_eq!(
        response.status,
        200,
        "one bad span of 41: {}",
        response.describe()
    );
    let json = response.json();
    assert_eq!(
        json_at(&json, &["partialSuccess", "rejectedSpans"]),
        Some(&json!("1")),
        "partialSuccess.rejectedSpans (an int64, so a string): {json}"
    );
    assert!(
        json_at(&json, &["partialSuccess", "errorMessage"])
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty()),
        "partialSuccess without an errorMessage: {json}"
    );
    expected.accepted(Sig::Traces, spans_in(10), 1, None, bytes.len() as u64);
    expected.traces += 10;
    expected.failed_charges += errors_in(10);

    http_good_traces_json(&receiver, &mut expected, 2, 5);
    stop_and_check(receiver, &expected, "HTTP JSON partial success");
}

#[test]
fn http_get_is_405_and_unknown_path_is_404() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 5, false);

    let response = http_request(receiver.http_addr(), "GET", "/v1/traces", &[], &[]);
    assert_eq!(
        response.status,
        405,
        "GET /v1/traces: {}",
        response.describe()
    );
    let body = shop_traces(90, 5).encode_to_vec();
    for path in ["/v1/trace", "/v2/traces", "/v1/traces/extra", "/"] {
        let response = http_post(&receiver, path, PROTOBUF, &[], &body);
        assert_eq!(response.status, 404, "POST {path}: {}", response.describe());
    }

    http_good_traces(&receiver, &mut expected, 2, 5, false);
    // Neither is an export request of any signal: nothing counted, rejections included.
    stop_and_check(receiver, &expected, "HTTP wrong method and path");
}
