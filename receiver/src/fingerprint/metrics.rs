//! Metric shapes: type, unit, temporality, monotonicity, bucket layouts,
//! attribute keys with value cardinality, series cardinality, and the request
//! counts of request-duration histograms (for the inferred sampling rate).

use std::sync::Arc;

use hashbrown::HashMap;
use otel_parity_proto::v1 as pb;
use parking_lot::Mutex;

use super::attributes::{key_hash, key_value, pair_hash, set_hash, value_hash};
use super::resource::Scopes;
use super::table::{CappedTable, CountTable, named};
use super::{IngestOutcome, children};
use crate::limits::Limits;
use crate::otlp::schema::field;
use crate::wire::{self, Value};
use otel_parity_model::merge::compare_bounds;
use otel_parity_model::sketch::{DistinctCount, SERIES_LG_K, VALUES_LG_K};

/// Histograms that count one data point per server request, in the order
/// preferred when a service reports several (during a semconv migration).
pub const REQUEST_DURATION_METRICS: [&str; 3] = [
    "http.server.request.duration",
    "http.server.duration",
    "rpc.server.duration",
];

/// The point types of OTLP metrics, indexed as `TYPE_NAMES`.
const TYPE_NAMES: [&str; 5] = [
    "gauge",
    "sum",
    "histogram",
    "exponential_histogram",
    "summary",
];
const HISTOGRAM: usize = 2;
const TEMPORALITY_NAMES: [&str; 3] = ["unspecified", "delta", "cumulative"];
const DELTA: u64 = 1;
const CUMULATIVE: u64 = 2;

/// One attribute key of one metric.
#[derive(Debug)]
struct KeyState {
    count: u64,
    hash: u64,
    values: DistinctCount,
}

/// What one metric name looks like.
#[derive(Debug)]
struct MetricState {
    types: [u64; 5],
    units: CountTable,
    temporalities: [u64; 3],
    monotonic: u64,
    non_monotonic: u64,
    bucket_layouts: Vec<(Box<[f64]>, u64)>,
    keys: CappedTable<KeyState>,
    series: DistinctCount,
    points: u64,
    /// Metric messages seen: one per export that carried the metric.
    exports: u64,
}

impl Default for MetricState {
    fn default() -> Self {
        MetricState {
            types: [0; 5],
            units: CountTable::default(),
            temporalities: [0; 3],
            monotonic: 0,
            non_monotonic: 0,
            bucket_layouts: Vec::new(),
            keys: CappedTable::default(),
            series: DistinctCount::new(SERIES_LG_K),
            points: 0,
            exports: 0,
        }
    }
}

/// Last cumulative count of one request-duration series.
#[derive(Debug, Clone, Copy)]
struct CumulativeCount {
    start_time: u64,
    count: u64,
}

/// The last cumulative count of each request-duration series of one service,
/// by (instance, metric, attributes). It outlives windows: the first point
/// of a new window is a delta from the last point of the previous one, not a
/// count since the process started.
#[derive(Debug, Default)]
pub struct CumulativeCounts(Mutex<HashMap<u64, CumulativeCount>>);

/// A service's metrics.
#[derive(Debug, Default)]
pub struct MetricsState {
    shapes: CappedTable<MetricState>,
    /// Requests counted per entry of `REQUEST_DURATION_METRICS`.
    request_counts: [u64; 3],
    /// Shared with the service's states in later windows.
    cumulative: Arc<CumulativeCounts>,
    /// Reused buffer for a histogram point's bounds.
    bounds: Vec<f64>,
}

impl MetricsState {
    /// A service's metrics state continuing `cumulative` from earlier windows.
    pub fn continuing(cumulative: Arc<CumulativeCounts>) -> Self {
        MetricsState {
            cumulative,
            ..MetricsState::default()
        }
    }

    /// Requests over the window, from the preferred request-duration metric.
    pub fn request_count(&self) -> u64 {
        self.request_counts
            .iter()
            .copied()
            .find(|n| *n > 0)
            .unwrap_or(0)
    }

    /// Heap bytes held by the sketches (what grows with cardinality).
    pub fn memory_bytes(&self) -> usize {
        self.shapes
            .iter()
            .map(|(_, m)| {
                m.series.memory_bytes()
                    + m.keys
                        .iter()
                        .map(|(_, k)| k.values.memory_bytes())
                        .sum::<usize>()
            })
            .sum::<usize>()
            + self.cumulative.0.lock().capacity() * std::mem::size_of::<(u64, CumulativeCount)>()
    }

    /// Metric shapes by name.
    pub fn to_proto(&self) -> std::collections::BTreeMap<String, pb::MetricShape> {
        self.shapes
            .iter_named()
            .map(|(name, m)| (name, m.to_proto()))
            .collect()
    }
}

impl MetricState {
    fn to_proto(&self) -> pb::MetricShape {
        let mut bucket_layouts: Vec<pb::BucketLayout> = self
            .bucket_layouts
            .iter()
            .map(|(bounds, points)| pb::BucketLayout {
                bounds: bounds.to_vec(),
                data_points: *points,
            })
            .collect();
        bucket_layouts.sort_by(|a, b| compare_bounds(&a.bounds, &b.bounds));
        pb::MetricShape {
            types: named(&TYPE_NAMES, &self.types),
            units: self.units.to_map(),
            temporalities: named(&TEMPORALITY_NAMES, &self.temporalities),
            monotonic_points: self.monotonic,
            non_monotonic_points: self.non_monotonic,
            bucket_layouts,
            attribute_keys: self
                .keys
                .iter_named()
                .map(|(key, k)| {
                    let shape = pb::AttributeKeyShape {
                        count: k.count,
                        values: Some(k.values.to_proto()),
                    };
                    (key, shape)
                })
                .collect(),
            series: Some(self.series.to_proto()),
            data_points: self.points,
            exports: self.exports,
        }
    }
}

/// The point type index and the data message of one Metric.
struct MetricView<'a> {
    name: &'a [u8],
    unit: &'a [u8],
    data: Option<(usize, &'a [u8])>,
}

impl<'a> MetricView<'a> {
    fn read(metric: &'a [u8]) -> Self {
        let mut view = MetricView {
            name: &[],
            unit: &[],
            data: None,
        };
        for (number, value) in wire::fields(metric).filter_map(Result::ok) {
            let kind = match number {
                field::metric::NAME => {
                    view.name = value.as_bytes();
                    continue;
                }
                field::metric::UNIT => {
                    view.unit = value.as_bytes();
                    continue;
                }
                field::metric::GAUGE => 0,
                field::metric::SUM => 1,
                field::metric::HISTOGRAM => 2,
                field::metric::EXPONENTIAL_HISTOGRAM => 3,
                field::metric::SUMMARY => 4,
                _ => continue,
            };
            view.data = Some((kind, value.as_bytes()));
        }
        view
    }
}

/// The attributes field number of a point of type `kind`.
fn attributes_field(kind: usize) -> u32 {
    match kind {
        2 => field::point::HISTOGRAM_ATTRIBUTES,
        3 => field::point::EXPONENTIAL_ATTRIBUTES,
        4 => field::point::SUMMARY_ATTRIBUTES,
        _ => field::point::NUMBER_ATTRIBUTES,
    }
}

/// Data points in one Metric (for blocks over a cap).
pub fn points_in(metric: &[u8]) -> u64 {
    match MetricView::read(metric).data {
        Some((_, data)) => children(data, field::metric_data::DATA_POINTS).count() as u64,
        None => 0,
    }
}

impl MetricsState {
    /// Fingerprints the metrics of one ResourceMetrics block; `instance_hash`
    /// tells apart the cumulative request counts of the service's instances.
    pub fn observe_block(
        &mut self,
        scopes: Scopes<'_>,
        instance_hash: u64,
        limits: &Limits,
        outcome: &mut IngestOutcome,
    ) {
        scopes.for_each_item(|metric, overflow| {
            self.observe_metric(metric, instance_hash, limits, overflow, outcome);
        });
    }

    fn observe_metric(
        &mut self,
        metric: &[u8],
        instance_hash: u64,
        limits: &Limits,
        overflow: &mut pb::Overflow,
        outcome: &mut IngestOutcome,
    ) {
        let view = MetricView::read(metric);
        let (kind, data) = view.data.unwrap_or((0, &[]));
        let mut temporality = 0;
        let mut monotonic = None;
        let mut points = 0u64;
        for (number, value) in wire::fields(data).filter_map(Result::ok) {
            match number {
                field::metric_data::DATA_POINTS => points += 1,
                field::metric_data::TEMPORALITY if kind != 0 && kind != 4 => {
                    temporality = value.as_u64()
                }
                field::metric_data::IS_MONOTONIC if kind == 1 => {
                    monotonic = Some(value.as_u64() != 0)
                }
                _ => {}
            }
        }
        outcome.accepted += points;

        let Some(shape) = self.shapes.get_or_insert(view.name, limits.max_metrics) else {
            overflow.metric_names += points;
            return;
        };
        if view.data.is_none() {
            return;
        }
        shape.exports += 1;
        shape.points += points;
        shape.types[kind] += points;
        if !shape.units.add(view.unit, points, limits.max_units) {
            overflow.units += points;
        }
        if kind != 0 && kind != 4 {
            shape.temporalities[(temporality as usize).min(2)] += points;
        }
        match monotonic {
            Some(true) => shape.monotonic += points,
            Some(false) => shape.non_monotonic += points,
            None if kind == 1 => shape.non_monotonic += points,
            None => {}
        }
        let request_metric = if kind == HISTOGRAM {
            REQUEST_DURATION_METRICS
                .iter()
                .position(|m| m.as_bytes() == view.name)
        } else {
            None
        };
        let attributes = attributes_field(kind);
        // Locked once per request-duration metric, not per point.
        let cumulative = Arc::clone(&self.cumulative);
        let mut cumulative = request_metric.map(|_| cumulative.0.lock());
        for point in children(data, field::metric_data::DATA_POINTS) {
            let mut pairs = 0u64;
            let mut start_time = 0;
            let mut count = 0;
            self.bounds.clear();
            for (number, value) in wire::fields(point).filter_map(Result::ok) {
                if number == attributes {
                    let (key, value) = key_value(value.as_bytes());
                    let value_hash = value_hash(value);
                    let key_hash =
                        match shape
                            .keys
                            .get_or_insert_with(key, limits.max_attribute_keys, || KeyState {
                                count: 0,
                                hash: key_hash(key),
                                values: DistinctCount::new(VALUES_LG_K),
                            }) {
                            Some(k) => {
                                k.count += 1;
                                k.values.insert(value_hash);
                                k.hash
                            }
                            None => {
                                overflow.attribute_keys += 1;
                                key_hash(key)
                            }
                        };
                    pairs = pairs.wrapping_add(pair_hash(key_hash, value_hash));
                    continue;
                }
                if kind != HISTOGRAM {
                    continue;
                }
                match (number, value) {
                    (field::point::EXPLICIT_BOUNDS, Value::Bytes(packed)) => self.bounds.extend(
                        packed
                            .chunks_exact(8)
                            .filter_map(|c| c.try_into().ok())
                            .map(|c: [u8; 8]| f64::from_le_bytes(c)),
                    ),
                    (field::point::EXPLICIT_BOUNDS, Value::Fixed64(bits)) => {
                        self.bounds.push(f64::from_bits(bits))
                    }
                    (field::point::START_TIME, v) => start_time = v.as_u64(),
                    (field::point::COUNT, v) => count = v.as_u64(),
                    _ => {}
                }
            }
            let series = set_hash(pairs);
            shape.series.insert(series);
            if kind == HISTOGRAM {
                observe_layout(shape, &self.bounds, limits, overflow);
            }
            if let (Some(index), Some(cumulative)) = (request_metric, cumulative.as_mut()) {
                let requests = match temporality {
                    DELTA => count,
                    CUMULATIVE => {
                        let key = pair_hash(instance_hash ^ index as u64, series);
                        cumulative_delta(cumulative, key, start_time, count, limits, overflow)
                    }
                    _ => 0,
                };
                self.request_counts[index] += requests;
            }
        }
    }
}

fn observe_layout(
    shape: &mut MetricState,
    bounds: &[f64],
    limits: &Limits,
    overflow: &mut pb::Overflow,
) {
    let same = |layout: &[f64]| {
        layout.len() == bounds.len()
            && layout
                .iter()
                .zip(bounds)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    };
    if let Some(layout) = shape
        .bucket_layouts
        .iter_mut()
        .find(|(layout, _)| same(layout))
    {
        layout.1 += 1;
    } else if shape.bucket_layouts.len() < limits.max_bucket_layouts {
        shape.bucket_layouts.push((bounds.into(), 1));
    } else {
        overflow.bucket_layouts += 1;
    }
}

/// Requests since the previous cumulative point of the same series. A new
/// series or a restart (new start time, lower count) counts from zero.
fn cumulative_delta(
    series: &mut HashMap<u64, CumulativeCount>,
    key: u64,
    start_time: u64,
    count: u64,
    limits: &Limits,
    overflow: &mut pb::Overflow,
) -> u64 {
    let full = series.len() >= limits.max_request_series;
    match series.get_mut(&key) {
        Some(previous) => {
            let delta = if previous.start_time == start_time && count >= previous.count {
                count - previous.count
            } else {
                count
            };
            *previous = CumulativeCount { start_time, count };
            delta
        }
        None if full => {
            overflow.request_series += 1;
            0
        }
        None => {
            series.insert(key, CumulativeCount { start_time, count });
            count
        }
    }
}
