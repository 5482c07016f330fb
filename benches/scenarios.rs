//! Realistic OTLP requests for benches and allocation tests, shaped like the
//! OpenTelemetry demo: HTTP server and client spans with ten attributes each
//! (about 440 bytes per span), and request-duration histograms and counters
//! with five attributes per point.

#![allow(dead_code)]

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use prost::Message;

const SERVICES: [&str; 8] = [
    "frontend",
    "cart",
    "checkout",
    "payment",
    "shipping",
    "currency",
    "ad",
    "recommendation",
];
const ROUTES: [&str; 6] = [
    "/api/products/{id}",
    "/api/cart",
    "/api/checkout",
    "/api/recommendations",
    "/api/shipping/quote",
    "/api/currency/convert",
];

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(key: &str, value: impl Into<String>) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

fn i(key: &str, value: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(value))
}

fn resource(service: &str, instance: u64) -> Resource {
    Resource {
        attributes: vec![
            s("service.name", service),
            s("service.namespace", "shop"),
            s("service.version", "1.12.3"),
            s("service.instance.id", format!("{service}-{instance:04x}")),
            s("deployment.environment.name", "prod"),
            s("telemetry.sdk.name", "opentelemetry"),
            s("telemetry.sdk.language", "go"),
            s("telemetry.sdk.version", "1.32.0"),
            s(
                "host.name",
                format!("ip-10-0-{}-{}.ec2.internal", instance % 200, instance % 251),
            ),
        ],
        ..Default::default()
    }
}

/// A deterministic pseudo-random sequence (xorshift), so runs are repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// One ExportTraceServiceRequest of `spans` spans from one service, each span
/// about 440 bytes with 10 attributes. Spans form traces of eight: a SERVER
/// span whose parent is remote (in another service's batch) and seven CLIENT
/// children. `seed` varies ids and values.
pub fn trace_request(spans: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let service = SERVICES[(seed % SERVICES.len() as u64) as usize];
    let mut all = Vec::with_capacity(spans);
    let mut trace_id: Vec<u8> = Vec::new();
    let mut server_span_id = Vec::new();
    for n in 0..spans {
        let route = ROUTES[(n / 8) % ROUTES.len()];
        let server = n % 8 == 0;
        let span_id = rng.next().to_le_bytes().to_vec();
        let parent_span_id = if server {
            trace_id = rng
                .next()
                .to_le_bytes()
                .into_iter()
                .chain(rng.next().to_le_bytes())
                .collect();
            server_span_id = span_id.clone();
            rng.next().to_le_bytes().to_vec()
        } else {
            server_span_id.clone()
        };
        let start = 1_763_900_000_000_000_000 + rng.next() % 1_000_000_000;
        all.push(Span {
            trace_id: trace_id.clone(),
            span_id,
            parent_span_id,
            trace_state: "ot=th:c;rv:9b8233f7e3a151".into(),
            flags: if server { 0x301 } else { 0x101 },
            name: format!("{} {route}", if server { "GET" } else { "POST" }),
            kind: if server {
                span::SpanKind::Server
            } else {
                span::SpanKind::Client
            } as i32,
            start_time_unix_nano: start,
            end_time_unix_nano: start + rng.next() % 250_000_000,
            attributes: vec![
                s("http.request.method", if server { "GET" } else { "POST" }),
                s(
                    "url.path",
                    route.replace("{id}", &format!("{}", rng.next() % 10_000)),
                ),
                s("url.scheme", "https"),
                s("http.route", route),
                i(
                    "http.response.status_code",
                    if rng.next().is_multiple_of(20) {
                        503
                    } else {
                        200
                    },
                ),
                s("server.address", format!("{service}.shop.svc")),
                i("server.port", 8080),
                s("user_agent.original", "okhttp/4.12.0"),
                s(
                    "client.address",
                    format!("10.0.{}.{}", rng.next() % 256, rng.next() % 256),
                ),
                s("network.protocol.version", "1.1"),
            ],
            ..Default::default()
        });
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(service, seed % 16)),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp".into(),
                    version: "0.57.0".into(),
                    ..Default::default()
                }),
                spans: all,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn point_attributes(rng: &mut Rng, n: usize) -> Vec<KeyValue> {
    vec![
        s("http.request.method", ["GET", "POST", "PUT"][n % 3]),
        s("http.route", ROUTES[n % ROUTES.len()]),
        i(
            "http.response.status_code",
            [200, 201, 404, 503][(rng.next() % 4) as usize],
        ),
        s("network.protocol.version", "1.1"),
        s("url.scheme", "https"),
    ]
}

/// One ExportMetricsServiceRequest: `metrics` metrics alternating between a
/// request-duration histogram and a counter, `points` points each, five
/// attributes per point.
pub fn metrics_request(metrics: usize, points: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let service = SERVICES[(seed % SERVICES.len() as u64) as usize];
    let bounds = vec![
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ];
    let all = (0..metrics)
        .map(|m| {
            let start = 1_763_900_000_000_000_000;
            if m % 2 == 0 {
                let data_points = (0..points)
                    .map(|n| {
                        let count = rng.next() % 10_000;
                        HistogramDataPoint {
                            attributes: point_attributes(&mut rng, n),
                            start_time_unix_nano: start,
                            time_unix_nano: start + 60_000_000_000,
                            count,
                            sum: Some(count as f64 * 0.042),
                            bucket_counts: (0..=bounds.len() as u64)
                                .map(|b| count / (b + 2))
                                .collect(),
                            explicit_bounds: bounds.clone(),
                            min: Some(0.001),
                            max: Some(4.2),
                            ..Default::default()
                        }
                    })
                    .collect();
                Metric {
                    name: if m == 0 {
                        "http.server.request.duration".into()
                    } else {
                        format!("app.stage{m}.duration")
                    },
                    unit: "s".into(),
                    data: Some(metric::Data::Histogram(Histogram {
                        data_points,
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    })),
                    ..Default::default()
                }
            } else {
                let data_points = (0..points)
                    .map(|n| NumberDataPoint {
                        attributes: point_attributes(&mut rng, n),
                        start_time_unix_nano: start,
                        time_unix_nano: start + 60_000_000_000,
                        value: Some(number_data_point::Value::AsInt(
                            (rng.next() % 100_000) as i64,
                        )),
                        ..Default::default()
                    })
                    .collect();
                Metric {
                    name: format!("app.requests{m}"),
                    unit: "{request}".into(),
                    data: Some(metric::Data::Sum(Sum {
                        data_points,
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                }
            }
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource(service, seed % 16)),
            scope_metrics: vec![ScopeMetrics {
                metrics: all,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// A metrics request of `points` counter points with all-distinct attribute
/// sets (series `first..first+points`): a cardinality explosion.
pub fn exploding_series_request(first: u64, points: u64) -> Vec<u8> {
    let data_points = (first..first + points)
        .map(|n| NumberDataPoint {
            attributes: vec![
                s("http.route", "/api/cart"),
                s("user.id", format!("user-{n}")),
                i("http.response.status_code", 200),
            ],
            value: Some(number_data_point::Value::AsInt(1)),
            ..Default::default()
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource("cart", 1)),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "app.cart.requests".into(),
                    unit: "{request}".into(),
                    data: Some(metric::Data::Sum(Sum {
                        data_points,
                        aggregation_temporality: AggregationTemporality::Delta as i32,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}
