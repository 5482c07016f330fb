//! The shop's metrics, cumulative as SDKs export them: every service's request duration, and
//! checkout's orders and cart's requests and items.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};

use super::{Drift, SCOPE, SCOPE_VERSION, Shop};
use crate::otlp::{Ids, int, scope, string};

/// Start of every cumulative series: 2025-11-22T08:26:40Z.
pub(super) const SERIES_START: u64 = 1_763_800_000_000_000_000;
/// The semantic conventions' advice for `http.server.request.duration`, in seconds.
const DURATION_BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The same bounds in milliseconds, as instrumentations before semconv 1.22 record.
const DURATION_BOUNDS_MS: [f64; 14] = [
    5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
    10000.0,
];

/// A request-duration histogram as instrumentations before semconv 1.22 record it:
/// `http.server.duration` in ms, with `http.method` and `http.status_code`.
fn old_request_duration(route: &str, total: u64) -> Metric {
    let mut point = duration_point(
        vec![
            string("http.method", "POST"),
            string("http.route", route),
            int("http.status_code", 200),
        ],
        total,
    );
    point.explicit_bounds = DURATION_BOUNDS_MS.to_vec();
    point.sum = Some(total as f64 * 120.0);
    Metric {
        name: "http.server.duration".into(),
        unit: "ms".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![point],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Default::default()
    }
}

/// The attributes of a request-duration point: the first `count` of the conventions' list.
pub(super) fn request_attributes(
    method: &str,
    route: &str,
    status: i64,
    count: usize,
) -> Vec<KeyValue> {
    let mut attributes = vec![
        string("http.request.method", method),
        string("http.route", route),
        int("http.response.status_code", status),
        string("network.protocol.version", "1.1"),
        string("url.scheme", "http"),
    ];
    attributes.truncate(count);
    attributes
}

/// A cumulative request-duration point: `total` requests since the series started.
pub(super) fn duration_point(attributes: Vec<KeyValue>, total: u64) -> HistogramDataPoint {
    HistogramDataPoint {
        attributes,
        start_time_unix_nano: SERIES_START,
        time_unix_nano: SERIES_START + 10_000_000_000,
        count: total,
        sum: Some(total as f64 * 0.12),
        bucket_counts: (0..=DURATION_BOUNDS.len())
            .map(|b| if b == 4 { total } else { 0 })
            .collect(),
        explicit_bounds: DURATION_BOUNDS.to_vec(),
        ..Default::default()
    }
}

/// A cumulative counter point of `value`.
pub(super) fn counter_point(attributes: Vec<KeyValue>, value: i64) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: SERIES_START,
        time_unix_nano: SERIES_START + 10_000_000_000,
        value: Some(number_data_point::Value::AsInt(value)),
        ..Default::default()
    }
}

/// A histogram `name` in seconds.
pub(super) fn histogram(name: &str, points: Vec<HistogramDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        unit: "s".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Default::default()
    }
}

/// A monotonic sum (a counter) `name` in `unit`.
pub(super) fn counter(
    name: &str,
    unit: &str,
    temporality: AggregationTemporality,
    points: Vec<NumberDataPoint>,
) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality as i32,
            is_monotonic: true,
        })),
        ..Default::default()
    }
}

/// A point of cart's `app.cart.requests` from shard `shard`, of `user` where the requests carry
/// `user.id` (a high-cardinality key).
pub(super) fn cart_request_point(shard: i64, user: Option<u64>, value: i64) -> NumberDataPoint {
    let mut attributes = vec![string("http.route", "/cart"), int("app.cart.shard", shard)];
    if let Some(user) = user {
        attributes.push(string("user.id", format!("user-{user}")));
    }
    counter_point(attributes, value)
}

impl Shop {
    /// Metrics after `total` requests per instance (cumulative, as SDKs export).
    pub(super) fn metrics(&self, total: u64, ids: &mut Ids) -> Vec<ExportMetricsServiceRequest> {
        let cumulative = AggregationTemporality::Cumulative;
        let mut out = Vec::new();
        for instance in 0..self.instances {
            let request_duration = |route: &str| {
                let attributes = request_attributes("POST", route, 200, 3);
                histogram(
                    "http.server.request.duration",
                    vec![duration_point(attributes, total)],
                )
            };
            let orders = ["card", "paypal", "voucher"]
                .into_iter()
                .map(|method| {
                    let mut attributes = vec![string("app.currency", "EUR")];
                    if !self.has(Drift::PaymentMethodDropped) {
                        attributes.push(string("app.payment.method", method));
                    }
                    counter_point(attributes, total as i64)
                })
                .collect();
            let cardinality = self.has(Drift::UserIdOnCartRequests);
            let cart_requests = (0..if cardinality { 300 } else { 4 })
                .map(|n| {
                    let user = cardinality.then(|| ids.draw() % 100_000);
                    cart_request_point(n % 4, user, total as i64)
                })
                .collect();
            let cart_items = if self.has(Drift::MetricsRedefined) {
                Metric {
                    name: "app.cart.items".into(),
                    unit: "{item}".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![counter_point(vec![], 3)],
                    })),
                    ..Default::default()
                }
            } else {
                let points = vec![counter_point(vec![], total as i64 * 3)];
                counter("app.cart.items", "{item}", cumulative, points)
            };
            let orders_unit = if self.has(Drift::MetricsRedefined) {
                "1"
            } else {
                "{order}"
            };
            let mut services = vec![
                ("frontend", vec![request_duration("/api/checkout")]),
                (
                    "checkout",
                    vec![
                        request_duration("/checkout"),
                        counter("app.orders.placed", orders_unit, cumulative, orders),
                    ],
                ),
                (
                    "cart",
                    vec![
                        if self.has(Drift::OldHttpSemconv) {
                            old_request_duration("/cart", total)
                        } else {
                            request_duration("/cart")
                        },
                        counter("app.cart.requests", "{request}", cumulative, cart_requests),
                        cart_items,
                    ],
                ),
                ("payment", vec![request_duration("/charge")]),
            ];
            if !self.has(Drift::RecommendationGone) {
                services.push(("recommendation", vec![request_duration("/recommendations")]));
            }
            for (service, metrics) in services {
                out.push(self.metrics_request(service, instance, metrics));
            }
        }
        out
    }

    /// One export request of `metrics` from `service`'s instance `instance`.
    pub(super) fn metrics_request(
        &self,
        service: &str,
        instance: u64,
        metrics: Vec<Metric>,
    ) -> ExportMetricsServiceRequest {
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: self.resource(service, instance),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope(SCOPE, SCOPE_VERSION),
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }
}
