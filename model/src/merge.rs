//! Merging fingerprints: many receiver replicas of one environment, or many
//! windows of one receiver, combine into one fingerprint. Counts add, maps
//! union (adding their counts), HyperLogLog and HDR sketches union.
//!
//! A sketch that cannot be read is an error naming it, never left out: a
//! merge that went on without it would report a distinct count or a
//! percentile as if it covered data it does not. On an error, `into` is
//! partly merged and should be dropped.

use std::collections::BTreeMap;

use datasketches::hll::{HllSketch, HllType, HllUnion};
use otel_parity_proto::v1 as pb;

use crate::check::sketches::{At, SketchError};
use crate::sketch::{MAX_LG_K, decode_hdr, decode_hll, duration_proto};

/// Adds `from` into `into`: the fingerprint of both windows or replicas.
pub fn merge_environment(
    into: &mut pb::EnvironmentFingerprint,
    from: &pb::EnvironmentFingerprint,
) -> Result<(), SketchError> {
    for (key, service) in &from.services {
        match into.services.get_mut(key) {
            Some(existing) => merge_service_at(key, existing, service)?,
            None => {
                into.services.insert(key.clone(), service.clone());
            }
        }
    }
    merge_overflow(&mut into.overflow, &from.overflow);
    Ok(())
}

/// Adds one service's fingerprint into another's.
pub fn merge_service(
    into: &mut pb::ServiceFingerprint,
    from: &pb::ServiceFingerprint,
) -> Result<(), SketchError> {
    let key = if into.namespace.is_empty() {
        into.name.clone()
    } else {
        format!("{}/{}", into.namespace, into.name)
    };
    merge_service_at(&key, into, from)
}

/// [`merge_service`] of the service listed under `key` (named in errors).
fn merge_service_at(
    key: &str,
    into: &mut pb::ServiceFingerprint,
    from: &pb::ServiceFingerprint,
) -> Result<(), SketchError> {
    match (into.resource.as_mut(), &from.resource) {
        (Some(a), Some(b)) => merge_resource(key, a, b)?,
        (None, Some(b)) => into.resource = Some(b.clone()),
        (_, None) => {}
    }
    for (name, metric) in &from.metrics {
        match into.metrics.get_mut(name) {
            Some(existing) => merge_metric(key, name, existing, metric)?,
            None => {
                into.metrics.insert(name.clone(), metric.clone());
            }
        }
    }
    merge_operations(key, &mut into.span_operations, &from.span_operations)?;
    merge_edges(&mut into.edges, &from.edges);
    merge_option(&mut into.sampling, &from.sampling, merge_sampling);
    merge_option(&mut into.logs, &from.logs, merge_logs);
    merge_option(&mut into.ingestion, &from.ingestion, |a, b| {
        merge_option(&mut a.traces, &b.traces, merge_signal);
        merge_option(&mut a.metrics, &b.metrics, merge_signal);
        merge_option(&mut a.logs, &b.logs, merge_signal);
    });
    merge_overflow(&mut into.overflow, &from.overflow);
    Ok(())
}

fn merge_option<T: Clone>(into: &mut Option<T>, from: &Option<T>, merge: impl FnOnce(&mut T, &T)) {
    match (into.as_mut(), from) {
        (Some(a), Some(b)) => merge(a, b),
        (None, Some(b)) => *into = Some(b.clone()),
        (_, None) => {}
    }
}

fn merge_map<V: Clone>(
    into: &mut BTreeMap<String, V>,
    from: &BTreeMap<String, V>,
    merge: impl Fn(&mut V, &V),
) {
    for (key, value) in from {
        match into.get_mut(key) {
            Some(existing) => merge(existing, value),
            None => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    merge_map(into, from, |a, b| *a += b);
}

fn merge_signal(a: &mut pb::SignalIngestion, b: &pb::SignalIngestion) {
    a.items += b.items;
    a.requests += b.requests;
    a.bytes += b.bytes;
}

fn merge_overflow(into: &mut Option<pb::Overflow>, from: &Option<pb::Overflow>) {
    merge_option(into, from, merge_overflow_counts);
}

/// Adds `b`'s overflow counts to `a`'s, cap by cap.
pub fn merge_overflow_counts(a: &mut pb::Overflow, b: &pb::Overflow) {
    a.services += b.services;
    a.metric_names += b.metric_names;
    a.span_operations += b.span_operations;
    a.attribute_keys += b.attribute_keys;
    a.allowed_values += b.allowed_values;
    a.event_names += b.event_names;
    a.bucket_layouts += b.bucket_layouts;
    a.units += b.units;
    a.scopes += b.scopes;
    a.edges += b.edges;
    a.environments += b.environments;
    a.request_series += b.request_series;
    a.span_cache += b.span_cache;
}

fn merge_resource(
    service: &str,
    a: &mut pb::ResourceShape,
    b: &pb::ResourceShape,
) -> Result<(), SketchError> {
    a.resources += b.resources;
    add_counts(&mut a.attribute_keys, &b.attribute_keys);
    merge_map(&mut a.allowed_values, &b.allowed_values, |x, y| {
        add_counts(&mut x.values, &y.values)
    });
    merge_map(&mut a.scopes, &b.scopes, |x, y| {
        x.count += y.count;
        add_counts(&mut x.versions, &y.versions);
        add_counts(&mut x.schema_urls, &y.schema_urls);
    });
    add_counts(&mut a.schema_urls, &b.schema_urls);
    let at = At::Instances { service };
    merge_sketch(&mut a.instances, &b.instances, merge_cardinality, at)
}

/// Merges an optional sketch, naming it at `at` when it cannot be read.
fn merge_sketch<T: Clone>(
    into: &mut Option<T>,
    from: &Option<T>,
    merge: impl FnOnce(&mut T, &T) -> Result<(), String>,
    at: At<'_>,
) -> Result<(), SketchError> {
    match (into.as_mut(), from) {
        (Some(a), Some(b)) => merge(a, b).map_err(|reason| at.error(reason)),
        (None, Some(b)) => {
            *into = Some(b.clone());
            Ok(())
        }
        (_, None) => Ok(()),
    }
}

fn merge_metric(
    service: &str,
    metric: &str,
    a: &mut pb::MetricShape,
    b: &pb::MetricShape,
) -> Result<(), SketchError> {
    add_counts(&mut a.types, &b.types);
    add_counts(&mut a.units, &b.units);
    add_counts(&mut a.temporalities, &b.temporalities);
    a.monotonic_points += b.monotonic_points;
    a.non_monotonic_points += b.non_monotonic_points;
    for layout in &b.bucket_layouts {
        match a
            .bucket_layouts
            .iter_mut()
            .find(|l| same_bounds(&l.bounds, &layout.bounds))
        {
            Some(existing) => existing.data_points += layout.data_points,
            None => a.bucket_layouts.push(layout.clone()),
        }
    }
    a.bucket_layouts
        .sort_by(|x, y| compare_bounds(&x.bounds, &y.bounds));
    for (key, shape) in &b.attribute_keys {
        match a.attribute_keys.get_mut(key) {
            Some(existing) => {
                existing.count += shape.count;
                let at = At::KeyValues {
                    service,
                    metric,
                    key,
                };
                merge_sketch(&mut existing.values, &shape.values, merge_cardinality, at)?;
            }
            None => {
                a.attribute_keys.insert(key.clone(), shape.clone());
            }
        }
    }
    a.data_points += b.data_points;
    a.exports += b.exports;
    let at = At::Series { service, metric };
    merge_sketch(&mut a.series, &b.series, merge_cardinality, at)
}

/// Whether two explicit-bucket layouts have the same bounds. NaN bounds are the same
/// whatever their payload: snapshot files (proto3 JSON) keep only "NaN".
pub fn same_bounds(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || x == y || (x.is_nan() && y.is_nan()))
}

/// The order bucket layouts are listed in: bound by bound, then the shorter first. A total
/// order (`f64::total_cmp`): with NaN bounds, which OTLP requests can carry, an order that
/// calls them equal to everything makes `sort_by` panic.
pub fn compare_bounds(a: &[f64], b: &[f64]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|order| order.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

fn merge_operations(
    service: &str,
    into: &mut Vec<pb::SpanOperation>,
    from: &[pb::SpanOperation],
) -> Result<(), SketchError> {
    for op in from {
        match into
            .iter_mut()
            .find(|o| o.name == op.name && o.kind == op.kind)
        {
            Some(existing) => {
                existing.spans += op.spans;
                existing.errors += op.errors;
                add_counts(&mut existing.attribute_keys, &op.attribute_keys);
                add_counts(&mut existing.event_names, &op.event_names);
                existing.links += op.links;
                merge_option(&mut existing.propagation, &op.propagation, |a, b| {
                    a.remote_parent += b.remote_parent;
                    a.local_parent += b.local_parent;
                    a.root += b.root;
                });
                let at = At::Duration {
                    service,
                    operation: &op.name,
                    kind: op.kind,
                };
                merge_sketch(&mut existing.duration, &op.duration, merge_duration, at)?;
            }
            None => into.push(op.clone()),
        }
    }
    into.sort_by(|a, b| a.name.cmp(&b.name).then(a.kind.cmp(&b.kind)));
    Ok(())
}

fn edge_key(e: &pb::OperationEdge) -> (&str, &str, i32, &str, i32) {
    (
        &e.parent_service,
        &e.parent_operation,
        e.parent_kind,
        &e.child_operation,
        e.child_kind,
    )
}

fn merge_edges(into: &mut Vec<pb::OperationEdge>, from: &[pb::OperationEdge]) {
    for edge in from {
        match into.iter_mut().find(|e| edge_key(e) == edge_key(edge)) {
            Some(existing) => existing.count += edge.count,
            None => into.push(edge.clone()),
        }
    }
    into.sort_by(|a, b| edge_key(a).cmp(&edge_key(b)));
}

fn merge_sampling(a: &mut pb::Sampling, b: &pb::Sampling) {
    for threshold in &b.thresholds {
        match a
            .thresholds
            .iter_mut()
            .find(|t| t.threshold == threshold.threshold)
        {
            Some(existing) => existing.spans += threshold.spans,
            None => a.thresholds.push(threshold.clone()),
        }
    }
    a.thresholds.sort_by(|x, y| x.threshold.cmp(&y.threshold));
    a.spans_without_threshold += b.spans_without_threshold;
    a.server_spans += b.server_spans;
    a.server_spans_adjusted += b.server_spans_adjusted;
    a.server_spans_without_threshold += b.server_spans_without_threshold;
    a.request_metric_count += b.request_metric_count;
    a.inferred_rate = if a.server_spans > 0 && a.request_metric_count > 0 {
        a.server_spans as f64 / a.request_metric_count as f64
    } else {
        0.0
    };
}

fn merge_logs(a: &mut pb::LogShape, b: &pb::LogShape) {
    a.records += b.records;
    add_counts(&mut a.severities, &b.severities);
    add_counts(&mut a.attribute_keys, &b.attribute_keys);
    add_counts(&mut a.event_names, &b.event_names);
    add_counts(&mut a.body_kinds, &b.body_kinds);
    a.with_trace_id += b.with_trace_id;
}

/// Unions two HLL sketches; when neither side has one, the larger estimate
/// is the best lower bound. A sketch that does not decode is an error.
fn merge_cardinality(a: &mut pb::Cardinality, b: &pb::Cardinality) -> Result<(), String> {
    let decode = |bytes: &[u8]| (!bytes.is_empty()).then(|| decode_hll(bytes)).transpose();
    let sketches: Vec<HllSketch> = [decode(&a.hll)?, decode(&b.hll)?]
        .into_iter()
        .flatten()
        .collect();
    if sketches.is_empty() {
        a.estimate = a.estimate.max(b.estimate);
        return Ok(());
    }
    let lg_k = sketches
        .iter()
        .map(HllSketch::lg_config_k)
        .max()
        .unwrap_or(MAX_LG_K);
    let mut union =
        HllUnion::new(lg_k).map_err(|e| format!("no HLL union of precision {lg_k}: {e}"))?;
    for sketch in &sketches {
        union.update(sketch);
    }
    let merged = union.to_sketch(HllType::Hll4);
    a.estimate = merged.estimate().round();
    a.hll = merged.serialize();
    Ok(())
}

/// Adds two HDR duration histograms and recomputes their percentiles; a side
/// without histogram bytes leaves the other as it is. A histogram that does
/// not decode is an error.
fn merge_duration(a: &mut pb::DurationHistogram, b: &pb::DurationHistogram) -> Result<(), String> {
    let decode = |bytes: &[u8]| (!bytes.is_empty()).then(|| decode_hdr(bytes)).transpose();
    let merged = match (decode(&a.hdr)?, decode(&b.hdr)?) {
        (Some(mut left), Some(right)) => {
            left.auto(true);
            left.add(&right)
                .map_err(|e| format!("duration histograms do not add: {e:?}"))?;
            left
        }
        (None, Some(right)) => right,
        (_, None) => return Ok(()),
    };
    *a = duration_proto(&merged);
    Ok(())
}

#[cfg(test)]
mod tests;
