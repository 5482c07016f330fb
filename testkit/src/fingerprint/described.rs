//! Services described per request, and a builder that turns a description
//! into a consistent fingerprint at any scale and sampling. Tests plant
//! differences in the description (or the fingerprint) of one environment.

use std::collections::BTreeMap;

use otel_parity_proto::v1 as pb;
use pb::SpanKind::{Consumer, Server};

use super::{MetricBuilder, cardinality};

/// How a service's spans are sampled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    /// Probability sampling that writes `ot=th:…` into tracestate.
    Threshold(&'static str, f64),
    /// Sampling at this rate without a threshold (tail sampling, or none).
    NoThreshold(f64),
}

impl Sampler {
    fn rate(self) -> f64 {
        match self {
            Sampler::Threshold(_, p) => p,
            Sampler::NoThreshold(r) => r,
        }
    }
}

/// One span operation, per request of its service.
#[derive(Debug, Clone)]
pub struct Op {
    /// The span name.
    pub name: &'static str,
    /// The span kind.
    pub kind: pb::SpanKind,
    /// Spans per request of the service.
    pub per_request: f64,
    /// Span attribute keys.
    pub attrs: Vec<&'static str>,
    /// SERVER/CONSUMER: share of spans whose parent is remote (others roots).
    pub remote_share: f64,
}

/// A parent→child edge into one of the service's operations.
#[derive(Debug, Clone)]
pub struct Edge {
    /// The key of the parent's service.
    pub parent_service: &'static str,
    /// The parent operation (name, kind).
    pub parent: (&'static str, pb::SpanKind),
    /// The child operation (name, kind), one of the service's.
    pub child: (&'static str, pb::SpanKind),
    /// Share of the child operation's spans under this parent.
    pub share: f64,
}

/// One metric: data points per 1k requests, keys with their value counts.
#[derive(Debug, Clone)]
pub struct Metric {
    /// The metric name.
    pub name: &'static str,
    /// The data point type: `gauge`, `sum`, `histogram`, …
    pub kind: &'static str,
    /// The unit.
    pub unit: &'static str,
    /// Sums: whether the sum is monotonic.
    pub monotonic: bool,
    /// `cumulative`, `delta`, or empty for gauges.
    pub temporality: &'static str,
    /// Histograms: the bucket bounds.
    pub bounds: Vec<f64>,
    /// Attribute keys with their distinct values (at prod's scale).
    pub keys: Vec<(&'static str, f64)>,
    /// Series (at prod's scale).
    pub series: f64,
    /// Data points per 1,000 requests.
    pub per_1k: f64,
}

/// Log records per request and their shape.
#[derive(Debug, Clone)]
pub struct Logs {
    /// Log records per request.
    pub per_request: f64,
    /// Share of the records per severity text.
    pub severities: Vec<(&'static str, f64)>,
    /// Share of the records per `event.name`.
    pub events: Vec<(&'static str, f64)>,
    /// Share of the records that carry a trace id.
    pub trace_share: f64,
}

/// One service, per request.
#[derive(Debug, Clone)]
pub struct Service {
    /// The service key, `namespace/name`.
    pub key: &'static str,
    /// Requests at prod's scale.
    pub requests: f64,
    /// Allowlisted resource attributes with their values.
    pub resource: Vec<(&'static str, &'static str)>,
    /// Instrumentation scopes with their versions.
    pub scopes: Vec<(&'static str, &'static str)>,
    /// Span operations.
    pub ops: Vec<Op>,
    /// Incoming edges.
    pub edges: Vec<Edge>,
    /// Metrics.
    pub metrics: Vec<Metric>,
    /// Logs, if the service sends any.
    pub logs: Option<Logs>,
    /// Whether a request-duration metric counts its requests.
    pub request_metric: bool,
    /// How its spans are sampled.
    pub sampler: Sampler,
    /// Multiplies recorded spans (e.g. an exporter dropping most of them).
    pub span_factor: f64,
}

/// What differs between environments only in scale.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Multiplies requests (and so every count).
    pub traffic: f64,
    /// The instance count estimate.
    pub instances: f64,
    /// Multiplies series and value cardinalities (fewer instances, routes).
    pub series: f64,
    /// Export intervals of each instance over the range (30 one-minute
    /// intervals in half an hour; 180 at 10 s): each instance exports every
    /// metric once per interval.
    pub intervals: f64,
}

impl Scale {
    /// Production's scale: the reference.
    pub fn prod() -> Scale {
        Scale {
            traffic: 1.0,
            instances: 12.0,
            series: 1.0,
            intervals: 30.0,
        }
    }
}

/// The described service, to plant a difference in.
pub fn service_mut<'a>(shop: &'a mut [Service], key: &str) -> &'a mut Service {
    shop.iter_mut()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no service {key}"))
}

/// The fingerprint of the shop at `scale`.
pub fn build(shop: &[Service], scale: Scale) -> pb::EnvironmentFingerprint {
    pb::EnvironmentFingerprint {
        services: shop
            .iter()
            .map(|s| (s.key.to_owned(), build_service(s, scale)))
            .collect(),
        overflow: None,
    }
}

fn round(x: f64) -> u64 {
    x.round().max(0.0) as u64
}

fn build_service(s: &Service, scale: Scale) -> pb::ServiceFingerprint {
    let requests = s.requests * scale.traffic;
    let rate = s.sampler.rate() * s.span_factor;
    let spans_of = |op: &Op| round(requests * op.per_request * rate);
    let span_operations: Vec<pb::SpanOperation> = s
        .ops
        .iter()
        .map(|op| {
            let spans = spans_of(op);
            let entry = matches!(op.kind, Server | Consumer);
            let remote = round(spans as f64 * op.remote_share);
            pb::SpanOperation {
                name: op.name.to_owned(),
                kind: op.kind as i32,
                spans,
                errors: spans / 100,
                attribute_keys: op.attrs.iter().map(|k| ((*k).to_owned(), spans)).collect(),
                propagation: entry.then_some(pb::Propagation {
                    remote_parent: remote,
                    local_parent: 0,
                    root: spans - remote,
                }),
                ..Default::default()
            }
        })
        .collect();
    let edges = s
        .edges
        .iter()
        .map(|e| {
            let child = s
                .ops
                .iter()
                .find(|op| op.name == e.child.0 && op.kind == e.child.1);
            pb::OperationEdge {
                parent_service: e.parent_service.to_owned(),
                parent_operation: e.parent.0.to_owned(),
                parent_kind: e.parent.1 as i32,
                child_operation: e.child.0.to_owned(),
                child_kind: e.child.1 as i32,
                count: child.map_or(0, |op| round(spans_of(op) as f64 * e.share)),
            }
        })
        .collect();
    let total_spans: u64 = span_operations.iter().map(|op| op.spans).sum();
    let server_spans: u64 = span_operations
        .iter()
        .filter(|op| op.kind == Server as i32)
        .map(|op| op.spans)
        .sum();
    let request_metric_count = if s.request_metric { round(requests) } else { 0 };
    let mut sampling = pb::Sampling {
        server_spans,
        request_metric_count,
        inferred_rate: if server_spans > 0 && request_metric_count > 0 {
            server_spans as f64 / request_metric_count as f64
        } else {
            0.0
        },
        ..Default::default()
    };
    match s.sampler {
        Sampler::Threshold(th, p) => {
            if total_spans > 0 {
                sampling.thresholds = vec![pb::ThresholdCount {
                    threshold: th.to_owned(),
                    probability: p,
                    spans: total_spans,
                }];
            }
            sampling.server_spans_adjusted = server_spans as f64 / p;
        }
        Sampler::NoThreshold(_) => {
            sampling.spans_without_threshold = total_spans;
            sampling.server_spans_without_threshold = server_spans;
        }
    }
    let metrics: BTreeMap<String, pb::MetricShape> = s
        .metrics
        .iter()
        .map(|m| (m.name.to_owned(), metric(m, requests, scale)))
        .collect();
    let logs = s.logs.as_ref().map(|l| log_shape(l, requests));
    let resources = round(600.0 * scale.traffic).max(1);
    let resource = pb::ResourceShape {
        resources,
        attribute_keys: [
            "service.name",
            "service.namespace",
            "service.instance.id",
            "host.name",
        ]
        .iter()
        .chain(s.resource.iter().map(|(k, _)| k))
        .map(|k| ((*k).to_owned(), resources))
        .collect(),
        allowed_values: s
            .resource
            .iter()
            .map(|(k, v)| {
                (
                    (*k).to_owned(),
                    pb::ValueCounts {
                        values: [((*v).to_owned(), resources)].into(),
                    },
                )
            })
            .collect(),
        instances: cardinality(scale.instances),
        scopes: s
            .scopes
            .iter()
            .map(|(name, version)| {
                (
                    (*name).to_owned(),
                    pb::ScopeShape {
                        count: resources,
                        versions: [((*version).to_owned(), resources)].into(),
                        ..Default::default()
                    },
                )
            })
            .collect(),
        ..Default::default()
    };
    let data_points: u64 = metrics.values().map(|m| m.data_points).sum();
    let signal = |items: u64| {
        Some(pb::SignalIngestion {
            items,
            requests: resources,
            bytes: items * 440,
        })
    };
    let (_, identity) = super::service(s.key).build();
    pb::ServiceFingerprint {
        resource: Some(resource),
        ingestion: Some(pb::Ingestion {
            traces: signal(total_spans),
            metrics: signal(data_points),
            logs: signal(logs.as_ref().map_or(0, |l| l.records)),
        }),
        metrics,
        span_operations,
        edges,
        sampling: Some(sampling),
        logs,
        ..identity
    }
}

fn metric(m: &Metric, requests: f64, scale: Scale) -> pb::MetricShape {
    let points = round(requests * m.per_1k / 1000.0);
    let mut shape = MetricBuilder::new(m.kind, m.unit)
        .points(points)
        .exports(round(scale.instances * scale.intervals))
        .series((m.series * scale.series).max(1.0));
    if !m.temporality.is_empty() {
        shape = shape.temporality(m.temporality);
    }
    if m.kind == "sum" {
        shape = shape.monotonic(m.monotonic);
    }
    if !m.bounds.is_empty() {
        shape = shape.buckets(&m.bounds);
    }
    for (key, values) in &m.keys {
        shape = shape.attr(key, (values * scale.series).max(1.0));
    }
    shape.shape()
}

fn log_shape(l: &Logs, requests: f64) -> pb::LogShape {
    let records = round(requests * l.per_request);
    let share = |s: f64| round(records as f64 * s);
    pb::LogShape {
        records,
        severities: l
            .severities
            .iter()
            .map(|(s, x)| ((*s).to_owned(), share(*x)))
            .collect(),
        attribute_keys: [("code.function.name".to_owned(), records)].into(),
        event_names: l
            .events
            .iter()
            .map(|(e, x)| ((*e).to_owned(), share(*x)))
            .collect(),
        body_kinds: [("string".to_owned(), records)].into(),
        with_trace_id: share(l.trace_share),
    }
}
