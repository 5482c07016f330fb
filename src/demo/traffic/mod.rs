//! Built-in traffic for `otel-parity demo`: an online shop (frontend →
//! checkout → payment, cart, recommendation) in prod and in staging, sent
//! through the real OTLP/gRPC port with OpenTelemetry's own protos.
//!
//! Staging differs from prod in scale (fewer instances, less traffic,
//! other host names) and in one planted drift per dimension, listed in
//! [`PLANTED_DRIFTS`], so the report shows every kind of finding.
mod logs;
mod metrics;
mod traces;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use tonic::transport::Channel;

use self::logs::logs;
use self::metrics::metrics;
use self::traces::traces;

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
    pub(super) fn name(self) -> &'static str {
        match self {
            Environment::Prod => "prod",
            Environment::Staging => "staging",
        }
    }

    pub(super) fn instances(self) -> u64 {
        match self {
            Environment::Prod => 3,
            Environment::Staging => 1,
        }
    }

    pub(super) fn staging(self) -> bool {
        self == Environment::Staging
    }
}

pub(super) fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

pub(super) fn s(key: &str, value: impl Into<String>) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

pub(super) fn i(key: &str, value: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(value))
}

pub(super) fn resource(env: Environment, service: &str, instance: u64) -> Option<Resource> {
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

pub(super) fn scope(name: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: name.into(),
        version: "0.48b0".into(),
        ..Default::default()
    })
}

/// A deterministic id source, so demo runs are repeatable.
pub(super) struct Ids(u64);

impl Ids {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 | 1
    }

    pub(super) fn trace_id(&mut self) -> Vec<u8> {
        [self.next().to_le_bytes(), self.next().to_le_bytes()].concat()
    }

    pub(super) fn span_id(&mut self) -> Vec<u8> {
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
