//! Whole requests of each signal: every field, the forms OTLP/JSON allows for the same value,
//! malformed requests, and which signal a file-exporter line holds.

use serde_json::{Value, json};

use super::fixtures::{
    CART_LOGS, CHECKOUT_TRACES, PAYMENT_METRICS, assert_prost_bytes, cart_logs, checkout_traces,
    parse, payment_metrics, run,
};
use crate::Signal;
use crate::otlp::json::{JsonError, detect_signal, transcode};

/// Rewrites every object key to snake_case (`traceId` → `trace_id`).
fn snake_case_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut inner) in entries {
                snake_case_keys(&mut inner);
                let snake = key.chars().fold(String::new(), |mut out, c| {
                    if c.is_ascii_uppercase() {
                        out.push('_');
                    }
                    out.push(c.to_ascii_lowercase());
                    out
                });
                map.insert(snake, inner);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(snake_case_keys),
        _ => {}
    }
}

/// Adds a field no OTLP version defines to every object.
fn add_unknown_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(add_unknown_fields);
            map.insert(
                "futureField".into(),
                json!({"traceId": "not hex", "kind": [true]}),
            );
        }
        Value::Array(items) => items.iter_mut().for_each(add_unknown_fields),
        _ => {}
    }
}

/// Writes every decimal-string integer as a JSON number, returning how many it changed.
fn ints_as_numbers(value: &mut Value) -> usize {
    match value {
        Value::String(digits) => match digits.parse::<i64>() {
            Ok(number) => {
                *value = json!(number);
                1
            }
            Err(_) => 0,
        },
        Value::Object(map) => map.values_mut().map(ints_as_numbers).sum(),
        Value::Array(items) => items.iter_mut().map(ints_as_numbers).sum(),
        _ => 0,
    }
}

#[test]
fn trace_request_with_every_span_field_matches_prost_bytes() {
    let got = transcode(Signal::Traces, CHECKOUT_TRACES.as_bytes()).unwrap();
    assert_prost_bytes(&got, &checkout_traces());
}

#[test]
fn metrics_request_with_every_data_kind_matches_prost_bytes() {
    let got = transcode(Signal::Metrics, PAYMENT_METRICS.as_bytes()).unwrap();
    assert_prost_bytes(&got, &payment_metrics());
}

#[test]
fn logs_request_with_every_body_kind_matches_prost_bytes() {
    let got = transcode(Signal::Logs, CART_LOGS.as_bytes()).unwrap();
    assert_prost_bytes(&got, &cart_logs());
}

#[test]
fn int64_fields_accept_json_numbers_as_well_as_decimal_strings() {
    let (mut traces, mut metrics, mut logs) = (
        parse(CHECKOUT_TRACES),
        parse(PAYMENT_METRICS),
        parse(CART_LOGS),
    );
    assert_eq!(
        [ints_as_numbers(&mut traces), ints_as_numbers(&mut metrics)],
        [4, 25]
    );
    assert_eq!(ints_as_numbers(&mut logs), 4);
    assert_prost_bytes(&run(Signal::Traces, &traces), &checkout_traces());
    assert_prost_bytes(&run(Signal::Metrics, &metrics), &payment_metrics());
    assert_prost_bytes(&run(Signal::Logs, &logs), &cart_logs());
}

#[test]
fn enums_accept_value_names() {
    let mut traces = parse(CHECKOUT_TRACES);
    let span = traces
        .pointer_mut("/resourceSpans/0/scopeSpans/0/spans/0")
        .unwrap();
    span["kind"] = json!("SPAN_KIND_SERVER");
    span["status"]["code"] = json!("STATUS_CODE_ERROR");
    assert_prost_bytes(&run(Signal::Traces, &traces), &checkout_traces());

    let mut metrics = parse(PAYMENT_METRICS);
    let list = metrics
        .pointer_mut("/resourceMetrics/0/scopeMetrics/0/metrics")
        .unwrap();
    list[1]["sum"]["aggregationTemporality"] = json!("AGGREGATION_TEMPORALITY_CUMULATIVE");
    list[2]["histogram"]["aggregationTemporality"] = json!("AGGREGATION_TEMPORALITY_DELTA");
    assert_prost_bytes(&run(Signal::Metrics, &metrics), &payment_metrics());

    let mut logs = parse(CART_LOGS);
    let records = logs
        .pointer_mut("/resourceLogs/0/scopeLogs/0/logRecords")
        .unwrap();
    records[0]["severityNumber"] = json!("SEVERITY_NUMBER_INFO");
    records[8]["severityNumber"] = json!("SEVERITY_NUMBER_ERROR");
    assert_prost_bytes(&run(Signal::Logs, &logs), &cart_logs());
}

#[test]
fn snake_case_field_names_are_accepted() {
    let (mut traces, mut metrics, mut logs) = (
        parse(CHECKOUT_TRACES),
        parse(PAYMENT_METRICS),
        parse(CART_LOGS),
    );
    [&mut traces, &mut metrics, &mut logs]
        .into_iter()
        .for_each(snake_case_keys);
    assert!(traces["resource_spans"][0]["scope_spans"][0]["spans"][0]["trace_id"].is_string());
    assert_prost_bytes(&run(Signal::Traces, &traces), &checkout_traces());
    assert_prost_bytes(&run(Signal::Metrics, &metrics), &payment_metrics());
    assert_prost_bytes(&run(Signal::Logs, &logs), &cart_logs());
}

#[test]
fn unknown_fields_are_ignored_at_every_level() {
    let (mut traces, mut metrics, mut logs) = (
        parse(CHECKOUT_TRACES),
        parse(PAYMENT_METRICS),
        parse(CART_LOGS),
    );
    [&mut traces, &mut metrics, &mut logs]
        .into_iter()
        .for_each(add_unknown_fields);
    assert!(
        traces["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["status"]["futureField"]
            .is_object()
    );
    assert_prost_bytes(&run(Signal::Traces, &traces), &checkout_traces());
    assert_prost_bytes(&run(Signal::Metrics, &metrics), &payment_metrics());
    assert_prost_bytes(&run(Signal::Logs, &logs), &cart_logs());
}

#[test]
fn malformed_requests_are_errors() {
    let error = |signal, json: &[u8]| transcode(signal, json).unwrap_err().to_string();
    assert_eq!(
        error(Signal::Traces, b"[]"),
        "expected an OTLP export request (a JSON object), found an array"
    );
    assert_eq!(
        error(Signal::Logs, b"null"),
        "expected an OTLP export request (a JSON object), found null"
    );
    assert_eq!(
        error(Signal::Traces, br#"{"resourceSpans": {}}"#),
        "resourceSpans: expected an array, found an object"
    );
    assert_eq!(
        error(Signal::Metrics, br#"{"resource_metrics": 3}"#),
        "resource_metrics: expected an array, found 3"
    );
    let truncated = &CHECKOUT_TRACES.as_bytes()[..CHECKOUT_TRACES.len() / 2];
    assert!(matches!(
        transcode(Signal::Traces, truncated),
        Err(JsonError::Syntax(_))
    ));
    assert!(error(Signal::Traces, truncated).starts_with("invalid JSON: EOF while parsing"));
    let not_utf8 = b"{\"resourceLogs\": [{\"schemaUrl\": \"caf\xe9\"}]}";
    assert!(matches!(
        transcode(Signal::Logs, not_utf8),
        Err(JsonError::Syntax(_))
    ));
}

#[test]
fn detect_signal_reads_the_top_level_key() {
    let detect = |json: &str| detect_signal(json.as_bytes()).unwrap();
    assert_eq!(detect(CHECKOUT_TRACES), Some(Signal::Traces));
    assert_eq!(detect(PAYMENT_METRICS), Some(Signal::Metrics));
    assert_eq!(detect(CART_LOGS), Some(Signal::Logs));
    assert_eq!(detect(r#"{"resource_logs": []}"#), Some(Signal::Logs));
    assert_eq!(detect("{}"), None);
    assert_eq!(detect(r#"{"resourceSpans": null}"#), None);
    let mixed = detect_signal(br#"{"resourceSpans": [], "resourceLogs": []}"#).unwrap_err();
    assert_eq!(
        mixed.to_string(),
        "the line holds both resourceSpans and resourceLogs; a file-exporter line holds one signal"
    );
    assert!(matches!(
        detect_signal(b"[1]"),
        Err(JsonError::NotAnObject { .. })
    ));
}
