//! Log-record shapes: severity ranges, event names, body kinds and trace correlation.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

use otel_parity_testkit::otlp::string_value;

use super::*;

#[test]
fn logs_record_severity_ranges_events_bodies_and_trace_correlation() {
    let engine = engine();
    let record = |severity: i32, trace: bool, event: &str| LogRecord {
        severity_number: severity,
        body: Some(string_value("order placed for customer 8842")),
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
