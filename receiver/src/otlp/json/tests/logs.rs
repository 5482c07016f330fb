//! Log records, and the AnyValues of their bodies: ids, base64 bytes and nesting depth.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use otel_parity_testkit::otlp::{any, from_hex};
use prost::Message;
use serde_json::{Value, json};

use super::fixtures::{SPAN_ID, TRACE_ID, run, text};
use crate::Signal;
use crate::otlp::json::{JsonError, Transcoded, transcode};

fn logs_with(records: Value) -> Value {
    json!({"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]})
}

fn decode_records(got: &Transcoded) -> Vec<LogRecord> {
    let request = ExportLogsServiceRequest::decode(got.protobuf.as_slice()).unwrap();
    let scopes = request.resource_logs.into_iter().flat_map(|r| r.scope_logs);
    scopes.flat_map(|s| s.log_records).collect()
}

#[test]
fn log_record_ids_may_be_empty_but_not_malformed() {
    let records = json!([
        {"spanId": "00f067aa0ba902b", "body": {"stringValue": "short span id"}},
        {"traceId": "", "spanId": "", "body": {"stringValue": "no trace context"}},
        {"traceId": TRACE_ID, "spanId": SPAN_ID, "body": {"stringValue": "in a trace"}},
        {"traceId": "5b8efff798038103d269b633813fc60g", "body": {"stringValue": "non-hex"}}]);
    let got = run(Signal::Logs, &logs_with(records));
    assert_eq!(got.rejected_items, 2);
    assert_eq!(
        got.first_rejection.as_deref(),
        Some("resourceLogs[0].scopeLogs[0].logRecords[0].spanId: expected 16 hex digits, found 15")
    );
    let ids: Vec<_> = decode_records(&got)
        .into_iter()
        .map(|r| (r.trace_id, r.span_id))
        .collect();
    assert_eq!(
        ids,
        [(vec![], vec![]), (from_hex(TRACE_ID), from_hex(SPAN_ID))]
    );
}

#[test]
fn bytes_value_accepts_base64_with_or_without_padding() {
    let records = json!([{"body": {"bytesValue": "Y2hlY2tvdXQ="}}, {"body": {"bytesValue": "Y2hlY2tvdXQ"}},
                         {"body": {"bytesValue": "-_8"}}, {"body": {"bytesValue": "Y2h!dA=="}}]);
    let got = run(Signal::Logs, &logs_with(records));
    assert_eq!(got.rejected_items, 1);
    assert_eq!(
        got.first_rejection.as_deref(),
        Some(
            "resourceLogs[0].scopeLogs[0].logRecords[3].body.bytesValue: expected base64, found '!' at position 3"
        )
    );
    let bodies: Vec<_> = decode_records(&got).into_iter().map(|r| r.body).collect();
    let bytes = |b: &[u8]| Some(any(Any::BytesValue(b.to_vec())));
    assert_eq!(
        bodies,
        [bytes(b"checkout"), bytes(b"checkout"), bytes(&[0xfb, 0xff])]
    );
}

#[test]
fn any_value_nesting_is_bounded_without_overflowing_the_stack() {
    let nested = |levels: usize| {
        (0..levels).fold(
            json!({"stringValue": "leaf"}),
            |inner, _| json!({"arrayValue": {"values": [inner]}}),
        )
    };
    let got = run(
        Signal::Logs,
        &logs_with(json!([{"body": nested(31)}, {"body": nested(32)}])),
    );
    assert_eq!(got.rejected_items, 1);
    let reason = got.first_rejection.clone().unwrap_or_default();
    assert!(
        reason.starts_with("resourceLogs[0].scopeLogs[0].logRecords[1].body.arrayValue.values[0]."),
        "{reason}"
    );
    assert!(
        reason.ends_with(".values[0]: values nest more than 32 levels deep"),
        "{reason}"
    );
    let mut body = decode_records(&got).remove(0).body;
    let mut depth = 0;
    while let Some(AnyValue {
        value: Some(Any::ArrayValue(array)),
    }) = body
    {
        (body, depth) = (array.values.into_iter().next(), depth + 1);
    }
    assert_eq!((depth, body), (31, Some(any(text("leaf")))));
    let too_deep = serde_json::to_vec(&logs_with(json!([{"body": nested(200)}]))).unwrap();
    assert!(matches!(
        transcode(Signal::Logs, &too_deep),
        Err(JsonError::Syntax(_))
    ));
}
