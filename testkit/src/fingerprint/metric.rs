//! Builders of one metric's shape: its data point type, unit, temporality, bucket layouts,
//! attribute keys and cardinalities.

use otel_parity_proto::v1 as pb;

use super::cardinality;

/// Builds one metric's shape.
pub struct MetricBuilder {
    shape: pb::MetricShape,
}

/// A gauge in `unit`.
pub fn gauge(unit: &str) -> MetricBuilder {
    MetricBuilder::new("gauge", unit)
}

/// A cumulative sum in `unit`, monotonic (a counter) or not (an up-down counter).
pub fn sum(unit: &str, monotonic: bool) -> MetricBuilder {
    MetricBuilder::new("sum", unit)
        .temporality("cumulative")
        .monotonic(monotonic)
}

/// A cumulative explicit-bucket histogram in `unit` with `bounds`.
pub fn histogram(unit: &str, bounds: &[f64]) -> MetricBuilder {
    MetricBuilder::new("histogram", unit)
        .temporality("cumulative")
        .buckets(bounds)
}

impl MetricBuilder {
    /// One data point of type `kind` (`gauge`, `sum`, `histogram`, …) in `unit`, one series.
    pub fn new(kind: &str, unit: &str) -> Self {
        MetricBuilder {
            shape: pb::MetricShape {
                types: [(kind.to_owned(), 1)].into_iter().collect(),
                units: [(unit.to_owned(), 1)].into_iter().collect(),
                data_points: 1,
                exports: 1,
                series: cardinality(1.0),
                ..Default::default()
            },
        }
    }

    /// Adds attribute `key` with `estimate` distinct values.
    pub fn attr(mut self, key: &str, estimate: f64) -> Self {
        self.shape.attribute_keys.insert(
            key.into(),
            pb::AttributeKeyShape {
                count: self.shape.data_points,
                values: cardinality(estimate),
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

    /// Sets the exports (collections × instances) the metric appeared in.
    pub fn exports(mut self, exports: u64) -> Self {
        self.shape.exports = exports;
        self
    }

    /// Sets the series estimate.
    pub fn series(mut self, estimate: f64) -> Self {
        self.shape.series = cardinality(estimate);
        self
    }

    /// Sets the only temporality.
    pub fn temporality(mut self, temporality: &str) -> Self {
        self.shape.temporalities = [(temporality.to_owned(), self.shape.data_points)]
            .into_iter()
            .collect();
        self
    }

    /// Counts every data point as monotonic (a counter) or not (an up-down counter).
    pub fn monotonic(mut self, monotonic: bool) -> Self {
        if monotonic {
            self.shape.monotonic_points = self.shape.data_points;
        } else {
            self.shape.non_monotonic_points = self.shape.data_points;
        }
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

    /// The metric's shape.
    pub fn shape(self) -> pb::MetricShape {
        self.shape
    }
}
