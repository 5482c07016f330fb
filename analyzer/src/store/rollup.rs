//! Rollups: pushes merged, as they arrive, per environment and time bucket.
//! The functions here are the same for every backend: a roll-up pass turns
//! pending pushes into updated rollup rows, and a range read merges rows.
//!
//! A pass takes each push decoded (as the push service handed it over) or
//! decodes it once, merges the pushes of one minute with live
//! sketches ([`Accumulator`]), then adds that minute's delta to its minute
//! row and to its hour row: each row is decoded and encoded once per pass,
//! however many pushes it absorbs.

use std::collections::BTreeMap;

use datasketches::hll::{HllSketch, HllType, HllUnion};
use otel_parity_model::accumulate::Accumulator;
use otel_parity_model::sketch::VALUES_LG_K;
use otel_parity_proto::v1::EnvironmentFingerprint;
use prost::Message;

use super::buckets::Level;

/// A stored push that is not yet part of any rollup.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingPush {
    /// The backend's id of the pending row.
    pub id: i64,
    /// The push's environment.
    pub environment: String,
    /// The receiver that sent it.
    pub receiver_instance: String,
    /// The push's window, Unix nanoseconds.
    pub window_start: u64,
    /// End of the window, Unix nanoseconds.
    pub window_end: u64,
    /// The `EnvironmentFingerprint`, protobuf-encoded.
    pub fingerprint: Vec<u8>,
}

/// Which rollup row: an environment's bucket at one level.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    /// The environment.
    pub environment: String,
    /// Minute or hour.
    pub level: Level,
    /// Start of the bucket, Unix nanoseconds.
    pub bucket_start: u64,
}

/// One rollup row as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupRow {
    /// Which row.
    pub key: RollupKey,
    /// Pushes merged into it.
    pub pushes: u64,
    /// Earliest window start among them, Unix nanoseconds.
    pub window_start: u64,
    /// Latest window end among them, Unix nanoseconds.
    pub window_end: u64,
    /// HLL sketch over the receiver instances that pushed (serialized).
    pub receivers: Vec<u8>,
    /// The merged `EnvironmentFingerprint`, protobuf-encoded.
    pub fingerprint: Vec<u8>,
}

/// What one roll-up pass produced, to be written in one transaction.
#[derive(Debug, Default)]
pub struct RollupPass {
    /// New contents of every row the pass touched.
    pub rows: Vec<RollupRow>,
    /// Pending pushes now part of `rows`: delete them in the same transaction.
    pub consumed: Vec<i64>,
    /// Pending pushes that could not be read (id, reason); they are consumed
    /// too (retrying cannot fix them) and reported by the caller.
    pub unreadable: Vec<(i64, String)>,
}

/// A row that could not be read back while rolling up or reporting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "rollup of environment {environment:?} ({level:?} bucket at {bucket_start}) is corrupt: {reason}"
)]
pub struct CorruptRollup {
    /// The row's environment.
    pub environment: String,
    /// The row's level.
    pub level: Level,
    /// The row's bucket start.
    pub bucket_start: u64,
    /// Why it does not decode.
    pub reason: String,
}

/// Merges `pending` into the rollup rows they belong to; `decoded` holds
/// some of them already decoded, by id (the others are decoded here);
/// `existing` reads a row's current contents (the pass adds to them).
pub fn roll_up<E: From<CorruptRollup>>(
    pending: Vec<PendingPush>,
    decoded: BTreeMap<i64, EnvironmentFingerprint>,
    mut existing: impl FnMut(&RollupKey) -> Result<Option<RollupRow>, E>,
) -> Result<RollupPass, E> {
    let pass = PassInProgress::start(pending, decoded);
    let mut current = BTreeMap::new();
    for key in pass.keys() {
        if let Some(row) = existing(&key)? {
            current.insert(key, row);
        }
    }
    Ok(pass.finish(current)?)
}

/// A roll-up pass whose pushes are merged per minute, waiting for the
/// current contents of the rows it will update (a backend that locks rows
/// reads them, locked, in [`PassInProgress::keys`] order).
pub struct PassInProgress {
    minutes: BTreeMap<RollupKey, Delta>,
    consumed: Vec<i64>,
    unreadable: Vec<(i64, String)>,
}

impl PassInProgress {
    /// Merges `pending` per minute, each decoded once unless `decoded`
    /// already holds it (by id).
    pub fn start(
        pending: Vec<PendingPush>,
        mut decoded: BTreeMap<i64, EnvironmentFingerprint>,
    ) -> PassInProgress {
        let mut pass = PassInProgress {
            minutes: BTreeMap::new(),
            consumed: Vec::new(),
            unreadable: Vec::new(),
        };
        for push in pending {
            let fingerprint = match decoded.remove(&push.id).map_or_else(
                || EnvironmentFingerprint::decode(push.fingerprint.as_slice()),
                Ok,
            ) {
                Ok(fingerprint) => fingerprint,
                Err(error) => {
                    pass.unreadable
                        .push((push.id, format!("does not decode: {error}")));
                    continue;
                }
            };
            let key = RollupKey {
                environment: push.environment.clone(),
                level: Level::Minute,
                bucket_start: Level::Minute.bucket_of(push.window_start),
            };
            let delta = pass.minutes.entry(key).or_insert_with(Delta::new);
            match delta.accumulator.add(fingerprint) {
                Ok(()) => {
                    delta.pushes += 1;
                    delta.window_start = delta.window_start.min(push.window_start);
                    delta.window_end = delta.window_end.max(push.window_end);
                    delta.receivers.update(push.receiver_instance.as_str());
                    pass.consumed.push(push.id);
                }
                Err(error) => pass.unreadable.push((push.id, error.to_string())),
            }
        }
        pass
    }

    /// The rows this pass updates, sorted (lock them in this order).
    pub fn keys(&self) -> Vec<RollupKey> {
        let mut keys: Vec<RollupKey> = self
            .minutes
            .keys()
            .flat_map(|minute| [minute.clone(), hour_of(minute)])
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Whether the pass has nothing to write.
    pub fn is_empty(&self) -> bool {
        self.consumed.is_empty() && self.unreadable.is_empty()
    }

    /// Adds each minute's delta to its minute row and its hour row, given
    /// the rows' current contents (absent: a new row).
    pub fn finish(
        self,
        mut current: BTreeMap<RollupKey, RollupRow>,
    ) -> Result<RollupPass, CorruptRollup> {
        let mut targets: BTreeMap<RollupKey, Vec<FinishedDelta>> = BTreeMap::new();
        for (minute, delta) in self.minutes {
            let Some(finished) = delta.finish() else {
                continue;
            };
            targets
                .entry(hour_of(&minute))
                .or_default()
                .push(finished.clone());
            targets.entry(minute).or_default().push(finished);
        }
        let mut rows = Vec::with_capacity(targets.len());
        for (key, deltas) in targets {
            let existing = current.remove(&key);
            rows.push(merge_into_row(key, existing, deltas)?);
        }
        let mut consumed = self.consumed;
        consumed.extend(self.unreadable.iter().map(|(id, _)| *id));
        Ok(RollupPass {
            rows,
            consumed,
            unreadable: self.unreadable,
        })
    }
}

fn hour_of(minute: &RollupKey) -> RollupKey {
    RollupKey {
        environment: minute.environment.clone(),
        level: Level::Hour,
        bucket_start: Level::Hour.bucket_of(minute.bucket_start),
    }
}

/// The pushes of one bucket within one pass.
struct Delta {
    accumulator: Accumulator,
    pushes: u64,
    window_start: u64,
    window_end: u64,
    receivers: HllSketch,
}

/// A delta with its fingerprint encoded once for the rows it goes into.
#[derive(Clone)]
struct FinishedDelta {
    fingerprint: EnvironmentFingerprint,
    pushes: u64,
    window_start: u64,
    window_end: u64,
    receivers: Vec<u8>,
}

impl Delta {
    fn new() -> Delta {
        Delta {
            accumulator: Accumulator::new(),
            pushes: 0,
            window_start: u64::MAX,
            window_end: 0,
            receivers: new_receivers_sketch(),
        }
    }

    fn finish(self) -> Option<FinishedDelta> {
        let receivers = self.receivers.serialize();
        Some(FinishedDelta {
            fingerprint: self.accumulator.finish()?,
            pushes: self.pushes,
            window_start: self.window_start,
            window_end: self.window_end,
            receivers,
        })
    }
}

fn new_receivers_sketch() -> HllSketch {
    match HllSketch::new(VALUES_LG_K, HllType::Hll4) {
        Ok(sketch) => sketch,
        Err(_) => unreachable!("VALUES_LG_K is within DataSketches' 4..=21"),
    }
}

fn new_receivers_union() -> HllUnion {
    match HllUnion::new(VALUES_LG_K) {
        Ok(union) => union,
        Err(_) => unreachable!("VALUES_LG_K is within DataSketches' 4..=21"),
    }
}

fn merge_into_row(
    key: RollupKey,
    current: Option<RollupRow>,
    deltas: Vec<FinishedDelta>,
) -> Result<RollupRow, CorruptRollup> {
    let mut merged = RangeMerge::new();
    if let Some(row) = current {
        merged.add(&row)?;
    }
    for delta in deltas {
        merged.pushes += delta.pushes;
        merged.window_start = merged.window_start.min(delta.window_start);
        merged.window_end = merged.window_end.max(delta.window_end);
        merged.add_receivers(&key, &delta.receivers)?;
        merged
            .accumulator
            .add(delta.fingerprint)
            .map_err(|e| corrupt(&key, e.to_string()))?;
    }
    let receivers = merged.receivers_sketch().serialize();
    let (pushes, window_start, window_end) =
        (merged.pushes, merged.window_start, merged.window_end);
    let fingerprint = merged.accumulator.finish().unwrap_or_default();
    Ok(RollupRow {
        key,
        pushes,
        window_start,
        window_end,
        receivers,
        fingerprint: fingerprint.encode_to_vec(),
    })
}

fn corrupt(key: &RollupKey, reason: String) -> CorruptRollup {
    CorruptRollup {
        environment: key.environment.clone(),
        level: key.level,
        bucket_start: key.bucket_start,
        reason,
    }
}

/// Rollup rows merged: what a report over a range reads.
pub struct RangeMerge {
    accumulator: Accumulator,
    receivers: Option<HllUnion>,
    /// Pushes in all rows.
    pub pushes: u64,
    /// Earliest window start, Unix nanoseconds (`u64::MAX` while empty).
    pub window_start: u64,
    /// Latest window end, Unix nanoseconds.
    pub window_end: u64,
}

impl Default for RangeMerge {
    fn default() -> Self {
        RangeMerge::new()
    }
}

impl RangeMerge {
    /// Nothing merged yet.
    pub fn new() -> RangeMerge {
        RangeMerge {
            accumulator: Accumulator::new(),
            receivers: None,
            pushes: 0,
            window_start: u64::MAX,
            window_end: 0,
        }
    }

    /// Adds one row.
    pub fn add(&mut self, row: &RollupRow) -> Result<(), CorruptRollup> {
        let fingerprint = EnvironmentFingerprint::decode(row.fingerprint.as_slice())
            .map_err(|e| corrupt(&row.key, format!("fingerprint does not decode: {e}")))?;
        self.accumulator
            .add(fingerprint)
            .map_err(|e| corrupt(&row.key, e.to_string()))?;
        self.add_receivers(&row.key, &row.receivers)?;
        self.pushes += row.pushes;
        self.window_start = self.window_start.min(row.window_start);
        self.window_end = self.window_end.max(row.window_end);
        Ok(())
    }

    fn add_receivers(&mut self, key: &RollupKey, bytes: &[u8]) -> Result<(), CorruptRollup> {
        let sketch = HllSketch::deserialize(bytes)
            .map_err(|e| corrupt(key, format!("receivers sketch does not decode: {e}")))?;
        self.receivers
            .get_or_insert_with(new_receivers_union)
            .update(&sketch);
        Ok(())
    }

    /// Adds one pending push; its fingerprint or sketches may not decode.
    pub fn add_push(&mut self, push: PendingPush) -> Result<(), String> {
        let fingerprint = EnvironmentFingerprint::decode(push.fingerprint.as_slice())
            .map_err(|e| format!("pending push {} does not decode: {e}", push.id))?;
        self.accumulator
            .add(fingerprint)
            .map_err(|e| format!("pending push {}: {e}", push.id))?;
        self.count_receivers(&[], Some(&push.receiver_instance));
        self.pushes += 1;
        self.window_start = self.window_start.min(push.window_start);
        self.window_end = self.window_end.max(push.window_end);
        Ok(())
    }

    /// Counts receivers: a serialized receivers sketch (ignored when empty or
    /// unreadable: totals are for display) and/or one receiver instance.
    pub fn count_receivers(&mut self, sketch: &[u8], instance: Option<&str>) {
        let union = self.receivers.get_or_insert_with(new_receivers_union);
        if !sketch.is_empty()
            && let Ok(sketch) = HllSketch::deserialize(sketch)
        {
            union.update(&sketch);
        }
        if let Some(instance) = instance {
            let mut one = new_receivers_sketch();
            one.update(instance);
            union.update(&one);
        }
    }

    fn receivers_sketch(&self) -> HllSketch {
        match &self.receivers {
            Some(union) => union.to_sketch(HllType::Hll4),
            None => new_receivers_sketch(),
        }
    }

    /// Distinct receivers among the merged rows (exact for small fleets,
    /// within ~2% beyond).
    pub fn receivers(&self) -> u64 {
        self.receivers_sketch().estimate().round() as u64
    }

    /// Rows merged so far.
    pub fn rows(&self) -> u64 {
        self.accumulator.added()
    }

    /// The merged fingerprint; `None` when no row was added.
    pub fn finish(self) -> Option<EnvironmentFingerprint> {
        self.accumulator.finish()
    }
}
