//! Shop telemetry as OTLP/JSON lines, written the way the Collector's file exporter writes them:
//! one compact export request per line, lowerCamelCase names, hex trace and span ids, 64-bit
//! integers as strings, enums as numbers, empty fields left out.
//!
//! Frontend (Node.js) calls checkout (Go) over HTTP; payment (Python) charges cards. Every
//! fourth checkout fails: frontend's SERVER and CLIENT spans and checkout's SERVER span have
//! status ERROR.

mod logs;
mod metrics;
mod traces;

use serde_json::{Value, json};

pub use self::logs::{RECORDS_PER_LOGS_LINE, payment_logs_line, shop_logs_line};
pub use self::metrics::{
    CHECKOUT_DURATION_BOUNDS, FRONTEND_DURATION_BOUNDS, POINTS_PER_METRICS_LINE,
    payment_metrics_line, shop_metrics_line,
};
pub use self::traces::{SPANS_PER_CHECKOUT, checkout_traces_line, failed_in, payment_traces_line};

/// Where a resource names its environment.
#[derive(Debug, Clone, Copy)]
pub enum EnvironmentAttribute {
    /// `deployment.environment.name` (stable since semantic conventions 1.41).
    Name(&'static str),
    /// Only the deprecated `deployment.environment`.
    Deprecated(&'static str),
    /// Neither.
    Absent,
}

/// The environment of most of the test telemetry.
pub const PRODUCTION: EnvironmentAttribute = EnvironmentAttribute::Name("production");

/// Service keys in the snapshot: `service.namespace/service.name`.
pub const CHECKOUT: &str = "shop/checkout";
pub const FRONTEND: &str = "shop/frontend";
pub const PAYMENT: &str = "shop/payment";

/// 2023-11-14T22:13:20Z, the first span's start.
const EPOCH_NANOS: u64 = 1_700_000_000_000_000_000;
/// Nanoseconds per millisecond.
const MILLIS: u64 = 1_000_000;

/// A string attribute.
fn string_attr(key: &str, value: &str) -> Value {
    json!({ "key": key, "value": { "stringValue": value } })
}

/// An int attribute (a string in OTLP/JSON).
fn int_attr(key: &str, value: i64) -> Value {
    json!({ "key": key, "value": { "intValue": value.to_string() } })
}

/// A double attribute.
fn double_attr(key: &str, value: f64) -> Value {
    json!({ "key": key, "value": { "doubleValue": value } })
}

/// The resource of shop service `service`, instrumented with the `language` SDK.
fn resource(service: &str, language: &str, environment: EnvironmentAttribute) -> Value {
    let mut attributes = vec![
        string_attr("service.namespace", "shop"),
        string_attr("service.name", service),
        string_attr("service.version", "2.4.1"),
        string_attr("service.instance.id", &format!("{service}-6f8d9c7b5-q4zxw")),
        string_attr("host.name", &format!("{service}-6f8d9c7b5-q4zxw")),
        string_attr("telemetry.sdk.name", "opentelemetry"),
        string_attr("telemetry.sdk.language", language),
        string_attr("telemetry.sdk.version", "1.30.0"),
    ];
    match environment {
        EnvironmentAttribute::Name(name) => {
            attributes.push(string_attr("deployment.environment.name", name));
        }
        EnvironmentAttribute::Deprecated(name) => {
            attributes.push(string_attr("deployment.environment", name));
        }
        EnvironmentAttribute::Absent => {}
    }
    json!({ "attributes": attributes })
}

/// Trace `trace` of `batch`: 32 hex digits.
fn trace_id(batch: u64, trace: u64) -> String {
    format!(
        "{:016x}{:016x}",
        0x5b8e_fff7_9803_8103_u64 ^ batch,
        0xd269_b633_813f_c60c_u64.wrapping_add(trace)
    )
}

/// Span `n` (1–255) of trace `trace` of `batch`: 16 hex digits, never all zero.
fn span_id(batch: u64, trace: u64, n: u64) -> String {
    format!("{:016x}", (batch << 40) | (trace << 8) | n)
}

/// A uint64 timestamp, as a string.
fn nanos(value: u64) -> String {
    value.to_string()
}
