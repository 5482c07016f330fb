//! The shop's metric export requests: a request-duration histogram, a counter and a gauge.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use otel_parity_testkit::otlp::{int, scope, string};

use crate::requests::{EPOCH_NANOS, resource};

/// Bucket bounds of the request-duration histogram, in seconds (the semantic conventions'
/// advice).
const REQUEST_DURATION_BOUNDS: [f64; 10] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// One metrics export of request `round`: checkout's `http.server.request.duration` with
/// `series` points (one per route and status), `app.orders.placed` (1 point), and payment's
/// `app.payment.inflight` gauge (1 point).
pub fn shop_metrics(round: u64, series: u64) -> ExportMetricsServiceRequest {
    let time = EPOCH_NANOS + round * 1_000_000_000_000;
    let routes = [
        "/checkout",
        "/cart",
        "/api/products",
        "/api/recommendations",
    ];
    let histogram_points = (0..series)
        .map(|i| HistogramDataPoint {
            attributes: vec![
                string(
                    "http.request.method",
                    if i % 2 == 0 { "POST" } else { "GET" },
                ),
                string("http.route", routes[(i as usize) % routes.len()]),
                int(
                    "http.response.status_code",
                    if i % 5 == 4 { 503 } else { 200 },
                ),
            ],
            start_time_unix_nano: EPOCH_NANOS,
            time_unix_nano: time,
            count: 11,
            sum: Some(0.42),
            bucket_counts: vec![1, 2, 3, 2, 1, 1, 1, 0, 0, 0, 0],
            explicit_bounds: REQUEST_DURATION_BOUNDS.to_vec(),
            min: Some(0.003),
            max: Some(0.9),
            ..Default::default()
        })
        .collect();
    let checkout_metrics = vec![
        Metric {
            name: "http.server.request.duration".to_owned(),
            description: "Duration of HTTP server requests.".to_owned(),
            unit: "s".to_owned(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: histogram_points,
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })),
            ..Default::default()
        },
        Metric {
            name: "app.orders.placed".to_owned(),
            unit: "{order}".to_owned(),
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![NumberDataPoint {
                    attributes: vec![string("app.order.currency", "USD")],
                    start_time_unix_nano: EPOCH_NANOS,
                    time_unix_nano: time,
                    value: Some(number_data_point::Value::AsInt(17 + round as i64)),
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        },
    ];
    let payment_metrics = vec![Metric {
        name: "app.payment.inflight".to_owned(),
        unit: "{request}".to_owned(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                attributes: vec![string("app.payment.processor", "stripe")],
                time_unix_nano: time,
                value: Some(number_data_point::Value::AsDouble(3.0)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    }];
    ExportMetricsServiceRequest {
        resource_metrics: vec![
            ResourceMetrics {
                resource: Some(resource("checkout", "1.8.0", "checkout-0")),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope("shop.checkout", "1.8.0"),
                    metrics: checkout_metrics,
                    ..Default::default()
                }],
                ..Default::default()
            },
            ResourceMetrics {
                resource: Some(resource("payment", "0.9.4", "payment-0")),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope("shop.payment", "0.9.4"),
                    metrics: payment_metrics,
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
    }
}

/// Data points in `shop_metrics(_, series)`.
pub fn points_in(series: u64) -> u64 {
    series + 2
}
