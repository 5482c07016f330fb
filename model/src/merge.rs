//! Merging fingerprints: many receiver replicas of one environment, or many
//! windows of one receiver, combine into one fingerprint. Counts add, maps
//! union (adding their counts), HyperLogLog and HDR sketches union.

use std::collections::BTreeMap;

use datasketches::hll::{HllSketch, HllType, HllUnion};
use hdrhistogram::serialization::Deserializer;
use otel_parity_proto::v1 as pb;

use crate::sketch::{MAX_LG_K, duration_proto};

/// Adds `from` into `into`: the fingerprint of both windows or replicas.
pub fn merge_environment(into: &mut pb::EnvironmentFingerprint, from: &pb::EnvironmentFingerprint) {
    for (key, service) in &from.services {
        match into.services.get_mut(key) {
            Some(existing) => merge_service(existing, service),
            None => {
                into.services.insert(key.clone(), service.clone());
            }
        }
    }
    merge_overflow(&mut into.overflow, &from.overflow);
}

/// Adds one service's fingerprint into another's.
pub fn merge_service(into: &mut pb::ServiceFingerprint, from: &pb::ServiceFingerprint) {
    merge_option(&mut into.resource, &from.resource, merge_resource);
    merge_map(&mut into.metrics, &from.metrics, merge_metric);
    merge_operations(&mut into.span_operations, &from.span_operations);
    merge_edges(&mut into.edges, &from.edges);
    merge_option(&mut into.sampling, &from.sampling, merge_sampling);
    merge_option(&mut into.logs, &from.logs, merge_logs);
    merge_option(&mut into.ingestion, &from.ingestion, |a, b| {
        merge_option(&mut a.traces, &b.traces, merge_signal);
        merge_option(&mut a.metrics, &b.metrics, merge_signal);
        merge_option(&mut a.logs, &b.logs, merge_signal);
    });
    merge_overflow(&mut into.overflow, &from.overflow);
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
}

fn merge_resource(a: &mut pb::ResourceShape, b: &pb::ResourceShape) {
    a.resources += b.resources;
    add_counts(&mut a.attribute_keys, &b.attribute_keys);
    merge_map(&mut a.allowed_values, &b.allowed_values, |x, y| {
        add_counts(&mut x.values, &y.values)
    });
    merge_option(&mut a.instances, &b.instances, merge_cardinality);
    merge_map(&mut a.scopes, &b.scopes, |x, y| {
        x.count += y.count;
        add_counts(&mut x.versions, &y.versions);
    });
}

fn merge_metric(a: &mut pb::MetricShape, b: &pb::MetricShape) {
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
    a.bucket_layouts.sort_by(|x, y| {
        x.bounds
            .partial_cmp(&y.bounds)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    merge_map(&mut a.attribute_keys, &b.attribute_keys, |x, y| {
        x.count += y.count;
        merge_option(&mut x.values, &y.values, merge_cardinality);
    });
    merge_option(&mut a.series, &b.series, merge_cardinality);
    a.data_points += b.data_points;
}

/// Whether two explicit-bucket layouts have the same bounds.
pub fn same_bounds(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || x == y)
}

fn merge_operations(into: &mut Vec<pb::SpanOperation>, from: &[pb::SpanOperation]) {
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
                merge_option(&mut existing.duration, &op.duration, merge_duration);
                merge_option(&mut existing.propagation, &op.propagation, |a, b| {
                    a.remote_parent += b.remote_parent;
                    a.local_parent += b.local_parent;
                    a.root += b.root;
                });
            }
            None => into.push(op.clone()),
        }
    }
    into.sort_by(|a, b| a.name.cmp(&b.name).then(a.kind.cmp(&b.kind)));
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

/// Unions two HLL sketches. A sketch that does not deserialize is ignored
/// (the other is kept), so one corrupt replica cannot erase the others; when
/// neither side has a sketch, the larger estimate is the best lower bound.
fn merge_cardinality(a: &mut pb::Cardinality, b: &pb::Cardinality) {
    let parse = |bytes: &[u8]| {
        (!bytes.is_empty())
            .then(|| HllSketch::deserialize(bytes).ok())
            .flatten()
    };
    let sketches: Vec<HllSketch> = [parse(&a.hll), parse(&b.hll)]
        .into_iter()
        .flatten()
        .collect();
    if sketches.is_empty() {
        a.estimate = a.estimate.max(b.estimate);
        return;
    }
    let lg_k = sketches
        .iter()
        .map(HllSketch::lg_config_k)
        .max()
        .unwrap_or(MAX_LG_K)
        .min(MAX_LG_K);
    let Ok(mut union) = HllUnion::new(lg_k) else {
        return;
    };
    for sketch in &sketches {
        union.update(sketch);
    }
    let merged = union.to_sketch(HllType::Hll4);
    a.estimate = merged.estimate().round();
    a.hll = merged.serialize();
}

/// Adds two HDR duration histograms and recomputes their percentiles.
fn merge_duration(a: &mut pb::DurationHistogram, b: &pb::DurationHistogram) {
    let parse = |bytes: &[u8]| {
        Deserializer::new()
            .deserialize::<u64, _>(&mut &bytes[..])
            .ok()
    };
    let merged = match (parse(&a.hdr), parse(&b.hdr)) {
        (Some(mut left), Some(right)) => {
            left.auto(true);
            if left.add(&right).is_err() {
                return;
            }
            left
        }
        (None, Some(right)) => right,
        _ => return,
    };
    *a = duration_proto(&merged);
}

#[cfg(test)]
mod tests {
    use hdrhistogram::Histogram;

    use super::*;

    fn cardinality(values: std::ops::Range<u64>) -> pb::Cardinality {
        let mut sketch = HllSketch::new(MAX_LG_K, HllType::Hll4).unwrap();
        for v in values {
            sketch.update(v);
        }
        pb::Cardinality {
            estimate: sketch.estimate().round(),
            hll: sketch.serialize(),
        }
    }

    fn duration(micros: &[u64]) -> pb::DurationHistogram {
        let mut h = Histogram::<u64>::new(2).unwrap();
        for m in micros {
            h.record(*m).unwrap();
        }
        duration_proto(&h)
    }

    #[test]
    fn cardinalities_union_instead_of_adding() {
        let mut a = cardinality(0..60_000);
        merge_cardinality(&mut a, &cardinality(40_000..100_000));
        assert!(
            (a.estimate - 100_000.0).abs() / 100_000.0 < 0.02,
            "{}",
            a.estimate
        );
    }

    #[test]
    fn corrupt_sketch_does_not_erase_the_other() {
        let mut a = cardinality(0..1_000);
        let corrupt = pb::Cardinality {
            estimate: 5.0,
            hll: vec![1, 2, 3],
        };
        merge_cardinality(&mut a, &corrupt);
        assert!((a.estimate - 1_000.0).abs() < 20.0, "{}", a.estimate);
    }

    #[test]
    fn estimates_without_sketches_merge_to_the_larger() {
        let mut a = pb::Cardinality {
            estimate: 3.0,
            hll: vec![],
        };
        merge_cardinality(
            &mut a,
            &pb::Cardinality {
                estimate: 5.0,
                hll: vec![],
            },
        );
        assert_eq!(
            a,
            pb::Cardinality {
                estimate: 5.0,
                hll: vec![]
            }
        );
    }

    #[test]
    fn durations_add_and_percentiles_follow() {
        let mut a = duration(&[1_000; 90]);
        merge_duration(&mut a, &duration(&[100_000; 10]));
        assert_eq!(a.count, 100);
        assert!((a.p50_us - 1_000.0).abs() <= 10.0, "{}", a.p50_us);
        assert!((a.p99_us - 100_000.0).abs() <= 1_000.0, "{}", a.p99_us);
    }

    #[test]
    fn services_operations_edges_and_counts_combine() {
        let op = |spans, errors| pb::SpanOperation {
            name: "POST /checkout".into(),
            kind: pb::SpanKind::Server as i32,
            spans,
            errors,
            attribute_keys: [("http.route".to_owned(), spans)].into(),
            duration: Some(duration(&[2_000])),
            propagation: Some(pb::Propagation {
                remote_parent: spans,
                ..Default::default()
            }),
            ..Default::default()
        };
        let edge = |count| pb::OperationEdge {
            parent_service: "shop/frontend".into(),
            parent_operation: "POST /checkout".into(),
            parent_kind: pb::SpanKind::Client as i32,
            child_operation: "POST /checkout".into(),
            child_kind: pb::SpanKind::Server as i32,
            count,
        };
        let service = |spans, errors, requests| pb::ServiceFingerprint {
            name: "checkout".into(),
            namespace: "shop".into(),
            span_operations: vec![op(spans, errors)],
            edges: vec![edge(spans)],
            sampling: Some(pb::Sampling {
                server_spans: spans,
                request_metric_count: requests,
                ..Default::default()
            }),
            ingestion: Some(pb::Ingestion {
                traces: Some(pb::SignalIngestion {
                    items: spans,
                    requests: 1,
                    bytes: 100,
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let env = |s: pb::ServiceFingerprint| pb::EnvironmentFingerprint {
            services: [("shop/checkout".to_owned(), s)].into(),
            overflow: Some(pb::Overflow {
                services: 1,
                ..Default::default()
            }),
        };
        let mut merged = env(service(30, 3, 40));
        merge_environment(&mut merged, &env(service(10, 1, 40)));
        let checkout = &merged.services["shop/checkout"];
        let op = &checkout.span_operations[0];
        assert_eq!((op.spans, op.errors), (40, 4));
        assert_eq!(op.attribute_keys["http.route"], 40);
        assert_eq!(op.propagation.unwrap().remote_parent, 40);
        assert_eq!(op.duration.as_ref().unwrap().count, 2);
        assert_eq!(checkout.edges.len(), 1);
        assert_eq!(checkout.edges[0].count, 40);
        let sampling = checkout.sampling.as_ref().unwrap();
        assert_eq!(sampling.inferred_rate, 0.5);
        assert_eq!(checkout.ingestion.unwrap().traces.unwrap().requests, 2);
        assert_eq!(merged.overflow.unwrap().services, 2);
    }
}
