//! Builders of `parity.v1` fingerprints, shaped like what the receiver writes, for the unit
//! tests of the comparison and the lint: snapshots, services and metric shapes built one part
//! at a time (here and in `metric`), and services described per request and built at any
//! scale and sampling (`described`, with the shop in `described_shop`).

pub mod described;
mod described_shop;
mod metric;

use otel_parity_proto::v1 as pb;

pub use described_shop::described_shop;
pub use metric::{MetricBuilder, gauge, histogram, sum};

/// A cardinality estimate without a sketch (as tests need it; the receiver sends both).
pub fn cardinality(estimate: f64) -> Option<pb::Cardinality> {
    Some(pb::Cardinality {
        estimate,
        hll: Vec::new(),
    })
}

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
        self.service.metrics.insert(name.into(), metric.shape());
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

    /// The service's key and fingerprint.
    pub fn build(self) -> (String, pb::ServiceFingerprint) {
        (self.key, self.service)
    }
}
