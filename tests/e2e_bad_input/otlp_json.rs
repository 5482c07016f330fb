//! OTLP/JSON, written by hand from the protobuf types (hex ids, lowerCamelCase, int64 as
//! strings), as an independent check of the receiver's JSON decoding.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use otel_parity_testkit::otlp::hex;
use serde_json::{Value, json};

fn any_value_json(value: &AnyValue) -> Value {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => json!({ "stringValue": s }),
        Some(any_value::Value::IntValue(i)) => json!({ "intValue": i.to_string() }),
        Some(any_value::Value::DoubleValue(d)) => json!({ "doubleValue": d }),
        Some(any_value::Value::BoolValue(b)) => json!({ "boolValue": b }),
        other => panic!("the test data has no {other:?} values"),
    }
}

fn attributes_json(attributes: &[KeyValue]) -> Value {
    Value::Array(
        attributes
            .iter()
            .map(|kv| {
                json!({
                    "key": kv.key,
                    "value": kv.value.as_ref().map_or(json!({}), any_value_json),
                })
            })
            .collect(),
    )
}

/// One span as OTLP/JSON.
pub fn span_json(span: &Span) -> Value {
    let mut out = json!({
        "traceId": hex(&span.trace_id),
        "spanId": hex(&span.span_id),
        "traceState": span.trace_state,
        "parentSpanId": hex(&span.parent_span_id),
        "flags": span.flags,
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": span.start_time_unix_nano.to_string(),
        "endTimeUnixNano": span.end_time_unix_nano.to_string(),
        "attributes": attributes_json(&span.attributes),
        "events": span.events.iter().map(|e| json!({
            "timeUnixNano": e.time_unix_nano.to_string(),
            "name": e.name,
            "attributes": attributes_json(&e.attributes),
        })).collect::<Vec<_>>(),
    });
    if let Some(status) = &span.status {
        out["status"] = json!({ "code": status.code, "message": status.message });
    }
    out
}

/// A traces export request as OTLP/JSON.
pub fn traces_json(request: &ExportTraceServiceRequest) -> Value {
    let resource_spans: Vec<Value> = request
        .resource_spans
        .iter()
        .map(|rs| {
            json!({
                "resource": {
                    "attributes": attributes_json(
                        &rs.resource.as_ref().map(|r| r.attributes.clone()).unwrap_or_default()
                    ),
                },
                "scopeSpans": rs.scope_spans.iter().map(|ss| json!({
                    "scope": ss.scope.as_ref().map(|s| json!({ "name": s.name, "version": s.version })),
                    "spans": ss.spans.iter().map(span_json).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "resourceSpans": resource_spans })
}
