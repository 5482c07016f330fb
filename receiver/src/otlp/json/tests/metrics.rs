//! Metrics and data points: an invalid data point is left out, an invalid metric leaves out
//! all of its data points.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as Number;
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric::Data};
use prost::Message;
use serde_json::{Value, json};

use super::fixtures::run;
use crate::Signal;
use crate::otlp::json::Transcoded;

fn metrics_with(metrics: Value) -> Value {
    json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": metrics}]}]})
}

fn point(value: Value) -> Value {
    json!({"timeUnixNano": "1700000000000000000", "asDouble": value})
}

fn decode_metrics(got: &Transcoded) -> Vec<Metric> {
    let request = ExportMetricsServiceRequest::decode(got.protobuf.as_slice()).unwrap();
    let scopes = request
        .resource_metrics
        .into_iter()
        .flat_map(|r| r.scope_metrics);
    scopes.flat_map(|s| s.metrics).collect()
}

#[test]
fn non_numeric_as_double_rejects_the_point_instead_of_emptying_it() {
    let points = [point(json!(0.42)), point(json!("abc")), point(json!("2.5"))];
    let got = run(
        Signal::Metrics,
        &metrics_with(json!([{"name": "cart.size", "gauge": {"dataPoints": points}}])),
    );
    assert_eq!(got.rejected_items, 1);
    assert_eq!(
        got.first_rejection.as_deref(),
        Some(
            "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[1].asDouble: expected a number, found \"abc\""
        )
    );
    let Some(Data::Gauge(gauge)) = decode_metrics(&got).remove(0).data else {
        panic!("gauge expected")
    };
    let values: Vec<_> = gauge.data_points.iter().map(|p| p.value).collect();
    assert_eq!(
        values,
        [Some(Number::AsDouble(0.42)), Some(Number::AsDouble(2.5))]
    );
}

#[test]
fn special_double_strings_are_numbers() {
    let points = [
        point(json!("NaN")),
        point(json!("Infinity")),
        point(json!("-Infinity")),
    ];
    let histogram =
        json!({"dataPoints": [{"explicitBounds": ["-Infinity", 0, "1e3"], "max": "Infinity"}]});
    let request = metrics_with(
        json!([{"name": "cpu", "gauge": {"dataPoints": points}}, {"name": "lat", "histogram": histogram}]),
    );
    let got = run(Signal::Metrics, &request);
    assert_eq!(got.rejected_items, 0);
    let metrics = decode_metrics(&got);
    let Some(Data::Gauge(gauge)) = &metrics[0].data else {
        panic!("gauge expected")
    };
    let doubles: Vec<f64> = gauge
        .data_points
        .iter()
        .map(|p| match p.value {
            Some(Number::AsDouble(double)) => double,
            _ => 0.0,
        })
        .collect();
    assert!(doubles[0].is_nan() && doubles[1] == f64::INFINITY && doubles[2] == f64::NEG_INFINITY);
    let Some(Data::Histogram(histogram)) = &metrics[1].data else {
        panic!("histogram expected")
    };
    assert_eq!(
        histogram.data_points[0].explicit_bounds,
        [f64::NEG_INFINITY, 0.0, 1000.0]
    );
    assert_eq!(histogram.data_points[0].max, Some(f64::INFINITY));
}

#[test]
fn number_point_with_both_as_double_and_as_int_is_rejected() {
    let both = json!({"asDouble": 1.5, "asInt": "2"});
    let got = run(
        Signal::Metrics,
        &metrics_with(json!([{"name": "q", "gauge": {"dataPoints": [both, point(json!(3))]}}])),
    );
    assert_eq!(got.rejected_items, 1);
    assert_eq!(
        got.first_rejection.as_deref(),
        Some(
            "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]: holds both asDouble and asInt"
        )
    );
    let Some(Data::Gauge(gauge)) = decode_metrics(&got).remove(0).data else {
        panic!("gauge expected")
    };
    assert_eq!(gauge.data_points.len(), 1);
}

#[test]
fn invalid_metric_data_rejects_its_points_counted_where_countable() {
    let three = [point(json!(1)), point(json!(2)), point(json!(3))];
    let request = metrics_with(json!([
        {"name": "checkout.orders", "sum": "x"},
        {"name": "checkout.revenue", "sum": {"aggregationTemporality": "BOGUS", "dataPoints": three}},
        {"name": "checkout.latency", "histogram": {"dataPoints": 5}},
        {"name": "checkout.queue", "gauge": {"dataPoints": [point(json!(7))]}},
        {"name": 17, "gauge": {"dataPoints": [point(json!(1)), point(json!(2))]}},
        "not a metric",
    ]));
    let got = run(Signal::Metrics, &request);
    assert_eq!(got.rejected_items, 1 + 3 + 1 + 2 + 1);
    assert_eq!(
        got.first_rejection.as_deref(),
        Some("resourceMetrics[0].scopeMetrics[0].metrics[0].sum: expected an object, found \"x\"")
    );
    let kept: Vec<_> = decode_metrics(&got).into_iter().map(|m| m.name).collect();
    assert_eq!(kept, ["checkout.queue"]);
}

#[test]
fn metric_with_both_gauge_and_sum_rejects_the_points_of_both() {
    let gauge = json!({"dataPoints": [point(json!(1)), point(json!(2))]});
    let sum = json!({"aggregationTemporality": 2, "dataPoints": [point(json!(3))]});
    let got = run(
        Signal::Metrics,
        &metrics_with(json!([{"name": "cart.items", "gauge": gauge, "sum": sum}])),
    );
    assert_eq!(got.rejected_items, 3);
    assert_eq!(
        got.first_rejection.as_deref(),
        Some(
            "resourceMetrics[0].scopeMetrics[0].metrics[0]: holds both gauge and sum; a metric holds one kind of data"
        )
    );
    assert_eq!(decode_metrics(&got), []);
}

#[test]
fn metric_without_data_is_kept_with_no_points() {
    let got = run(
        Signal::Metrics,
        &metrics_with(json!([{"name": "shipping.quote", "unit": "USD"}])),
    );
    assert_eq!(got.rejected_items, 0);
    let expected = Metric {
        name: "shipping.quote".into(),
        unit: "USD".into(),
        ..Default::default()
    };
    assert_eq!(decode_metrics(&got), [expected]);
}
