//! The shop's logs: checkout's order events and cart's updates.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

use super::{Environment, Ids, resource, s, scope};

/// Logs of `requests` requests per instance.
pub(super) fn logs(
    env: Environment,
    requests: u64,
    ids: &mut Ids,
) -> Vec<ExportLogsServiceRequest> {
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
