//! Engine tests over real OTLP requests built with opentelemetry-proto's types and the test
//! kit's OTLP builders: the requests every test shares here, the tests by signal in `traces`,
//! `metrics` and `logs`, and what holds across signals (environment, privacy, malformed
//! requests, windows) in `engine`.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Histogram, HistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics,
    metric,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use otel_parity_proto::v1 as pb;
use otel_parity_testkit::otlp::{ServiceResource, int, scope, string};
use prost::Message;

use super::*;

mod engine;
mod logs;
mod metrics;
mod traces;

fn resource(service: &str, environment: &str, instance: &str) -> Option<Resource> {
    let resource = ServiceResource::new(service)
        .namespace("shop")
        .version("2.4.1")
        .instance(instance)
        .environment(environment)
        .sdk_language("rust")
        .host("ip-10-0-3-17.internal")
        .build();
    Some(resource)
}

fn engine() -> Fingerprinter {
    Fingerprinter::new(EngineConfig::default())
}

#[allow(clippy::too_many_arguments)]
fn span(
    trace: u8,
    id: u8,
    parent: u8,
    name: &str,
    kind: span::SpanKind,
    flags: u32,
    state: &str,
    error: bool,
) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: if parent == 0 { vec![] } else { vec![parent; 8] },
        trace_state: state.into(),
        flags,
        name: name.into(),
        kind: kind as i32,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_000_000_000 + u64::from(id) * 1_000_000,
        attributes: vec![
            string("http.request.method", "POST"),
            string("user.id", "customer-8842"),
            int("http.response.status_code", 200),
        ],
        status: error.then(|| Status {
            code: status::StatusCode::Error as i32,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn traces(service: &str, spans: Vec<Span>) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(service, "prod", &format!("{service}-1")),
            scope_spans: vec![ScopeSpans {
                scope: scope("opentelemetry.instrumentation.flask", "0.48b0"),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn service<'a>(
    snapshot: &'a pb::Snapshot,
    environment: &str,
    key: &str,
) -> &'a pb::ServiceFingerprint {
    &snapshot.environments[environment].services[key]
}

fn operation<'a>(
    svc: &'a pb::ServiceFingerprint,
    name: &str,
    kind: pb::SpanKind,
) -> &'a pb::SpanOperation {
    svc.span_operations
        .iter()
        .find(|op| op.name == name && op.kind == kind as i32)
        .unwrap_or_else(|| panic!("no operation {name} {kind:?} in {:?}", svc.span_operations))
}

fn duration_histogram(count: u64, start: u64, route: &str) -> HistogramDataPoint {
    HistogramDataPoint {
        attributes: vec![
            string("http.request.method", "GET"),
            string("http.route", route),
        ],
        start_time_unix_nano: start,
        time_unix_nano: start + 1,
        count,
        explicit_bounds: vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0],
        bucket_counts: vec![count, 0, 0, 0, 0, 0, 0, 0, 0],
        ..Default::default()
    }
}

fn metrics(service: &str, metrics: Vec<Metric>) -> Vec<u8> {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(service, "staging", "cart-7f9c"),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn request_duration(points: Vec<HistogramDataPoint>) -> Metric {
    Metric {
        name: "http.server.request.duration".into(),
        unit: "s".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Default::default()
    }
}
