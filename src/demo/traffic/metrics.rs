//! The shop's metrics, cumulative as SDKs export them.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};

use super::{Environment, Ids, i, resource, s, scope};

/// A cumulative request-duration point: `total` requests since `start`.
fn duration_histogram(route: &str, total: u64, bounds: &[f64], start: u64) -> HistogramDataPoint {
    HistogramDataPoint {
        attributes: vec![
            s("http.request.method", "POST"),
            s("http.route", route),
            i("http.response.status_code", 200),
        ],
        start_time_unix_nano: start,
        time_unix_nano: start + 10_000_000_000,
        count: total,
        sum: Some(total as f64 * 0.12),
        bucket_counts: (0..=bounds.len())
            .map(|b| if b == 4 { total } else { 0 })
            .collect(),
        explicit_bounds: bounds.to_vec(),
        ..Default::default()
    }
}

/// Metrics after `total` requests per instance (cumulative, as SDKs export).
pub(super) fn metrics(
    env: Environment,
    total: u64,
    ids: &mut Ids,
) -> Vec<ExportMetricsServiceRequest> {
    let start = 1_763_800_000_000_000_000;
    let bounds = [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ];
    let mut out = Vec::new();
    for instance in 0..env.instances() {
        let request_duration = |route: &str| Metric {
            name: "http.server.request.duration".into(),
            unit: "s".into(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: vec![duration_histogram(route, total, &bounds, start)],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })),
            ..Default::default()
        };
        let counter = |name: &str, unit: &str, points: Vec<NumberDataPoint>| Metric {
            name: name.into(),
            unit: unit.into(),
            data: Some(metric::Data::Sum(Sum {
                data_points: points,
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        };
        let point = |attributes: Vec<KeyValue>, value: i64| NumberDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: start + 10_000_000_000,
            value: Some(number_data_point::Value::AsInt(value)),
            ..Default::default()
        };
        let orders = (0..3)
            .map(|m| {
                let method = ["card", "paypal", "voucher"][m];
                let mut attributes = vec![s("app.currency", "EUR")];
                if !env.staging() {
                    attributes.push(s("app.payment.method", method));
                }
                point(attributes, total as i64)
            })
            .collect();
        let cart_requests = (0..if env.staging() { 300 } else { 4 })
            .map(|n| {
                let mut attributes = vec![s("http.route", "/cart"), i("app.cart.shard", n % 4)];
                if env.staging() {
                    attributes.push(s("user.id", format!("user-{}", ids.next() % 100_000)));
                }
                point(attributes, total as i64)
            })
            .collect();
        let cart_items = if env.staging() {
            Metric {
                name: "app.cart.items".into(),
                unit: "{item}".into(),
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: vec![point(vec![], 3)],
                })),
                ..Default::default()
            }
        } else {
            counter(
                "app.cart.items",
                "{item}",
                vec![point(vec![], total as i64 * 3)],
            )
        };
        let mut services = vec![
            ("frontend", vec![request_duration("/api/checkout")]),
            (
                "checkout",
                vec![
                    request_duration("/checkout"),
                    counter(
                        "app.orders.placed",
                        if env.staging() { "1" } else { "{order}" },
                        orders,
                    ),
                ],
            ),
            (
                "cart",
                vec![
                    request_duration("/cart"),
                    counter("app.cart.requests", "{request}", cart_requests),
                    cart_items,
                ],
            ),
        ];
        services.push(("payment", vec![request_duration("/charge")]));
        if !env.staging() {
            services.push(("recommendation", vec![request_duration("/recommendations")]));
        }
        for (service, metrics) in services {
            out.push(ExportMetricsServiceRequest {
                resource_metrics: vec![ResourceMetrics {
                    resource: resource(env, service, instance),
                    scope_metrics: vec![ScopeMetrics {
                        scope: scope("opentelemetry.instrumentation.flask"),
                        metrics,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            });
        }
    }
    out
}
