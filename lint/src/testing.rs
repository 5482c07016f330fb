//! Builders for the fingerprints that the lint tests feed in, shaped like what the receiver
//! writes.

use otel_parity_proto::v1 as pb;

use super::config::LintConfig;
use super::finding::Finding;
use super::model::Telemetry;
use super::rules::RuleId;

/// A snapshot with one environment holding `services`.
pub fn snapshot(environment: &str, services: Vec<ServiceBuilder>) -> pb::Snapshot {
    let services = services
        .into_iter()
        .map(|s| (s.key.clone(), s.service))
        .collect();
    pb::Snapshot {
        receiver_instance: "test".into(),
        environments: [(
            environment.to_owned(),
            pb::EnvironmentFingerprint {
                services,
                overflow: None,
            },
        )]
        .into_iter()
        .collect(),
        ..Default::default()
    }
}

/// The merged telemetry of one snapshot of `services`.
pub fn telemetry(services: Vec<ServiceBuilder>) -> Telemetry {
    Telemetry::from_snapshots([&snapshot("ci", services)])
}

/// Findings of `rule` when linting `services` with the default config.
pub fn findings_of(rule: RuleId, services: Vec<ServiceBuilder>) -> Vec<Finding> {
    super::lint(&telemetry(services), &LintConfig::default(), None)
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}

/// Builds one service's fingerprint.
pub struct ServiceBuilder {
    key: String,
    service: pb::ServiceFingerprint,
}

/// A service with key `key` ("namespace/name").
pub fn service(key: &str) -> ServiceBuilder {
    let (namespace, name) = key.split_once('/').unwrap_or(("", key));
    ServiceBuilder {
        key: key.to_owned(),
        service: pb::ServiceFingerprint {
            namespace: namespace.into(),
            name: name.into(),
            ..Default::default()
        },
    }
}

impl ServiceBuilder {
    /// Adds metric `name`.
    pub fn metric(mut self, name: &str, metric: MetricBuilder) -> Self {
        self.service.metrics.insert(name.into(), metric.shape);
        self
    }

    /// Adds a span operation with span attribute `keys`.
    pub fn span(mut self, name: &str, kind: pb::SpanKind, keys: &[&str]) -> Self {
        self.service.span_operations.push(pb::SpanOperation {
            name: name.into(),
            kind: kind as i32,
            spans: 10,
            attribute_keys: keys.iter().map(|k| ((*k).to_owned(), 10)).collect(),
            ..Default::default()
        });
        self
    }

    /// Adds log records with `event.name` = `name`.
    pub fn log_event(mut self, name: &str) -> Self {
        let logs = self.service.logs.get_or_insert_with(Default::default);
        logs.records += 1;
        logs.event_names.insert(name.into(), 1);
        self
    }

    /// Adds a log attribute key.
    pub fn log_attribute(mut self, key: &str) -> Self {
        let logs = self.service.logs.get_or_insert_with(Default::default);
        logs.attribute_keys.insert(key.into(), 1);
        self
    }

    /// Adds a resource attribute key.
    pub fn resource_attribute(mut self, key: &str) -> Self {
        let resource = self.service.resource.get_or_insert_with(Default::default);
        resource.attribute_keys.insert(key.into(), 1);
        self
    }
}

/// Builds one metric's shape.
pub struct MetricBuilder {
    shape: pb::MetricShape,
}

fn metric(kind: &str, unit: &str) -> MetricBuilder {
    MetricBuilder {
        shape: pb::MetricShape {
            types: [(kind.to_owned(), 1)].into_iter().collect(),
            units: [(unit.to_owned(), 1)].into_iter().collect(),
            data_points: 1,
            series: Some(pb::Cardinality {
                estimate: 1.0,
                hll: Vec::new(),
            }),
            ..Default::default()
        },
    }
}

/// A gauge in `unit`.
pub fn gauge(unit: &str) -> MetricBuilder {
    metric("gauge", unit)
}

/// A cumulative sum in `unit`, monotonic (a counter) or not (an up-down counter).
pub fn sum(unit: &str, monotonic: bool) -> MetricBuilder {
    let mut builder = metric("sum", unit).temporality("cumulative");
    if monotonic {
        builder.shape.monotonic_points = 1;
    } else {
        builder.shape.non_monotonic_points = 1;
    }
    builder
}

/// A cumulative explicit-bucket histogram in `unit` with `bounds`.
pub fn histogram(unit: &str, bounds: &[f64]) -> MetricBuilder {
    metric("histogram", unit)
        .temporality("cumulative")
        .buckets(bounds)
}

impl MetricBuilder {
    /// Adds attribute `key` with `estimate` distinct values.
    pub fn attr(mut self, key: &str, estimate: f64) -> Self {
        self.shape.attribute_keys.insert(
            key.into(),
            pb::AttributeKeyShape {
                count: self.shape.data_points,
                values: Some(pb::Cardinality {
                    estimate,
                    hll: Vec::new(),
                }),
            },
        );
        self
    }

    /// Sets the data point count (of the type, unit and temporality too).
    pub fn points(mut self, points: u64) -> Self {
        self.shape.data_points = points;
        for map in [
            &mut self.shape.types,
            &mut self.shape.units,
            &mut self.shape.temporalities,
        ] {
            for count in map.values_mut() {
                *count = points;
            }
        }
        for layout in &mut self.shape.bucket_layouts {
            layout.data_points = points;
        }
        if self.shape.monotonic_points > 0 {
            self.shape.monotonic_points = points;
        }
        if self.shape.non_monotonic_points > 0 {
            self.shape.non_monotonic_points = points;
        }
        self
    }

    /// Sets the only temporality.
    pub fn temporality(mut self, temporality: &str) -> Self {
        self.shape.temporalities = [(temporality.to_owned(), self.shape.data_points)]
            .into_iter()
            .collect();
        self
    }

    /// Adds another unit (a conflict).
    pub fn also_unit(mut self, unit: &str) -> Self {
        self.shape.units.insert(unit.into(), 1);
        self
    }

    /// Adds another data point type (a conflict).
    pub fn also_type(mut self, kind: &str) -> Self {
        self.shape.types.insert(kind.into(), 1);
        self
    }

    /// Adds a bucket layout.
    pub fn buckets(mut self, bounds: &[f64]) -> Self {
        self.shape.bucket_layouts.push(pb::BucketLayout {
            bounds: bounds.to_vec(),
            data_points: self.shape.data_points,
        });
        self
    }
}
