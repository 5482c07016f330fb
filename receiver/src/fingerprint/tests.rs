//! Engine tests over real OTLP requests built with opentelemetry-proto's types.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use otel_parity_proto::v1 as pb;
use prost::Message;

use super::*;

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

fn resource(service: &str, environment: &str, instance: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![
            string("service.name", service),
            string("service.namespace", "shop"),
            string("service.version", "2.4.1"),
            string("service.instance.id", instance),
            string("deployment.environment.name", environment),
            string("telemetry.sdk.language", "rust"),
            string("host.name", "ip-10-0-3-17.internal"),
        ],
        ..Default::default()
    })
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
                scope: Some(InstrumentationScope {
                    name: "opentelemetry.instrumentation.flask".into(),
                    version: "0.48b0".into(),
                    ..Default::default()
                }),
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

const REMOTE: u32 = 0x300;
const LOCAL: u32 = 0x100;

#[test]
fn edges_cross_services_and_requests_and_propagation_is_classified() {
    let engine = engine();
    // frontend SERVER(1) → CLIENT(2) ; checkout SERVER(3, remote parent 2) → INTERNAL(4)
    // The checkout request arrives first: its parent is not known yet.
    let checkout = traces(
        "checkout",
        vec![
            span(
                7,
                4,
                3,
                "prepare order",
                span::SpanKind::Internal,
                LOCAL,
                "ot=th:c",
                false,
            ),
            span(
                7,
                3,
                2,
                "POST /checkout",
                span::SpanKind::Server,
                REMOTE,
                "ot=th:c",
                true,
            ),
        ],
    );
    let frontend = traces(
        "frontend",
        vec![
            span(
                7,
                2,
                1,
                "POST /checkout",
                span::SpanKind::Client,
                LOCAL,
                "ot=th:c",
                false,
            ),
            span(
                7,
                1,
                0,
                "GET /cart",
                span::SpanKind::Server,
                0,
                "ot=th:c",
                false,
            ),
        ],
    );
    assert_eq!(
        engine
            .ingest(Signal::Traces, &checkout, checkout.len())
            .unwrap()
            .accepted,
        2
    );
    assert_eq!(
        engine
            .ingest(Signal::Traces, &frontend, frontend.len())
            .unwrap()
            .accepted,
        2
    );
    let snapshot = engine.snapshot();
    let checkout = service(&snapshot, "prod", "shop/checkout");
    let server = operation(checkout, "POST /checkout", pb::SpanKind::Server);
    assert_eq!(server.errors, 1);
    assert_eq!(
        server.propagation,
        Some(pb::Propagation {
            remote_parent: 1,
            local_parent: 0,
            root: 0
        })
    );
    assert_eq!(server.attribute_keys["http.request.method"], 1);
    assert_eq!(server.duration.as_ref().unwrap().count, 1);
    let edges: Vec<_> = checkout
        .edges
        .iter()
        .map(|e| {
            (
                e.parent_service.as_str(),
                e.parent_operation.as_str(),
                e.child_operation.as_str(),
                e.count,
            )
        })
        .collect();
    assert_eq!(
        edges,
        vec![
            ("shop/checkout", "POST /checkout", "prepare order", 1),
            ("shop/frontend", "POST /checkout", "POST /checkout", 1),
        ]
    );
    let frontend = service(&snapshot, "prod", "shop/frontend");
    let root = operation(frontend, "GET /cart", pb::SpanKind::Server);
    assert_eq!(root.propagation.unwrap().root, 1);
    assert_eq!(frontend.edges.len(), 1);
    let sampling = checkout.sampling.as_ref().unwrap();
    assert_eq!(sampling.thresholds[0].threshold, "c");
    assert_eq!(sampling.thresholds[0].spans, 2);
    assert_eq!(sampling.server_spans_adjusted, 4.0);
    let scopes = &checkout.resource.as_ref().unwrap().scopes;
    assert_eq!(
        scopes["opentelemetry.instrumentation.flask"].versions["0.48b0"],
        1
    );
    assert_eq!(snapshot.received["traces"].items, 4);
    assert_eq!(snapshot.received["traces"].requests, 2);
}

#[test]
fn spans_with_invalid_ids_are_rejected_and_the_rest_kept() {
    let engine = engine();
    let mut bad = span(1, 2, 0, "GET /", span::SpanKind::Server, 0, "", false);
    bad.trace_id = vec![1; 15];
    let request = traces(
        "frontend",
        vec![
            bad,
            span(1, 3, 0, "GET /", span::SpanKind::Server, 0, "", false),
        ],
    );
    let outcome = engine
        .ingest(Signal::Traces, &request, request.len())
        .unwrap();
    assert_eq!((outcome.accepted, outcome.rejected), (1, 1));
    assert!(outcome.rejection.unwrap().contains("trace_id"));
    let snapshot = engine.snapshot();
    assert_eq!(
        operation(
            service(&snapshot, "prod", "shop/frontend"),
            "GET /",
            pb::SpanKind::Server
        )
        .spans,
        1
    );
    assert_eq!(snapshot.received["traces"].rejected_items, 1);
}

#[test]
fn malformed_request_changes_nothing_already_counted() {
    let engine = engine();
    let good = traces(
        "frontend",
        vec![span(1, 1, 0, "GET /", span::SpanKind::Server, 0, "", false)],
    );
    engine.ingest(Signal::Traces, &good, good.len()).unwrap();
    let before = engine.snapshot();
    // Truncated: the last span's bytes are cut, after a valid first span.
    let longer = traces(
        "payment",
        vec![
            span(
                1,
                5,
                0,
                "POST /charge",
                span::SpanKind::Server,
                0,
                "",
                false,
            ),
            span(
                1,
                6,
                0,
                "POST /charge",
                span::SpanKind::Server,
                0,
                "",
                false,
            ),
        ],
    );
    let error = engine
        .ingest(Signal::Traces, &longer[..longer.len() - 7], 10)
        .unwrap_err();
    assert_eq!(error.source, WireError::Truncated);
    let mut invalid_utf8 = good.clone();
    let at = invalid_utf8.windows(5).position(|w| w == b"GET /").unwrap();
    invalid_utf8[at] = 0xff;
    assert!(matches!(
        engine
            .ingest(Signal::Traces, &invalid_utf8, 1)
            .unwrap_err()
            .source,
        WireError::InvalidUtf8 { .. }
    ));
    let after = engine.snapshot();
    assert_eq!(before.environments, after.environments);
    assert_eq!(after.received["traces"].rejected_requests, 2);
    assert_eq!(after.received["traces"].items, 1);
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

#[test]
fn cumulative_request_counts_become_deltas_and_restarts_count_from_zero() {
    let engine = engine();
    for (count, start) in [(10, 100), (25, 100), (4, 900)] {
        let request = metrics(
            "cart",
            vec![request_duration(vec![
                duration_histogram(count, start, "/cart"),
                duration_histogram(count, start, "/cart/items"),
            ])],
        );
        engine
            .ingest(Signal::Metrics, &request, request.len())
            .unwrap();
    }
    let snapshot = engine.snapshot();
    let cart = service(&snapshot, "staging", "shop/cart");
    // Per series: 10, then +15, then a restart (new start time) adds 4: 29 × 2.
    assert_eq!(cart.sampling.as_ref().unwrap().request_metric_count, 58);
    let shape = &cart.metrics["http.server.request.duration"];
    assert_eq!(shape.types["histogram"], 6);
    assert_eq!(shape.units["s"], 6);
    assert_eq!(shape.temporalities["cumulative"], 6);
    assert_eq!(shape.bucket_layouts.len(), 1);
    assert_eq!(
        shape.bucket_layouts[0].bounds,
        vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]
    );
    assert_eq!(shape.series.as_ref().unwrap().estimate, 2.0);
    assert_eq!(
        shape.attribute_keys["http.route"]
            .values
            .as_ref()
            .unwrap()
            .estimate,
        2.0
    );
}

#[test]
fn sums_record_monotonicity_and_metrics_over_the_cap_are_counted() {
    let mut config = EngineConfig::default();
    config.limits.max_metrics = 1;
    let engine = Fingerprinter::new(config);
    let sum = |name: &str, monotonic: bool| Metric {
        name: name.into(),
        unit: "{order}".into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![NumberDataPoint {
                attributes: vec![string("app.payment.method", "card")],
                value: Some(number_data_point::Value::AsInt(3)),
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Delta as i32,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    };
    let request = metrics(
        "checkout",
        vec![
            sum("app.orders.placed", true),
            sum("app.orders.inflight", false),
        ],
    );
    let outcome = engine
        .ingest(Signal::Metrics, &request, request.len())
        .unwrap();
    assert_eq!(outcome.accepted, 2);
    let snapshot = engine.snapshot();
    let checkout = service(&snapshot, "staging", "shop/checkout");
    assert_eq!(checkout.metrics.len(), 1);
    assert_eq!(checkout.metrics["app.orders.placed"].monotonic_points, 1);
    assert_eq!(
        checkout.metrics["app.orders.placed"].temporalities["delta"],
        1
    );
    assert_eq!(checkout.overflow.unwrap().metric_names, 1);
}

#[test]
fn logs_record_severity_ranges_events_bodies_and_trace_correlation() {
    let engine = engine();
    let record = |severity: i32, trace: bool, event: &str| LogRecord {
        severity_number: severity,
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(
                "order placed for customer 8842".into(),
            )),
        }),
        attributes: vec![string("app.order.id", "o-1"), string("event.name", event)],
        trace_id: if trace { vec![9; 16] } else { vec![] },
        span_id: if trace { vec![8; 8] } else { vec![] },
        ..Default::default()
    };
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("checkout", "prod", "c-1"),
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    record(9, true, "order.placed"),
                    record(17, false, ""),
                    record(13, true, ""),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec();
    engine
        .ingest(Signal::Logs, &request, request.len())
        .unwrap();
    let snapshot = engine.snapshot();
    let logs = service(&snapshot, "prod", "shop/checkout")
        .logs
        .clone()
        .unwrap();
    assert_eq!(logs.records, 3);
    assert_eq!(logs.severities["INFO"], 1);
    assert_eq!(logs.severities["ERROR"], 1);
    assert_eq!(logs.severities["WARN"], 1);
    assert_eq!(logs.with_trace_id, 2);
    assert_eq!(logs.event_names.get("order.placed"), Some(&1));
    assert_eq!(logs.body_kinds["string"], 3);
    assert_eq!(logs.attribute_keys["app.order.id"], 3);
}

#[test]
fn environment_comes_from_config_or_resource_as_configured() {
    let request = traces(
        "frontend",
        vec![span(1, 1, 0, "GET /", span::SpanKind::Server, 0, "", false)],
    );
    let with = |environment: Option<&str>, from| {
        let engine = Fingerprinter::new(EngineConfig {
            environment: environment.map(str::to_owned),
            environment_from: from,
            ..Default::default()
        });
        engine.ingest(Signal::Traces, &request, 1).unwrap();
        engine
            .snapshot()
            .environments
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        with(Some("staging"), EnvironmentSource::Config),
        ["staging"]
    );
    assert_eq!(with(Some("staging"), EnvironmentSource::Resource), ["prod"]);
    assert_eq!(with(None, EnvironmentSource::Config), ["prod"]);
    let no_env = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span(1, 1, 0, "GET /", span::SpanKind::Server, 0, "", false)],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec();
    let engine = engine();
    engine.ingest(Signal::Traces, &no_env, 1).unwrap();
    let snapshot = engine.snapshot();
    assert_eq!(
        snapshot.environments.keys().collect::<Vec<_>>(),
        ["unknown"]
    );
    assert!(
        snapshot.environments["unknown"]
            .services
            .contains_key("unknown_service")
    );
}

#[test]
fn snapshot_bytes_hold_no_attribute_value_outside_the_allowlist() {
    let engine = engine();
    let request = traces(
        "frontend",
        vec![span(
            1,
            1,
            0,
            "GET /",
            span::SpanKind::Server,
            0,
            "ot=th:8",
            false,
        )],
    );
    engine.ingest(Signal::Traces, &request, 1).unwrap();
    let request = metrics(
        "cart",
        vec![request_duration(vec![duration_histogram(
            3,
            1,
            "/cart/secret-route",
        )])],
    );
    engine.ingest(Signal::Metrics, &request, 1).unwrap();
    let json = serde_json::to_string(&engine.snapshot()).unwrap();
    for secret in [
        "customer-8842",
        "ip-10-0-3-17",
        "frontend-1",
        "cart-7f9c",
        "secret-route",
        "POST\"",
    ] {
        assert!(!json.contains(secret), "{secret} leaked into the snapshot");
    }
    for allowed in ["2.4.1", "\"rust\""] {
        assert!(
            json.contains(allowed),
            "{allowed} missing from the snapshot"
        );
    }
}

#[test]
fn windows_taken_while_requests_arrive_lose_and_double_count_nothing() {
    let engine = std::sync::Arc::new(engine());
    let request = traces(
        "frontend",
        (1..=50u8)
            .map(|id| {
                span(
                    3,
                    id,
                    0,
                    "GET /api/products",
                    span::SpanKind::Server,
                    0,
                    "",
                    false,
                )
            })
            .collect(),
    );
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let engine = std::sync::Arc::clone(&engine);
            let request = request.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    engine
                        .ingest(Signal::Traces, &request, request.len())
                        .unwrap();
                }
            })
        })
        .collect();
    let mut windows = Vec::new();
    while !senders.iter().all(|s| s.is_finished()) {
        windows.push(engine.take_window());
    }
    for sender in senders {
        sender.join().unwrap();
    }
    windows.push(engine.take_window());
    let spans: u64 = windows
        .iter()
        .filter_map(|w| w.environments.get("prod"))
        .map(|env| {
            operation(
                &env.services["shop/frontend"],
                "GET /api/products",
                pb::SpanKind::Server,
            )
            .spans
        })
        .sum();
    assert_eq!(spans, 4 * 200 * 50);
    assert!(windows.len() > 2, "only {} windows", windows.len());
    for pair in windows.windows(2) {
        assert!(pair[1].window_start_unix_nano >= pair[0].window_start_unix_nano);
    }
    assert!(engine.snapshot().environments.is_empty());
    assert_eq!(engine.snapshot().received["traces"].items, 4 * 200 * 50);
}

#[test]
fn cumulative_request_counts_continue_across_windows() {
    let engine = engine();
    let send = |count| {
        let request = metrics(
            "cart",
            vec![request_duration(vec![duration_histogram(
                count, 100, "/cart",
            )])],
        );
        engine
            .ingest(Signal::Metrics, &request, request.len())
            .unwrap();
    };
    let requests = |window: &pb::Snapshot| {
        service(window, "staging", "shop/cart")
            .sampling
            .as_ref()
            .unwrap()
            .request_metric_count
    };
    send(10);
    let first = engine.take_window();
    send(25);
    send(31);
    let second = engine.take_window();
    assert_eq!((requests(&first), requests(&second)), (10, 21));
}
