//! The shop's log export requests: INFO records correlated with traces, and a WARN.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use otel_parity_testkit::otlp::{double, scope, string, string_value};

use crate::requests::{EPOCH_NANOS, resource, span_id, trace_id};

/// One logs export of request `round`: `records` INFO "order placed" records from checkout
/// (each with a trace id) and one WARN "card declined" from payment.
pub fn shop_logs(round: u64, records: u64) -> ExportLogsServiceRequest {
    let time = EPOCH_NANOS + round * 1_000_000_000_000;
    let checkout_records = (0..records)
        .map(|r| LogRecord {
            time_unix_nano: time + r * 1_000_000,
            observed_time_unix_nano: time + r * 1_000_000 + 200_000,
            severity_number: SeverityNumber::Info as i32,
            severity_text: "INFO".to_owned(),
            body: Some(string_value(format!("order {} placed", round * 1000 + r))),
            attributes: vec![
                string("app.order.id", format!("ord-{}", round * 1000 + r)),
                double("app.order.total", 42.5 + r as f64),
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
        body: Some(string_value("card declined")),
        attributes: vec![string("app.payment.card_brand", "amex")],
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
pub fn records_in(records: u64) -> u64 {
    records + 1
}
