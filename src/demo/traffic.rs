//! Built-in traffic for `otel-parity demo`: an online shop (frontend →
//! checkout → payment, cart, recommendation) in prod and in staging, sent
//! through the real OTLP/gRPC port with OpenTelemetry's own protos.
//!
//! Staging differs from prod in scale (fewer instances, less traffic,
//! other host names) and in one planted drift per dimension, listed in
//! [`PLANTED_DRIFTS`], so the report shows every kind of finding.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use tonic::transport::Channel;

/// What staging does differently from prod, one line per dimension.
pub const PLANTED_DRIFTS: [&str; 13] = [
    "services: shop/recommendation runs in prod only",
    "missing traces: shop/payment sends no spans in staging",
    "metric definitions: app.orders.placed has unit {order} in prod, 1 in staging; app.cart.items is a sum in prod, a gauge in staging",
    "label keys: app.orders.placed loses app.payment.method in staging",
    "cardinality: app.cart.requests carries user.id in staging",
    "span operations: checkout's `reserve inventory` is not instrumented in staging",
    "span attributes: frontend's SERVER spans lack http.route in staging",
    "edges: frontend's outgoing POST /checkout is not a child of its GET /api/checkout in staging",
    "context propagation: checkout's SERVER spans start new traces in staging",
    "sampling: prod samples at 25% (ot=th:c), staging at 100%",
    "logs: checkout's order.placed events and log-trace correlation are missing in staging",
    "versions: staging runs an older OpenTelemetry SDK and Python runtime",
    "ingestion: staging's cart logs three times as much per request",
];

/// An environment's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Prod,
    Staging,
}

impl Environment {
    fn name(self) -> &'static str {
        match self {
            Environment::Prod => "prod",
            Environment::Staging => "staging",
        }
    }

    fn instances(self) -> u64 {
        match self {
            Environment::Prod => 3,
            Environment::Staging => 1,
        }
    }

    fn staging(self) -> bool {
        self == Environment::Staging
    }
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(key: &str, value: impl Into<String>) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

fn i(key: &str, value: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(value))
}

fn resource(env: Environment, service: &str, instance: u64) -> Option<Resource> {
    let (sdk, runtime) = if env.staging() {
        ("1.38.0", "3.11.9")
    } else {
        ("1.45.2", "3.12.7")
    };
    Some(Resource {
        attributes: vec![
            s("service.name", service),
            s("service.namespace", "shop"),
            s("service.version", "2.4.1"),
            s(
                "service.instance.id",
                format!("{service}-{}-{instance}", env.name()),
            ),
            s("deployment.environment.name", env.name()),
            s("telemetry.sdk.name", "opentelemetry"),
            s("telemetry.sdk.language", "python"),
            s("telemetry.sdk.version", sdk),
            s("process.runtime.name", "cpython"),
            s("process.runtime.version", runtime),
            s(
                "host.name",
                format!(
                    "ip-10-{}-0-{instance}.internal",
                    if env.staging() { 2 } else { 1 }
                ),
            ),
        ],
        ..Default::default()
    })
}

fn scope(name: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: name.into(),
        version: "0.48b0".into(),
        ..Default::default()
    })
}

/// A deterministic id source, so demo runs are repeatable.
struct Ids(u64);

impl Ids {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 | 1
    }

    fn trace_id(&mut self) -> Vec<u8> {
        [self.next().to_le_bytes(), self.next().to_le_bytes()].concat()
    }

    fn span_id(&mut self) -> Vec<u8> {
        self.next().to_le_bytes().to_vec()
    }
}

/// One batch of the shop's telemetry: `requests` user requests served by
/// each instance of `env`.
pub struct Batch {
    pub traces: Vec<ExportTraceServiceRequest>,
    pub metrics: Vec<ExportMetricsServiceRequest>,
    pub logs: Vec<ExportLogsServiceRequest>,
}

struct SpanSpec<'a> {
    name: &'a str,
    kind: span::SpanKind,
    parent: Vec<u8>,
    remote: bool,
    attributes: Vec<KeyValue>,
    error: bool,
    millis: u64,
}

fn make_span(
    ids: &mut Ids,
    trace_id: &[u8],
    tracestate: &str,
    spec: SpanSpec<'_>,
) -> (Vec<u8>, Span) {
    let span_id = ids.span_id();
    let start = 1_763_900_000_000_000_000 + ids.next() % 1_000_000_000_000;
    let flags = if spec.parent.is_empty() {
        0x101
    } else if spec.remote {
        0x301
    } else {
        0x101
    };
    let span = Span {
        trace_id: trace_id.to_vec(),
        span_id: span_id.clone(),
        parent_span_id: spec.parent,
        trace_state: tracestate.into(),
        flags,
        name: spec.name.into(),
        kind: spec.kind as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + spec.millis * 1_000_000,
        attributes: spec.attributes,
        events: if spec.error {
            vec![span::Event {
                name: "exception".into(),
                attributes: vec![s("exception.type", "PaymentDeclined")],
                ..Default::default()
            }]
        } else {
            vec![]
        },
        status: spec.error.then(|| Status {
            code: status::StatusCode::Error as i32,
            ..Default::default()
        }),
        ..Default::default()
    };
    (span_id, span)
}

fn http_server(method: &str, route: &str, with_route: bool, status: i64) -> Vec<KeyValue> {
    let mut attributes = vec![
        s("http.request.method", method),
        s("url.path", route),
        s("url.scheme", "http"),
        i("http.response.status_code", status),
        s("server.address", "shop.internal"),
    ];
    if with_route {
        attributes.push(s("http.route", route));
    }
    attributes
}

/// Traces of `requests` checkouts per instance, with each environment's drifts.
fn traces(env: Environment, requests: u64, ids: &mut Ids) -> Vec<ExportTraceServiceRequest> {
    let mut by_service: Vec<(&str, u64, Vec<Span>)> = Vec::new();
    let tracestate = if env.staging() { "ot=th:0" } else { "ot=th:c" };
    for instance in 0..env.instances() {
        let (mut frontend, mut checkout, mut payment, mut recommendation) =
            (vec![], vec![], vec![], vec![]);
        for n in 0..requests {
            // Prod keeps one trace in four, as its `th:c` threshold says;
            // staging keeps every trace.
            if !env.staging() && n % 4 != 0 {
                continue;
            }
            let trace_id = ids.trace_id();
            let (root, span) = make_span(
                ids,
                &trace_id,
                tracestate,
                SpanSpec {
                    name: "GET /api/checkout",
                    kind: span::SpanKind::Server,
                    parent: vec![],
                    remote: false,
                    attributes: http_server("GET", "/api/checkout", !env.staging(), 200),
                    error: false,
                    millis: 180,
                },
            );
            frontend.push(span);
            // Staging's HTTP client does not attach to the active span.
            let client_parent = if env.staging() { vec![] } else { root.clone() };
            let (client, span) = make_span(
                ids,
                &trace_id,
                tracestate,
                SpanSpec {
                    name: "POST /checkout",
                    kind: span::SpanKind::Client,
                    parent: client_parent,
                    remote: false,
                    attributes: vec![
                        s("http.request.method", "POST"),
                        s("server.address", "checkout"),
                    ],
                    error: false,
                    millis: 150,
                },
            );
            frontend.push(span);
            // Staging's checkout does not extract the incoming context.
            let (checkout_trace, checkout_parent) = if env.staging() {
                (ids.trace_id(), vec![])
            } else {
                (trace_id.clone(), client)
            };
            let (server, span) = make_span(
                ids,
                &checkout_trace,
                tracestate,
                SpanSpec {
                    name: "POST /checkout",
                    kind: span::SpanKind::Server,
                    parent: checkout_parent,
                    remote: true,
                    attributes: http_server("POST", "/checkout", true, 200),
                    error: false,
                    millis: 140,
                },
            );
            checkout.push(span);
            if !env.staging() {
                let (_, span) = make_span(
                    ids,
                    &checkout_trace,
                    tracestate,
                    SpanSpec {
                        name: "reserve inventory",
                        kind: span::SpanKind::Internal,
                        parent: server.clone(),
                        remote: false,
                        attributes: vec![s("app.inventory.warehouse", "eu-1")],
                        error: false,
                        millis: 20,
                    },
                );
                checkout.push(span);
            }
            let (charge, span) = make_span(
                ids,
                &checkout_trace,
                tracestate,
                SpanSpec {
                    name: "POST /charge",
                    kind: span::SpanKind::Client,
                    parent: server,
                    remote: false,
                    attributes: vec![
                        s("http.request.method", "POST"),
                        s("server.address", "payment"),
                    ],
                    error: n % 8 == 0,
                    millis: 90,
                },
            );
            checkout.push(span);
            let (_, span) = make_span(
                ids,
                &checkout_trace,
                tracestate,
                SpanSpec {
                    name: "POST /charge",
                    kind: span::SpanKind::Server,
                    parent: charge,
                    remote: true,
                    attributes: http_server(
                        "POST",
                        "/charge",
                        true,
                        if n % 8 == 0 { 502 } else { 200 },
                    ),
                    error: n % 8 == 0,
                    millis: 80,
                },
            );
            payment.push(span);
            let (_, span) = make_span(
                ids,
                &trace_id,
                tracestate,
                SpanSpec {
                    name: "GET /recommendations",
                    kind: span::SpanKind::Server,
                    parent: root,
                    remote: true,
                    attributes: http_server("GET", "/recommendations", true, 200),
                    error: false,
                    millis: 30,
                },
            );
            recommendation.push(span);
        }
        by_service.push(("frontend", instance, frontend));
        by_service.push(("checkout", instance, checkout));
        if !env.staging() {
            by_service.push(("payment", instance, payment));
            by_service.push(("recommendation", instance, recommendation));
        }
    }
    by_service
        .into_iter()
        .map(|(service, instance, spans)| ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource(env, service, instance),
                scope_spans: vec![ScopeSpans {
                    scope: scope("opentelemetry.instrumentation.flask"),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
        .collect()
}

/// A cumulative request-duration point: `total` requests since `start`.
fn duration_histogram(route: &str, total: u64, bounds: &[f64], start: u64) -> HistogramDataPoint {
    HistogramDataPoint {
        attributes: vec![
            s("http.request.method", "POST"),
            s("http.route", route),
            i("http.response.status_code", 200),
        ],
        start_time_unix_nano: start,
        time_unix_nano: start + 10_000_000_000,
        count: total,
        sum: Some(total as f64 * 0.12),
        bucket_counts: (0..=bounds.len())
            .map(|b| if b == 4 { total } else { 0 })
            .collect(),
        explicit_bounds: bounds.to_vec(),
        ..Default::default()
    }
}

/// Metrics after `total` requests per instance (cumulative, as SDKs export).
fn metrics(env: Environment, total: u64, ids: &mut Ids) -> Vec<ExportMetricsServiceRequest> {
    let start = 1_763_800_000_000_000_000;
    let bounds = [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ];
    let mut out = Vec::new();
    for instance in 0..env.instances() {
        let request_duration = |route: &str| Metric {
            name: "http.server.request.duration".into(),
            unit: "s".into(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: vec![duration_histogram(route, total, &bounds, start)],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })),
            ..Default::default()
        };
        let counter = |name: &str, unit: &str, points: Vec<NumberDataPoint>| Metric {
            name: name.into(),
            unit: unit.into(),
            data: Some(metric::Data::Sum(Sum {
                data_points: points,
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        };
        let point = |attributes: Vec<KeyValue>, value: i64| NumberDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: start + 10_000_000_000,
            value: Some(number_data_point::Value::AsInt(value)),
            ..Default::default()
        };
        let orders = (0..3)
            .map(|m| {
                let method = ["card", "paypal", "voucher"][m];
                let mut attributes = vec![s("app.currency", "EUR")];
                if !env.staging() {
                    attributes.push(s("app.payment.method", method));
                }
                point(attributes, total as i64)
            })
            .collect();
        let cart_requests = (0..if env.staging() { 300 } else { 4 })
            .map(|n| {
                let mut attributes = vec![s("http.route", "/cart"), i("app.cart.shard", n % 4)];
                if env.staging() {
                    attributes.push(s("user.id", format!("user-{}", ids.next() % 100_000)));
                }
                point(attributes, total as i64)
            })
            .collect();
        let cart_items = if env.staging() {
            Metric {
                name: "app.cart.items".into(),
                unit: "{item}".into(),
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: vec![point(vec![], 3)],
                })),
                ..Default::default()
            }
        } else {
            counter(
                "app.cart.items",
                "{item}",
                vec![point(vec![], total as i64 * 3)],
            )
        };
        let mut services = vec![
            ("frontend", vec![request_duration("/api/checkout")]),
            (
                "checkout",
                vec![
                    request_duration("/checkout"),
                    counter(
                        "app.orders.placed",
                        if env.staging() { "1" } else { "{order}" },
                        orders,
                    ),
                ],
            ),
            (
                "cart",
                vec![
                    request_duration("/cart"),
                    counter("app.cart.requests", "{request}", cart_requests),
                    cart_items,
                ],
            ),
        ];
        services.push(("payment", vec![request_duration("/charge")]));
        if !env.staging() {
            services.push(("recommendation", vec![request_duration("/recommendations")]));
        }
        for (service, metrics) in services {
            out.push(ExportMetricsServiceRequest {
                resource_metrics: vec![ResourceMetrics {
                    resource: resource(env, service, instance),
                    scope_metrics: vec![ScopeMetrics {
                        scope: scope("opentelemetry.instrumentation.flask"),
                        metrics,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            });
        }
    }
    out
}

/// Logs of `requests` requests per instance.
fn logs(env: Environment, requests: u64, ids: &mut Ids) -> Vec<ExportLogsServiceRequest> {
    let mut out = Vec::new();
    for instance in 0..env.instances() {
        let record =
            |ids: &mut Ids, severity: i32, text: &str, event: &str, correlated: bool| LogRecord {
                severity_number: severity,
                severity_text: if severity >= 17 { "ERROR" } else { "INFO" }.into(),
                body: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(text.into())),
                }),
                attributes: if event.is_empty() {
                    vec![]
                } else {
                    vec![s("event.name", event)]
                },
                trace_id: if correlated { ids.trace_id() } else { vec![] },
                span_id: if correlated { ids.span_id() } else { vec![] },
                ..Default::default()
            };
        let checkout: Vec<LogRecord> = (0..requests)
            .map(|_| {
                if env.staging() {
                    record(ids, 9, "order placed", "", false)
                } else {
                    record(ids, 9, "order placed", "order.placed", true)
                }
            })
            .collect();
        let per_request = if env.staging() { 3 } else { 1 };
        let cart: Vec<LogRecord> = (0..requests * per_request)
            .map(|n| {
                record(
                    ids,
                    if n % 50 == 0 { 17 } else { 9 },
                    "cart updated",
                    "",
                    true,
                )
            })
            .collect();
        for (service, records) in [("checkout", checkout), ("cart", cart)] {
            out.push(ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    resource: resource(env, service, instance),
                    scope_logs: vec![ScopeLogs {
                        scope: scope("opentelemetry.sdk._logs"),
                        log_records: records,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            });
        }
    }
    out
}

/// One batch: `requests` requests per instance; `total` is the running
/// request count per instance so far (for cumulative metrics).
pub fn batch(env: Environment, requests: u64, total: u64, seed: u64) -> Batch {
    let mut ids = Ids(seed ^ if env.staging() { 0x5747 } else { 0x9d0d });
    Batch {
        traces: traces(env, requests, &mut ids),
        metrics: metrics(env, total, &mut ids),
        logs: logs(env, requests, &mut ids),
    }
}

/// Sends one batch to an OTLP/gRPC endpoint such as `http://127.0.0.1:4317`.
pub async fn send(endpoint: &str, batch: Batch) -> Result<(), tonic::Status> {
    let channel = Channel::from_shared(endpoint.to_owned())
        .map_err(|e| tonic::Status::invalid_argument(e.to_string()))?
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut traces = TraceServiceClient::new(channel.clone());
    let mut metrics = MetricsServiceClient::new(channel.clone());
    let mut logs = LogsServiceClient::new(channel);
    for request in batch.traces {
        traces.export(request).await?;
    }
    for request in batch.metrics {
        metrics.export(request).await?;
    }
    for request in batch.logs {
        logs.export(request).await?;
    }
    Ok(())
}
