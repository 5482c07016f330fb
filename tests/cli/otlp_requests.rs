//! Protobuf OTLP trace export requests built to order: SERVER spans of the shop's services,
//! shaped like real HTTP server spans (about 440 bytes, 10 attributes each), in requests of a
//! chosen span count or of at least a chosen encoded size.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use otel_parity_testkit::otlp::{ServiceResource, int, span_id, string, trace_id};
use prost::Message;

/// The `deployment.environment.name` of these requests.
pub const RESOURCE_ENVIRONMENT: &str = "production";

/// The SERVER operation of each shop service in these requests.
pub fn operation_of(service: &str) -> &'static str {
    match service {
        "frontend" => "GET /api/products",
        "checkout" => "POST /checkout",
        "payment" => "POST /charge",
        other => panic!("no operation for service {other:?} in the test data"),
    }
}

fn resource(service: &str) -> Resource {
    ServiceResource::new(service)
        .namespace("shop")
        .version("2.4.1")
        .instance(format!("{service}-0"))
        .environment(RESOURCE_ENVIRONMENT)
        .sdk("go", "1.35.0")
        .build()
}

/// SERVER span `n` of `service` in request `round`.
fn server_span(service: &str, round: u64, n: u64) -> Span {
    let operation = operation_of(service);
    let (method, route) = operation.split_once(' ').unwrap_or(("GET", "/"));
    let start = 1_700_000_000_000_000_000 + round * 60_000_000_000 + n * 1_000_000;
    Span {
        trace_id: trace_id(round + 1, n + 1),
        span_id: span_id((round << 40) | (n + 1)),
        parent_span_id: span_id(n + 0x5eed),
        flags: 0x301,
        name: operation.to_owned(),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + 35_000_000 + n % 1000 * 10_000,
        attributes: vec![
            string("http.request.method", method),
            string("http.route", route),
            string("url.path", route),
            string("url.scheme", "http"),
            int("http.response.status_code", 200),
            string("server.address", service),
            int("server.port", 8080),
            string("client.address", format!("10.2.{}.{}", n % 200, n % 250)),
            string(
                "user_agent.original",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
            ),
            string("network.protocol.version", "1.1"),
        ],
        ..Default::default()
    }
}

fn resource_spans(service: &str, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(resource(service)),
        scope_spans: vec![ScopeSpans {
            scope: None,
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A traces request (encoded) with `spans` SERVER spans of each `(service, spans)`.
pub fn shop_traces(round: u64, services: &[(&str, u64)]) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: services
            .iter()
            .map(|(service, spans)| {
                let spans = (0..*spans)
                    .map(|n| server_span(service, round, n))
                    .collect();
                resource_spans(service, spans)
            })
            .collect(),
    }
    .encode_to_vec()
}

/// A traces request of checkout spans that encodes to at least `bytes`, and its span count.
pub fn checkout_traces_of_at_least(round: u64, bytes: usize) -> (Vec<u8>, u64) {
    let mut spans = Vec::new();
    let mut encoded = 0;
    while encoded < bytes {
        let span = server_span("checkout", round, spans.len() as u64);
        // Each span is a length-delimited field of one tag byte.
        encoded += 1 + prost::length_delimiter_len(span.encoded_len()) + span.encoded_len();
        spans.push(span);
    }
    let count = spans.len() as u64;
    let request = ExportTraceServiceRequest {
        resource_spans: vec![resource_spans("checkout", spans)],
    }
    .encode_to_vec();
    assert!(request.len() >= bytes, "{} < {bytes} bytes", request.len());
    (request, count)
}
