//! Merging many fingerprints at once: the sketches stay live (HLL unions, HDR
//! histograms) while fingerprints are added and are serialized once, at
//! [`Accumulator::finish`]. Merging N fingerprints pairwise with
//! [`merge_environment`] deserializes and reserializes every sketch N times;
//! this does each once per input.
//!
//! Everything that is not a sketch merges exactly as [`merge_environment`]
//! merges it, so `finish` of any grouping of the same inputs (pushes, or
//! rollups of pushes) is the same fingerprint: counts and maps exactly,
//! estimates within the sketches' error.

use std::collections::HashMap;

use datasketches::hll::{HllSketch, HllType, HllUnion};
use hdrhistogram::Histogram;
use otel_parity_proto::v1 as pb;

use crate::check::sketches::{At, SketchError, SketchRef, walk_sketches};
use crate::merge::merge_environment;
use crate::sketch::{MAX_LG_K, decode_hdr, decode_hll, duration_proto};

/// Fingerprints added so far, with their sketches kept live.
#[derive(Default)]
pub struct Accumulator {
    merged: Option<pb::EnvironmentFingerprint>,
    sketches: HashMap<String, ServiceSketches>,
    added: u64,
}

impl std::fmt::Debug for Accumulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accumulator")
            .field("added", &self.added)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct ServiceSketches {
    instances: Option<HllUnion>,
    metrics: HashMap<String, MetricSketches>,
    durations: HashMap<(String, i32), Histogram<u64>>,
}

#[derive(Default)]
struct MetricSketches {
    series: Option<HllUnion>,
    keys: HashMap<String, HllUnion>,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Accumulator::default()
    }

    /// Fingerprints added so far.
    pub fn added(&self) -> u64 {
        self.added
    }

    /// Adds one fingerprint. A sketch that does not decode is an error naming
    /// it, and then nothing of `fingerprint` has been added.
    pub fn add(&mut self, mut fingerprint: pb::EnvironmentFingerprint) -> Result<(), SketchError> {
        let decoded = take_sketches(&mut fingerprint)?;
        for sketch in decoded {
            self.absorb(sketch);
        }
        match self.merged.as_mut() {
            // Both sides are without sketch bytes now: nothing left to fail.
            Some(merged) => merge_environment(merged, &fingerprint)?,
            None => self.merged = Some(fingerprint),
        }
        self.added += 1;
        Ok(())
    }

    fn absorb(&mut self, sketch: TakenSketch) {
        let service = entry(&mut self.sketches, &sketch.service);
        match sketch.place {
            Place::Instances(hll) => union_into(&mut service.instances, &hll),
            Place::Series { metric, hll } => {
                union_into(&mut entry(&mut service.metrics, &metric).series, &hll)
            }
            Place::KeyValues { metric, key, hll } => {
                let keys = &mut entry(&mut service.metrics, &metric).keys;
                match keys.get_mut(&key) {
                    Some(union) => union.update(&hll),
                    None => {
                        let mut union = new_union();
                        union.update(&hll);
                        keys.insert(key, union);
                    }
                }
            }
            Place::Duration {
                operation,
                kind,
                histogram,
            } => match service.durations.get_mut(&(operation.clone(), kind)) {
                Some(total) => {
                    // Auto-resizing histograms only fail to add on overflow
                    // of a count, far beyond any real span count.
                    let _ = total.add(&histogram);
                }
                None => {
                    let mut histogram = histogram;
                    histogram.auto(true);
                    service.durations.insert((operation, kind), histogram);
                }
            },
        }
    }

    /// The merged fingerprint, with every sketch serialized once; `None` when
    /// nothing was added.
    pub fn finish(self) -> Option<pb::EnvironmentFingerprint> {
        let mut merged = self.merged?;
        for (key, service) in &mut merged.services {
            let Some(sketches) = self.sketches.get(key) else {
                continue;
            };
            if let (Some(resource), Some(union)) = (service.resource.as_mut(), &sketches.instances)
            {
                resource.instances = Some(cardinality(union));
            }
            for (name, metric) in &mut service.metrics {
                let Some(metric_sketches) = sketches.metrics.get(name) else {
                    continue;
                };
                if let Some(union) = &metric_sketches.series {
                    metric.series = Some(cardinality(union));
                }
                for (key, shape) in &mut metric.attribute_keys {
                    if let Some(union) = metric_sketches.keys.get(key) {
                        shape.values = Some(cardinality(union));
                    }
                }
            }
            for operation in &mut service.span_operations {
                let key = (operation.name.clone(), operation.kind);
                if let Some(histogram) = sketches.durations.get(&key) {
                    operation.duration = Some(duration_proto(histogram));
                }
            }
        }
        Some(merged)
    }
}

fn entry<'a, V: Default>(map: &'a mut HashMap<String, V>, key: &str) -> &'a mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    match map.get_mut(key) {
        Some(value) => value,
        None => unreachable!("inserted above"),
    }
}

fn new_union() -> HllUnion {
    match HllUnion::new(MAX_LG_K) {
        Ok(union) => union,
        Err(_) => unreachable!("MAX_LG_K is within DataSketches' 4..=21"),
    }
}

fn union_into(slot: &mut Option<HllUnion>, sketch: &HllSketch) {
    slot.get_or_insert_with(new_union).update(sketch);
}

fn cardinality(union: &HllUnion) -> pb::Cardinality {
    let sketch = union.to_sketch(HllType::Hll4);
    pb::Cardinality {
        estimate: sketch.estimate().round(),
        hll: sketch.serialize(),
    }
}

/// A sketch taken out of a fingerprint, decoded, with where it belongs.
struct TakenSketch {
    service: String,
    place: Place,
}

enum Place {
    Instances(HllSketch),
    Series {
        metric: String,
        hll: HllSketch,
    },
    KeyValues {
        metric: String,
        key: String,
        hll: HllSketch,
    },
    Duration {
        operation: String,
        kind: i32,
        histogram: Histogram<u64>,
    },
}

/// Decodes every sketch of `fingerprint` and empties its bytes there (the
/// estimates stay, for sketches that are absent). All or nothing: on error
/// the fingerprint is left as it was.
fn take_sketches(
    fingerprint: &mut pb::EnvironmentFingerprint,
) -> Result<Vec<TakenSketch>, SketchError> {
    let mut taken = Vec::new();
    walk_sketches(fingerprint, &mut |at, sketch| {
        let place = match (at, sketch) {
            (At::Instances { .. }, SketchRef::Hll(bytes)) => {
                Place::Instances(decode_hll(bytes).map_err(|r| at.error(r))?)
            }
            (At::Series { metric, .. }, SketchRef::Hll(bytes)) => Place::Series {
                metric: metric.to_owned(),
                hll: decode_hll(bytes).map_err(|r| at.error(r))?,
            },
            (At::KeyValues { metric, key, .. }, SketchRef::Hll(bytes)) => Place::KeyValues {
                metric: metric.to_owned(),
                key: key.to_owned(),
                hll: decode_hll(bytes).map_err(|r| at.error(r))?,
            },
            (
                At::Duration {
                    operation, kind, ..
                },
                SketchRef::Hdr { bytes, .. },
            ) => Place::Duration {
                operation: operation.to_owned(),
                kind,
                histogram: decode_hdr(bytes).map_err(|r| at.error(r))?,
            },
            _ => unreachable!("walk_sketches pairs HDR with durations, HLL with the rest"),
        };
        taken.push(TakenSketch {
            service: at.service().to_owned(),
            place,
        });
        Ok(())
    })?;
    clear_sketches(fingerprint);
    Ok(taken)
}

/// Empties every sketch's bytes, keeping the estimates and counts.
fn clear_sketches(fingerprint: &mut pb::EnvironmentFingerprint) {
    for service in fingerprint.services.values_mut() {
        if let Some(instances) = service.resource.as_mut().and_then(|r| r.instances.as_mut()) {
            instances.hll = Vec::new();
        }
        for metric in service.metrics.values_mut() {
            if let Some(series) = metric.series.as_mut() {
                series.hll = Vec::new();
            }
            for shape in metric.attribute_keys.values_mut() {
                if let Some(values) = shape.values.as_mut() {
                    values.hll = Vec::new();
                }
            }
        }
        for operation in &mut service.span_operations {
            if let Some(duration) = operation.duration.as_mut() {
                duration.hdr = Vec::new();
            }
        }
    }
}

#[cfg(test)]
mod tests;
