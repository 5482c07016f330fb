//! Requests shared by the tests: one per signal with every field set, as OTLP/JSON text and as
//! the prost message it must encode to, and helpers to build and check them.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as Number;
use opentelemetry_proto::tonic::metrics::v1::summary_data_point::ValueAtQuantile;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, metric::Data,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use otel_parity_testkit::otlp::{ServiceResource, any, attribute, from_hex, scope};
use prost::Message;
use serde_json::Value;

use crate::Signal;
use crate::otlp::json::{Transcoded, transcode};

const SCHEMA: &str = "https://opentelemetry.io/schemas/1.26.0";
pub(super) const TRACE_ID: &str = "5b8efff798038103d269b633813fc60c";
pub(super) const SPAN_ID: &str = "eee19b7ec3c1b174";
const START: u64 = 1_699_999_990_000_000_000;
const TIME: u64 = 1_700_000_000_000_000_000;

pub(super) const CHECKOUT_TRACES: &str = r#"{"resourceSpans": [{
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}],
                   "droppedAttributesCount": 1},
      "scopeSpans": [{
        "scope": {"name": "io.opentelemetry.grpc-1.6", "version": "2.9.0", "droppedAttributesCount": 2,
                  "attributes": [{"key": "otel.scope.team", "value": {"stringValue": "payments"}}]},
        "spans": [{
          "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
          "traceState": "rojo=00f067aa0ba902b7", "parentSpanId": "eee19b7ec3c1b173", "flags": 257,
          "name": "POST /api/checkout", "kind": 2,
          "startTimeUnixNano": "1699999990000000000", "endTimeUnixNano": "1700000000000000000",
          "attributes": [
            {"key": "http.request.method", "value": {"stringValue": "POST"}},
            {"key": "url.path", "value": {"stringValue": "/api/checkout"}},
            {"key": "http.response.status_code", "value": {"intValue": "402"}},
            {"key": "checkout.retry", "value": {"boolValue": true}},
            {"key": "cart.total", "value": {"doubleValue": 129.95}}],
          "droppedAttributesCount": 3,
          "events": [{"timeUnixNano": "1700000000000000000", "name": "exception", "droppedAttributesCount": 1,
                      "attributes": [{"key": "exception.type", "value": {"stringValue": "PaymentDeclined"}}]}],
          "droppedEventsCount": 4,
          "links": [{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
                     "traceState": "congo=t61rcWkgMzE", "droppedAttributesCount": 1, "flags": 1,
                     "attributes": [{"key": "link.reason", "value": {"stringValue": "retry"}}]}],
          "droppedLinksCount": 5,
          "status": {"message": "card declined", "code": 2}}],
        "schemaUrl": "https://opentelemetry.io/schemas/1.26.0"}],
      "schemaUrl": "https://opentelemetry.io/schemas/1.26.0"}]}"#;

pub(super) const PAYMENT_METRICS: &str = r#"{"resourceMetrics": [{
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payment"}}]},
      "scopeMetrics": [{
        "scope": {"name": "io.opentelemetry.runtime-telemetry", "version": "2.9.0"},
        "metrics": [
          {"name": "payment.queue.depth", "description": "Charges waiting on the card network", "unit": "{charge}",
           "gauge": {"dataPoints": [
             {"attributes": [{"key": "payment.network", "value": {"stringValue": "visa"}}],
              "timeUnixNano": "1700000000000000000", "asDouble": 0.42},
             {"timeUnixNano": "1700000000000000000", "asInt": "-3", "flags": 1}]}},
          {"name": "http.server.request.count", "unit": "{request}",
           "sum": {"aggregationTemporality": 2, "isMonotonic": true, "dataPoints": [
             {"attributes": [{"key": "http.request.method", "value": {"stringValue": "POST"}},
                             {"key": "http.route", "value": {"stringValue": "/api/charge"}}],
              "startTimeUnixNano": "1699999990000000000", "timeUnixNano": "1700000000000000000", "asInt": "1234",
              "exemplars": [{"filteredAttributes": [{"key": "user.tier", "value": {"stringValue": "gold"}}],
                             "timeUnixNano": "1700000000000000000", "asDouble": 0.75,
                             "spanId": "eee19b7ec3c1b174", "traceId": "5b8efff798038103d269b633813fc60c"}]}]},
           "metadata": [{"key": "otel.metric.source", "value": {"stringValue": "sdk"}}]},
          {"name": "http.server.request.duration", "unit": "s",
           "histogram": {"aggregationTemporality": 1, "dataPoints": [
             {"attributes": [{"key": "url.path", "value": {"stringValue": "/api/charge"}}],
              "startTimeUnixNano": "1699999990000000000", "timeUnixNano": "1700000000000000000",
              "count": "12", "sum": 3.5, "bucketCounts": ["2", "7", "3"], "explicitBounds": [0.1, 0.5],
              "min": 0, "max": 1.25, "exemplars": [{"timeUnixNano": "1700000000000000000", "asInt": "7"}]}]}},
          {"name": "payment.amount", "unit": "USD",
           "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [
             {"attributes": [{"key": "payment.currency", "value": {"stringValue": "USD"}}],
              "startTimeUnixNano": "1699999990000000000", "timeUnixNano": "1700000000000000000",
              "count": "9", "sum": 412.5, "scale": -2, "zeroCount": "1", "zeroThreshold": 0.001,
              "positive": {"offset": -1, "bucketCounts": ["3", "5"]},
              "negative": {"offset": 2, "bucketCounts": ["0"]}, "min": 0.5, "max": 300, "flags": 1}]}},
          {"name": "payment.authorization.latency", "unit": "ms",
           "summary": {"dataPoints": [
             {"attributes": [{"key": "payment.network", "value": {"stringValue": "amex"}}],
              "startTimeUnixNano": "1699999990000000000", "timeUnixNano": "1700000000000000000",
              "count": "5", "sum": 640.5,
              "quantileValues": [{"quantile": 0.5, "value": 110}, {"quantile": 0.99, "value": 305.25}]}]}}]}]}]}"#;

pub(super) const CART_LOGS: &str = r#"{"resourceLogs": [{
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
      "scopeLogs": [{
        "scope": {"name": "cart.logging"},
        "logRecords": [
          {"timeUnixNano": "1700000000000000000", "observedTimeUnixNano": "1700000000000500000",
           "severityNumber": 9, "severityText": "INFO", "body": {"stringValue": "item added to cart"},
           "attributes": [{"key": "app.cart.items.count", "value": {"intValue": "3"}}],
           "droppedAttributesCount": 1, "flags": 1, "eventName": "cart.item.added",
           "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"},
          {"body": {"boolValue": false}},
          {"body": {"intValue": "-42"}},
          {"body": {"doubleValue": 0}},
          {"body": {"arrayValue": {"values": [{"stringValue": "sku-1"}, {"intValue": 2}, {}]}}},
          {"body": {"kvlistValue": {"values": [{"key": "order.id", "value": {"stringValue": "A-1001"}},
                                               {"key": "order.rush"}]}}},
          {"body": {"bytesValue": "Y2FydA=="}},
          {"body": {}},
          {"severityNumber": 17}]}],
      "schemaUrl": "https://opentelemetry.io/schemas/1.26.0"}]}"#;

pub(super) fn parse(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

pub(super) fn run(signal: Signal, json: &Value) -> Transcoded {
    transcode(signal, &serde_json::to_vec(json).unwrap()).unwrap()
}

pub(super) fn text(value: &str) -> Any {
    Any::StringValue(value.to_owned())
}

fn resource(service: &str) -> Option<Resource> {
    Some(ServiceResource::new(service).build())
}

/// Asserts nothing was rejected and the bytes are exactly what prost makes of `expected`.
pub(super) fn assert_prost_bytes<M: Message + Default + PartialEq + std::fmt::Debug>(
    got: &Transcoded,
    expected: &M,
) {
    assert_eq!((got.rejected_items, &got.first_rejection), (0, &None));
    assert_eq!(M::decode(got.protobuf.as_slice()).unwrap(), *expected);
    assert_eq!(got.protobuf, expected.encode_to_vec());
}

pub(super) fn checkout_traces() -> ExportTraceServiceRequest {
    let span = Span {
        trace_id: from_hex(TRACE_ID),
        span_id: from_hex(SPAN_ID),
        trace_state: "rojo=00f067aa0ba902b7".into(),
        parent_span_id: from_hex("eee19b7ec3c1b173"),
        flags: 257,
        name: "POST /api/checkout".into(),
        kind: 2,
        start_time_unix_nano: START,
        end_time_unix_nano: TIME,
        attributes: vec![
            attribute("http.request.method", text("POST")),
            attribute("url.path", text("/api/checkout")),
            attribute("http.response.status_code", Any::IntValue(402)),
            attribute("checkout.retry", Any::BoolValue(true)),
            attribute("cart.total", Any::DoubleValue(129.95)),
        ],
        dropped_attributes_count: 3,
        events: vec![Event {
            time_unix_nano: TIME,
            name: "exception".into(),
            attributes: vec![attribute("exception.type", text("PaymentDeclined"))],
            dropped_attributes_count: 1,
        }],
        dropped_events_count: 4,
        links: vec![Link {
            trace_id: from_hex("0af7651916cd43dd8448eb211c80319c"),
            span_id: from_hex("b7ad6b7169203331"),
            trace_state: "congo=t61rcWkgMzE".into(),
            attributes: vec![attribute("link.reason", text("retry"))],
            dropped_attributes_count: 1,
            flags: 1,
        }],
        dropped_links_count: 5,
        status: Some(Status {
            message: "card declined".into(),
            code: 2,
        }),
    };
    let mut resource = resource("checkout");
    resource
        .iter_mut()
        .for_each(|r| r.dropped_attributes_count = 1);
    let mut scope = scope("io.opentelemetry.grpc-1.6", "2.9.0");
    scope.iter_mut().for_each(|s| {
        s.attributes = vec![attribute("otel.scope.team", text("payments"))];
        s.dropped_attributes_count = 2;
    });
    let scope_spans = vec![ScopeSpans {
        scope,
        spans: vec![span],
        schema_url: SCHEMA.into(),
    }];
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource,
            scope_spans,
            schema_url: SCHEMA.into(),
        }],
    }
}

pub(super) fn payment_metrics() -> ExportMetricsServiceRequest {
    let number = |attributes, start, value, flags, exemplars| NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: TIME,
        value: Some(value),
        exemplars,
        flags,
    };
    let metric = |name: &str, unit: &str, data, metadata| Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(data),
        metadata,
        ..Default::default()
    };
    let gauge = Data::Gauge(Gauge {
        data_points: vec![
            number(
                vec![attribute("payment.network", text("visa"))],
                0,
                Number::AsDouble(0.42),
                0,
                vec![],
            ),
            number(vec![], 0, Number::AsInt(-3), 1, vec![]),
        ],
    });
    let exemplar = Exemplar {
        filtered_attributes: vec![attribute("user.tier", text("gold"))],
        time_unix_nano: TIME,
        span_id: from_hex(SPAN_ID),
        trace_id: from_hex(TRACE_ID),
        value: Some(exemplar::Value::AsDouble(0.75)),
    };
    let method_route = vec![
        attribute("http.request.method", text("POST")),
        attribute("http.route", text("/api/charge")),
    ];
    let sum = Data::Sum(Sum {
        data_points: vec![number(
            method_route,
            START,
            Number::AsInt(1234),
            0,
            vec![exemplar],
        )],
        aggregation_temporality: 2,
        is_monotonic: true,
    });
    let histogram = Data::Histogram(Histogram {
        data_points: vec![HistogramDataPoint {
            attributes: vec![attribute("url.path", text("/api/charge"))],
            start_time_unix_nano: START,
            time_unix_nano: TIME,
            count: 12,
            sum: Some(3.5),
            bucket_counts: vec![2, 7, 3],
            explicit_bounds: vec![0.1, 0.5],
            exemplars: vec![Exemplar {
                time_unix_nano: TIME,
                value: Some(exemplar::Value::AsInt(7)),
                ..Default::default()
            }],
            flags: 0,
            min: Some(0.0),
            max: Some(1.25),
        }],
        aggregation_temporality: 1,
    });
    let exponential = Data::ExponentialHistogram(ExponentialHistogram {
        data_points: vec![ExponentialHistogramDataPoint {
            attributes: vec![attribute("payment.currency", text("USD"))],
            start_time_unix_nano: START,
            time_unix_nano: TIME,
            count: 9,
            sum: Some(412.5),
            scale: -2,
            zero_count: 1,
            positive: Some(Buckets {
                offset: -1,
                bucket_counts: vec![3, 5],
            }),
            negative: Some(Buckets {
                offset: 2,
                bucket_counts: vec![0],
            }),
            flags: 1,
            exemplars: vec![],
            min: Some(0.5),
            max: Some(300.0),
            zero_threshold: 0.001,
        }],
        aggregation_temporality: 2,
    });
    let summary = Data::Summary(Summary {
        data_points: vec![SummaryDataPoint {
            attributes: vec![attribute("payment.network", text("amex"))],
            start_time_unix_nano: START,
            time_unix_nano: TIME,
            count: 5,
            sum: 640.5,
            quantile_values: vec![
                ValueAtQuantile {
                    quantile: 0.5,
                    value: 110.0,
                },
                ValueAtQuantile {
                    quantile: 0.99,
                    value: 305.25,
                },
            ],
            flags: 0,
        }],
    });
    let mut queue_depth = metric("payment.queue.depth", "{charge}", gauge, vec![]);
    queue_depth.description = "Charges waiting on the card network".into();
    let metrics = vec![
        queue_depth,
        metric(
            "http.server.request.count",
            "{request}",
            sum,
            vec![attribute("otel.metric.source", text("sdk"))],
        ),
        metric("http.server.request.duration", "s", histogram, vec![]),
        metric("payment.amount", "USD", exponential, vec![]),
        metric("payment.authorization.latency", "ms", summary, vec![]),
    ];
    let scope = scope("io.opentelemetry.runtime-telemetry", "2.9.0");
    let scope_metrics = vec![ScopeMetrics {
        scope,
        metrics,
        schema_url: String::new(),
    }];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("payment"),
            scope_metrics,
            schema_url: String::new(),
        }],
    }
}

pub(super) fn cart_logs() -> ExportLogsServiceRequest {
    let body = |value: Option<Any>| LogRecord {
        body: Some(AnyValue { value }),
        ..Default::default()
    };
    let array = vec![
        any(text("sku-1")),
        any(Any::IntValue(2)),
        AnyValue { value: None },
    ];
    let order = KeyValue {
        key: "order.rush".into(),
        value: None,
        ..Default::default()
    };
    let kvlist = vec![attribute("order.id", text("A-1001")), order];
    let log_records = vec![
        LogRecord {
            time_unix_nano: TIME,
            observed_time_unix_nano: TIME + 500_000,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(any(text("item added to cart"))),
            attributes: vec![attribute("app.cart.items.count", Any::IntValue(3))],
            dropped_attributes_count: 1,
            flags: 1,
            trace_id: from_hex(TRACE_ID),
            span_id: from_hex(SPAN_ID),
            event_name: "cart.item.added".into(),
        },
        body(Some(Any::BoolValue(false))),
        body(Some(Any::IntValue(-42))),
        body(Some(Any::DoubleValue(0.0))),
        body(Some(Any::ArrayValue(ArrayValue { values: array }))),
        body(Some(Any::KvlistValue(KeyValueList { values: kvlist }))),
        body(Some(Any::BytesValue(b"cart".to_vec()))),
        body(None),
        LogRecord {
            severity_number: 17,
            ..Default::default()
        },
    ];
    let scope_logs = vec![ScopeLogs {
        scope: scope("cart.logging", ""),
        log_records,
        schema_url: String::new(),
    }];
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("cart"),
            scope_logs,
            schema_url: SCHEMA.into(),
        }],
    }
}
