//! What lint looks at: every service of every environment in the inputs, merged by service
//! key with the analyzer's merge (counts add, sets union, cardinality sketches union).

use std::collections::{BTreeMap, BTreeSet};

use otel_parity_proto::v1 as pb;

pub use otel_parity_model::merge::same_bounds;
use otel_parity_model::merge::{compare_bounds, merge_service};

/// The telemetry of all inputs, per service key (`namespace/name`, or `name`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Telemetry {
    /// Services by key, whatever environment they came from.
    pub services: BTreeMap<String, ServiceTelemetry>,
}

/// One service's telemetry across inputs and environments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceTelemetry {
    /// Per metric name.
    pub metrics: BTreeMap<String, MetricTelemetry>,
    /// Span operations by (name, kind) → span attribute keys seen on them.
    pub span_operations: BTreeMap<SpanOperationKey, BTreeSet<String>>,
    /// Log `event.name` values.
    pub log_event_names: BTreeSet<String>,
    /// Log record attribute keys.
    pub log_attribute_keys: BTreeSet<String>,
    /// Resource attribute keys.
    pub resource_attribute_keys: BTreeSet<String>,
}

/// A span operation: span name and span kind (`server`, `client`, `internal`, `producer`,
/// `consumer` or `unspecified`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpanOperationKey {
    /// Span name.
    pub name: String,
    /// Span kind, lower case.
    pub kind: String,
}

/// One metric name in one service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricTelemetry {
    /// Data point type → data points.
    pub types: BTreeMap<String, u64>,
    /// Unit ("" when unset) → data points.
    pub units: BTreeMap<String, u64>,
    /// Aggregation temporality → data points.
    pub temporalities: BTreeMap<String, u64>,
    /// Sum data points flagged monotonic.
    pub monotonic_points: u64,
    /// Sum data points not flagged monotonic.
    pub non_monotonic_points: u64,
    /// Distinct explicit-bucket layouts with their data points, sorted by bounds.
    pub bucket_layouts: Vec<(Vec<f64>, u64)>,
    /// Attribute key → largest distinct-value estimate seen.
    pub attribute_keys: BTreeMap<String, f64>,
    /// Largest series-count estimate seen.
    pub series: f64,
    /// Data points seen.
    pub data_points: u64,
}

impl MetricTelemetry {
    /// The type with most data points (ties broken by name), if any.
    pub fn main_type(&self) -> Option<&str> {
        dominant(self.types.iter())
    }

    /// The type with most data points among `known` (ties broken by name),
    /// if any: a snapshot file may hold any string.
    pub fn main_known_type(&self, known: &[&str]) -> Option<&str> {
        dominant(
            self.types
                .iter()
                .filter(|(kind, _)| known.contains(&kind.as_str())),
        )
    }

    /// The unit with most data points (ties broken by name), if any.
    pub fn main_unit(&self) -> Option<&str> {
        dominant(self.units.iter())
    }

    /// The temporality with most data points (ties broken by name), if any.
    pub fn main_temporality(&self) -> Option<&str> {
        dominant(self.temporalities.iter())
    }

    /// The bucket layout with most data points (ties broken by bounds), if any.
    pub fn main_bucket_layout(&self) -> Option<&[f64]> {
        self.bucket_layouts
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| compare_bounds(&b.0, &a.0)))
            .map(|(bounds, _)| bounds.as_slice())
    }

    /// Whether the metric is a sum whose points are mostly monotonic (a counter).
    pub fn is_monotonic(&self) -> bool {
        self.monotonic_points > 0 && self.monotonic_points >= self.non_monotonic_points
    }

    fn from_shape(shape: &pb::MetricShape) -> Self {
        let estimate = |c: &Option<pb::Cardinality>| c.as_ref().map_or(0.0, |c| c.estimate);
        let mut bucket_layouts: Vec<(Vec<f64>, u64)> = shape
            .bucket_layouts
            .iter()
            .map(|l| (l.bounds.clone(), l.data_points))
            .collect();
        bucket_layouts.sort_by(|a, b| compare_bounds(&a.0, &b.0));
        MetricTelemetry {
            types: shape.types.clone(),
            units: shape.units.clone(),
            temporalities: shape.temporalities.clone(),
            monotonic_points: shape.monotonic_points,
            non_monotonic_points: shape.non_monotonic_points,
            bucket_layouts,
            attribute_keys: shape
                .attribute_keys
                .iter()
                .map(|(k, a)| (k.clone(), estimate(&a.values)))
                .collect(),
            series: estimate(&shape.series),
            data_points: shape.data_points,
        }
    }
}

fn dominant<'a>(counts: impl DoubleEndedIterator<Item = (&'a String, &'a u64)>) -> Option<&'a str> {
    // max_by_key keeps the last maximum; iterate in reverse so ties go to the first name.
    counts
        .rev()
        .max_by_key(|(_, count)| **count)
        .map(|(name, _)| name.as_str())
}

impl Telemetry {
    /// Merges every service of every environment of `snapshots`; a sketch
    /// that does not decode where two fingerprints of a service merge is an
    /// error naming it.
    pub fn from_snapshots<'a>(
        snapshots: impl IntoIterator<Item = &'a pb::Snapshot>,
    ) -> Result<Self, crate::Error> {
        let mut merged: BTreeMap<&str, pb::ServiceFingerprint> = BTreeMap::new();
        for snapshot in snapshots {
            for environment in snapshot.environments.values() {
                for (key, service) in &environment.services {
                    match merged.get_mut(key.as_str()) {
                        Some(into) => merge_service(into, service)?,
                        None => {
                            merged.insert(key, service.clone());
                        }
                    }
                }
            }
        }
        let services = merged
            .into_iter()
            .map(|(key, service)| (key.to_owned(), ServiceTelemetry::from_fingerprint(&service)))
            .collect();
        Ok(Telemetry { services })
    }
}

impl ServiceTelemetry {
    fn from_fingerprint(service: &pb::ServiceFingerprint) -> Self {
        let mut telemetry = ServiceTelemetry {
            metrics: service
                .metrics
                .iter()
                .map(|(name, shape)| (name.clone(), MetricTelemetry::from_shape(shape)))
                .collect(),
            ..ServiceTelemetry::default()
        };
        for operation in &service.span_operations {
            let key = SpanOperationKey {
                name: operation.name.clone(),
                kind: otel_parity_model::span_kind::name(operation.kind).to_owned(),
            };
            telemetry
                .span_operations
                .entry(key)
                .or_default()
                .extend(operation.attribute_keys.keys().cloned());
        }
        if let Some(logs) = &service.logs {
            telemetry
                .log_event_names
                .extend(logs.event_names.keys().cloned());
            telemetry
                .log_attribute_keys
                .extend(logs.attribute_keys.keys().cloned());
        }
        if let Some(resource) = &service.resource {
            telemetry
                .resource_attribute_keys
                .extend(resource.attribute_keys.keys().cloned());
        }
        telemetry
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{histogram, service, snapshot, sum};
    use super::*;

    #[test]
    fn services_merge_across_inputs_and_environments() {
        let first = snapshot(
            "ci",
            vec![service("shop/cart").metric(
                "app.cart.items",
                sum("{item}", true).attr("app.currency", 3.0).points(10),
            )],
        );
        let second = snapshot(
            "staging",
            vec![
                service("shop/cart").metric(
                    "app.cart.items",
                    sum("{item}", true)
                        .attr("app.currency", 5.0)
                        .attr("app.region", 2.0)
                        .points(4),
                ),
            ],
        );
        let telemetry = Telemetry::from_snapshots([&first, &second]).unwrap();
        let metric = &telemetry.services["shop/cart"].metrics["app.cart.items"];
        assert_eq!(metric.data_points, 14);
        assert_eq!(metric.units["{item}"], 14);
        assert_eq!(metric.attribute_keys["app.currency"], 5.0);
        assert_eq!(metric.attribute_keys["app.region"], 2.0);
        assert!(metric.is_monotonic());
    }

    #[test]
    fn the_main_bucket_layout_is_the_one_with_most_points() {
        let a = snapshot(
            "ci",
            vec![service("shop/cart").metric("d", histogram("s", &[1.0, 2.0]).points(3))],
        );
        let b = snapshot(
            "ci",
            vec![service("shop/cart").metric("d", histogram("s", &[0.5, 1.0]).points(5))],
        );
        let telemetry = Telemetry::from_snapshots([&a, &b, &a]).unwrap();
        let metric = &telemetry.services["shop/cart"].metrics["d"];
        assert_eq!(metric.bucket_layouts.len(), 2);
        assert_eq!(metric.main_bucket_layout(), Some(&[1.0, 2.0][..]));
        assert_eq!(metric.main_type(), Some("histogram"));
    }
}
