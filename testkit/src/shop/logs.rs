//! The shop's logs: checkout's order events and cart's updates.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

use super::{Drift, SCOPE_VERSION, Shop};
use crate::otlp::{Ids, scope, string, string_value};

/// Instrumentation scope of the services' logs.
const LOGS_SCOPE: &str = "opentelemetry.sdk._logs";
/// Severity numbers of the records.
const INFO: i32 = 9;
const ERROR: i32 = 17;

/// A record `text` at `severity`, with `event.name` `event` (none if empty), carrying a trace
/// context if `correlated`.
fn record(ids: &mut Ids, severity: i32, text: &str, event: &str, correlated: bool) -> LogRecord {
    LogRecord {
        severity_number: severity,
        severity_text: if severity >= ERROR { "ERROR" } else { "INFO" }.into(),
        body: Some(string_value(text)),
        attributes: if event.is_empty() {
            vec![]
        } else {
            vec![string("event.name", event)]
        },
        trace_id: if correlated { ids.trace_id() } else { vec![] },
        span_id: if correlated { ids.span_id() } else { vec![] },
        ..Default::default()
    }
}

impl Shop {
    /// Logs of `requests` requests per instance.
    pub(super) fn logs(&self, requests: u64, ids: &mut Ids) -> Vec<ExportLogsServiceRequest> {
        let mut out = Vec::new();
        for instance in 0..self.instances {
            let checkout: Vec<LogRecord> = (0..requests)
                .map(|_| {
                    if self.has(Drift::OrderEventsMissing) {
                        record(ids, INFO, "order placed", "", false)
                    } else {
                        record(ids, INFO, "order placed", "order.placed", true)
                    }
                })
                .collect();
            let per_request = if self.has(Drift::ChattyCartLogs) {
                3
            } else {
                1
            };
            let cart: Vec<LogRecord> = (0..requests * per_request)
                .map(|n| {
                    let severity = if n.is_multiple_of(50) { ERROR } else { INFO };
                    record(ids, severity, "cart updated", "", true)
                })
                .collect();
            for (service, records) in [("checkout", checkout), ("cart", cart)] {
                out.push(ExportLogsServiceRequest {
                    resource_logs: vec![ResourceLogs {
                        resource: self.resource(service, instance),
                        scope_logs: vec![ScopeLogs {
                            scope: scope(LOGS_SCOPE, SCOPE_VERSION),
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
}
