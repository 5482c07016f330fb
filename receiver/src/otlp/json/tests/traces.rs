//! Spans: an invalid one is left out and its neighbours kept; an invalid resource or scope
//! leaves out every span beneath it.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otel_parity_testkit::otlp::from_hex;
use prost::Message;
use serde_json::{Value, json};

use super::fixtures::{SPAN_ID, TRACE_ID, assert_prost_bytes, run};
use crate::Signal;
use crate::otlp::json::{Transcoded, transcode};

fn span(name: &str, trace_id: &str) -> Value {
    json!({"traceId": trace_id, "spanId": SPAN_ID, "name": name})
}

fn span_names(got: &Transcoded) -> Vec<Vec<String>> {
    let request = ExportTraceServiceRequest::decode(got.protobuf.as_slice()).unwrap();
    let scopes = request.resource_spans.iter().flat_map(|r| &r.scope_spans);
    scopes
        .map(|s| s.spans.iter().map(|span| span.name.clone()).collect())
        .collect()
}

#[test]
fn span_with_short_trace_id_is_rejected_and_its_neighbours_kept() {
    let short = &TRACE_ID[1..];
    let request = json!({"resourceSpans": [{"resource": {}, "scopeSpans": [
        {"spans": [span("GET /", TRACE_ID)]},
        {"spans": [span("GET /api/products", TRACE_ID), span("GET /api/cart", TRACE_ID),
                   span("POST /api/cart", TRACE_ID), span("POST /api/checkout", short),
                   span("GET /api/recommendations", TRACE_ID)]}]}]});
    let got = run(Signal::Traces, &request);
    assert_eq!(got.rejected_items, 1);
    assert_eq!(
        got.first_rejection.as_deref(),
        Some("resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex digits, found 31")
    );
    let kept = [
        "GET /api/products",
        "GET /api/cart",
        "POST /api/cart",
        "GET /api/recommendations",
    ];
    assert_eq!(
        span_names(&got),
        vec![vec!["GET /".to_owned()], kept.map(String::from).to_vec()]
    );
}

#[test]
fn wrongly_typed_fields_inside_a_span_reject_only_that_span() {
    let spans = [
        json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "name": "GET /api/cart", "attributes": {}}),
        json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "name": "GET /api/cart", "kind": true}),
        json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "name": "GET /api/cart", "kind": "SPAN_KIND_SERVERLESS"}),
        json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "name": 5}),
        json!({"traceId": TRACE_ID, "spanId": "", "name": "GET /api/cart"}),
        json!({"traceId": "zz8efff798038103d269b633813fc60c", "spanId": SPAN_ID}),
        json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "startTimeUnixNano": "1.7e18"}),
        json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "attributes": [{"key": "k", "value": {"intValue": "12a"}}]}),
        json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "events": [{"name": "retry", "droppedAttributesCount": -1}]}),
        json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "status": {"code": 1, "message": "ok"}, "name": "GET /"}),
    ];
    let mut reasons = Vec::new();
    for span in &spans {
        let request = json!({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]});
        let got = run(Signal::Traces, &request);
        let reason = got.first_rejection.unwrap_or_default();
        reasons.push(
            reason
                .trim_start_matches("resourceSpans[0].scopeSpans[0].spans[0].")
                .to_owned(),
        );
        assert_eq!(
            got.rejected_items,
            u64::from(!reasons.last().unwrap().is_empty())
        );
    }
    assert_eq!(
        reasons,
        [
            "attributes: expected an array, found an object",
            "kind: expected an enum number or value name, found true",
            "kind: unknown enum value name \"SPAN_KIND_SERVERLESS\"",
            "name: expected a string, found 5",
            "spanId: expected 16 hex digits, found none",
            "traceId: expected 32 hex digits, found non-hex character 'z'",
            "startTimeUnixNano: expected an unsigned integer (a number or a decimal string), found \"1.7e18\"",
            "attributes[0].value.intValue: expected an integer (a number or a decimal string), found \"12a\"",
            "events[0].droppedAttributesCount: expected an unsigned integer (a number or a decimal string), found -1",
            "",
        ]
    );
}

#[test]
fn malformed_resource_or_scope_entries_make_the_request_undecodable() {
    let spans = |names: &[&str]| {
        names
            .iter()
            .map(|name| span(name, TRACE_ID))
            .collect::<Vec<_>>()
    };
    let cases = [
        (
            json!({"resourceSpans": [{"resource": "checkout", "scopeSpans": [{"spans": spans(&["a"])}]}]}),
            "resourceSpans[0].resource: expected an object, found \"checkout\"",
        ),
        (
            json!({"resourceSpans": [{"scopeSpans": [{"scope": 7, "spans": spans(&["b"])}]}]}),
            "resourceSpans[0].scopeSpans[0].scope: expected an object, found 7",
        ),
        (
            json!({"resourceSpans": [{"scopeSpans": "checkout"}]}),
            "resourceSpans[0].scopeSpans: expected an array, found \"checkout\"",
        ),
        (
            json!({"resourceSpans": [{"scopeSpans": [{"spans": spans(&["c"])}]}, 42]}),
            "resourceSpans[1]: expected an object, found 42",
        ),
        (
            json!({"resourceSpans": [{"schemaUrl": 1.5, "scopeSpans": [{"spans": spans(&["h"])}]}]}),
            "resourceSpans[0].schemaUrl: expected a string, found 1.5",
        ),
    ];
    for (request, message) in cases {
        let error = transcode(Signal::Traces, request.to_string().as_bytes()).unwrap_err();
        assert_eq!(error.to_string(), message, "for {request}");
    }
}

#[test]
fn null_fields_read_as_absent() {
    let request = json!({"resourceSpans": [{"resource": null, "schemaUrl": null, "scopeSpans": [{"scope": null,
        "spans": [{"traceId": TRACE_ID, "spanId": SPAN_ID, "parentSpanId": null, "name": "GET /",
                   "status": null, "attributes": null, "kind": null}]}]}]});
    let span = Span {
        trace_id: from_hex(TRACE_ID),
        span_id: from_hex(SPAN_ID),
        name: "GET /".into(),
        ..Default::default()
    };
    let scope_spans = vec![ScopeSpans {
        spans: vec![span],
        ..Default::default()
    }];
    let expected = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans,
            ..Default::default()
        }],
    };
    assert_prost_bytes(&run(Signal::Traces, &request), &expected);
    let empty = run(Signal::Traces, &json!({"resourceSpans": null}));
    assert_eq!((empty.protobuf.len(), empty.rejected_items), (0, 0));
}
