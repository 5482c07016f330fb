//! The shop's traffic at the request sizes benches and allocation tests ask for: the spans a
//! service records of successive checkouts, its request metrics, and `user.id` on cart's
//! requests grown without bound.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;

use super::metrics::{
    cart_request_point, counter, counter_point, duration_point, histogram, request_attributes,
};
use super::traces::Detail;
use super::{Shop, TRACED_SERVICES};
use crate::otlp::Ids;

/// Routes of the shop's HTTP servers.
const ROUTES: [&str; 6] = [
    "/api/checkout",
    "/api/cart",
    "/checkout",
    "/charge",
    "/cart",
    "/recommendations",
];

/// Request sizes: how much one export request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Spans per trace export request.
    pub spans: usize,
    /// Attributes per span (the semantic conventions list ten for each of the shop's spans).
    pub span_attributes: usize,
    /// Metrics per metrics export request.
    pub metrics: usize,
    /// Data points per metric.
    pub points: usize,
    /// Attributes per data point (at most five).
    pub point_attributes: usize,
}

impl Load {
    /// The fingerprint bench's requests: 512 spans of about 440 bytes with 10 attributes each,
    /// and 20 metrics of 25 points (500) with 5 attributes each.
    pub const BENCH: Load = Load {
        spans: 512,
        span_attributes: 10,
        metrics: 20,
        points: 25,
        point_attributes: 5,
    };
}

impl Shop {
    /// The service and instance that send request `seed`: seeds equal modulo 4 come from the
    /// same service, modulo 16 from the same instance; the ids differ with every seed.
    fn load_source(&self, seed: u64) -> (&'static str, u64, Ids) {
        let service = TRACED_SERVICES[(seed % TRACED_SERVICES.len() as u64) as usize];
        let ids = Ids::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ self.seed);
        (service, seed % 16, ids)
    }

    /// A trace export request of `load.spans` spans from the service instance of `seed` (see
    /// above): the spans it records of successive checkouts, each with `load.span_attributes`
    /// attributes.
    pub fn load_traces(&self, load: &Load, seed: u64) -> ExportTraceServiceRequest {
        let (service, instance, mut ids) = self.load_source(seed);
        let mut spans = Vec::with_capacity(load.spans);
        // Request numbers of their own per seed, so that values differ too.
        let mut n = seed << 20;
        while spans.len() < load.spans {
            let checkout = self.checkout(n, &mut ids, Detail::Attributes(load.span_attributes));
            spans.extend(
                checkout
                    .into_iter()
                    .filter(|(from, _)| *from == service)
                    .map(|(_, span)| span),
            );
            n += 1;
        }
        spans.truncate(load.spans);
        self.spans_request(service, instance, spans)
    }

    /// A metrics export request of `load.metrics` metrics of `load.points` points each from the
    /// service instance of `seed` (see above): request-duration histograms and request counters
    /// by turns, each point with `load.point_attributes` attributes.
    pub fn load_metrics(&self, load: &Load, seed: u64) -> ExportMetricsServiceRequest {
        let (service, instance, mut ids) = self.load_source(seed);
        let attributes = |n: usize, ids: &mut Ids| {
            let status = [200, 201, 404, 503][(ids.draw() % 4) as usize];
            let route = ROUTES[n % ROUTES.len()];
            request_attributes(
                ["GET", "POST", "PUT"][n % 3],
                route,
                status,
                load.point_attributes,
            )
        };
        let metrics = (0..load.metrics)
            .map(|m| {
                if m % 2 == 0 {
                    let points = (0..load.points)
                        .map(|n| duration_point(attributes(n, &mut ids), ids.draw() % 10_000))
                        .collect();
                    let name = match m {
                        0 => "http.server.request.duration".to_owned(),
                        _ => format!("app.stage{m}.duration"),
                    };
                    histogram(&name, points)
                } else {
                    let points = (0..load.points)
                        .map(|n| {
                            let value = (ids.draw() % 100_000) as i64;
                            counter_point(attributes(n, &mut ids), value)
                        })
                        .collect();
                    let name = format!("app.requests{m}");
                    counter(
                        &name,
                        "{request}",
                        AggregationTemporality::Cumulative,
                        points,
                    )
                }
            })
            .collect();
        self.metrics_request(service, instance, metrics)
    }

    /// Cart's `app.cart.requests` as deltas, `points` points each of its own `user.id` (series
    /// `first..first + points`): `user.id` on cart's requests grown into a cardinality explosion.
    pub fn cardinality_explosion(&self, first: u64, points: u64) -> ExportMetricsServiceRequest {
        let points = (first..first + points)
            .map(|n| cart_request_point((n % 4) as i64, Some(n), 1))
            .collect();
        let delta = AggregationTemporality::Delta;
        let metric = counter("app.cart.requests", "{request}", delta, points);
        self.metrics_request("cart", 1, vec![metric])
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::metrics::v1::metric;
    use prost::Message;

    use super::*;

    #[test]
    fn bench_spans_are_about_440_bytes_with_10_attributes() {
        let shop = Shop::prod();
        for seed in 0..16 {
            let request = shop.load_traces(&Load::BENCH, seed);
            let spans = &request.resource_spans[0].scope_spans[0].spans;
            assert_eq!(spans.len(), 512);
            assert!(spans.iter().all(|span| span.attributes.len() == 10));
            let per_span = request.encoded_len() / spans.len();
            assert!(
                (400..=480).contains(&per_span),
                "seed {seed}: {per_span} bytes per span"
            );
        }
    }

    #[test]
    fn bench_metrics_are_500_points_with_5_attributes() {
        let request = Shop::prod().load_metrics(&Load::BENCH, 3);
        let metrics = &request.resource_metrics[0].scope_metrics[0].metrics;
        assert_eq!(metrics.len(), 20);
        let attributes: Vec<usize> = metrics
            .iter()
            .flat_map(|metric| match metric.data.as_ref() {
                Some(metric::Data::Histogram(h)) => {
                    h.data_points.iter().map(|p| p.attributes.len()).collect()
                }
                Some(metric::Data::Sum(s)) => {
                    s.data_points.iter().map(|p| p.attributes.len()).collect()
                }
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(attributes, [5; 500]);
    }
}
