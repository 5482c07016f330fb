//! Metrics: definitions (name, type, unit, temporality, buckets), label keys
//! and series cardinality, per metric name.

use std::collections::BTreeMap;

use otel_parity_proto::v1 as pb;

use super::semconv::{self, Renamed};
use super::{Pair, dominant, present_absent, scale};
use crate::report::{Dimension, ParityFinding, Severity};

/// Dashboards, alerts and SLOs query metrics by name: a baseline metric the
/// candidate lacks means they cannot be exercised there.
const MISSING_METRIC: Severity = Severity::High;
/// Another type (or a counter turned up-down counter) changes every query's
/// semantics (rate vs value vs quantile).
const TYPE_DIFFERS: Severity = Severity::High;
/// Another unit silently scales every threshold (ms vs s) or breaks units
/// math.
const UNIT_DIFFERS: Severity = Severity::High;
/// Backends usually convert between delta and cumulative; queries still work,
/// but rates and resets behave differently.
const TEMPORALITY_DIFFERS: Severity = Severity::Medium;
/// Other bucket bounds keep the metric usable but make quantiles and SLO
/// bucket thresholds (le="0.5") not comparable.
const BUCKETS_DIFFER: Severity = Severity::Medium;
/// A candidate-only metric harms nothing in the baseline.
const CANDIDATE_ONLY_METRIC: Severity = Severity::Info;
/// A label the baseline has and the candidate lacks breaks `by (key)`
/// aggregations and filters, but the metric itself still works.
const MISSING_LABEL_KEY: Severity = Severity::Medium;
/// An extra label in the candidate adds series but breaks no query.
const EXTRA_LABEL_KEY: Severity = Severity::Low;
/// A cardinality explosion costs money and slows queries, and typically
/// comes from an unbounded label; it breaks nothing by itself.
const CARDINALITY_EXPLOSION: Severity = Severity::Medium;

/// Candidate series above this multiple of the baseline's are an explosion:
/// scale (fewer instances, less traffic) only ever lowers cardinality.
const EXPLOSION_RATIO: f64 = 10.0;
/// … and only past this many series, so that 1 → 12 series is not one.
const EXPLOSION_MIN_SERIES: f64 = 50.0;

pub(super) fn compare(pair: &Pair, out: &mut Vec<ParityFinding>) {
    let renamed = semconv::renamed_metrics(&pair.baseline.metrics, &pair.candidate.metrics);
    for (name, base) in &pair.baseline.metrics {
        if let Some(cand) = pair.candidate.metrics.get(name) {
            definitions(pair, name, base, cand, None, out);
            label_keys(pair, name, base, cand, None, out);
            cardinality(pair, name, base, cand, out);
            continue;
        }
        if let Some(r) = renamed.iter().find(|r| r.base_name == name) {
            // One semconv finding for the rename; what else differs is its own.
            if let Some(cand) = pair.candidate.metrics.get(r.cand_name) {
                definitions(pair, name, base, cand, Some(r), out);
                label_keys(pair, name, base, cand, Some(r), out);
                cardinality(pair, name, base, cand, out);
            }
            continue;
        }
        missing(pair, name, base, out);
    }
    semconv::compare(pair, &renamed, out);
    for name in pair.candidate.metrics.keys() {
        if !pair.baseline.metrics.contains_key(name) && !renamed.iter().any(|r| r.cand_name == name)
        {
            out.push(pair.finding(
                Dimension::MetricDefinitions,
                CANDIDATE_ONLY_METRIC,
                name.as_str(),
                ("absent".to_owned(), "present".to_owned()),
                format!("metric recorded in {} only", pair.cand_env()),
            ));
        }
    }
}

/// A baseline metric the candidate lacks: high, unless fewer than a handful
/// of the candidate's exports were expected to carry it (see `scale`).
fn missing(pair: &Pair, name: &str, base: &pb::MetricShape, out: &mut Vec<ParityFinding>) {
    let (expected, unit) = scale::expected_metric(base, pair.baseline, pair.candidate);
    let severity = scale::unless_expected_few(MISSING_METRIC, expected);
    let mut message = format!(
        "{} metric ({}) recorded in {}, absent in {}",
        type_name(base).unwrap_or_else(|| "a".to_owned()),
        unit_name(base).map_or("no unit".to_owned(), |u| format!("unit {u}")),
        pair.base_env(),
        pair.cand_env()
    );
    if let Some(expected) = expected {
        let (base_units, cand_units) = if unit == "exports" {
            (
                scale::metric_exports(pair.baseline),
                scale::metric_exports(pair.candidate),
            )
        } else {
            let points =
                |s: &pb::ServiceFingerprint| s.metrics.values().map(|m| m.data_points).sum();
            (points(pair.baseline), points(pair.candidate))
        };
        let seen = if unit == "exports" {
            base.exports
        } else {
            base.data_points
        };
        message.push_str(&format!(
            ": in {seen} of {base_units} {unit} in {}, so {} of {}'s {cand_units} {unit} should carry it",
            pair.base_env(),
            scale::count_text(expected),
            pair.cand_env()
        ));
        if severity == Severity::Info {
            message.push_str(" (too few to tell: scale)");
        }
    }
    out.push(pair.finding(
        Dimension::MetricDefinitions,
        severity,
        name,
        present_absent(),
        message,
    ));
}

/// Type, unit, temporality and buckets; under a rename (`renamed`) the
/// unit change and the bucket bounds that follow it are the rename's.
fn definitions(
    pair: &Pair,
    name: &str,
    base: &pb::MetricShape,
    cand: &pb::MetricShape,
    renamed: Option<&Renamed>,
    out: &mut Vec<ParityFinding>,
) {
    let unit_renamed = renamed.is_some_and(|r| r.unit_changed(base, cand));
    let mut differs = |severity, what: &str, b: String, c: String| {
        let message = pair.both(what, &b, &c);
        out.push(pair.finding(
            Dimension::MetricDefinitions,
            severity,
            name,
            (b, c),
            message,
        ));
    };
    if let (Some(b), Some(c)) = (type_name(base), type_name(cand))
        && b != c
    {
        differs(TYPE_DIFFERS, "type", b, c);
    }
    if let (Some(b), Some(c)) = (unit_name(base), unit_name(cand))
        && b != c
        && !unit_renamed
    {
        differs(UNIT_DIFFERS, "unit", b, c);
    }
    if let (Some(b), Some(c)) = (dominant(&base.temporalities), dominant(&cand.temporalities))
        && b != c
    {
        differs(
            TEMPORALITY_DIFFERS,
            "temporality",
            b.to_owned(),
            c.to_owned(),
        );
    }
    if let (Some(b), Some(c)) = (dominant_layout(base), dominant_layout(cand))
        && b.bounds != c.bounds
        && !unit_renamed
    {
        differs(
            BUCKETS_DIFFER,
            "bucket bounds",
            bounds_text(&b.bounds),
            bounds_text(&c.bounds),
        );
    }
}

/// Missing and extra label keys; under a rename (`renamed`) a key renamed
/// the same way is the rename's, not a difference of its own.
fn label_keys(
    pair: &Pair,
    name: &str,
    base: &pb::MetricShape,
    cand: &pb::MetricShape,
    renamed: Option<&Renamed>,
    out: &mut Vec<ParityFinding>,
) {
    let renamed_key = |base_key: &str| renamed.and_then(|r| r.renamed_key(base_key, cand));
    for (key, shape) in &base.attribute_keys {
        if cand.attribute_keys.contains_key(key) || renamed_key(key).is_some() {
            continue;
        }
        let severity = scale::unless_scale(
            MISSING_LABEL_KEY,
            shape.count,
            base.data_points,
            cand.data_points,
        );
        let message = format!(
            "label key on {} of {}'s data points, absent in {}",
            super::pct(share(shape.count, base.data_points)),
            pair.base_env(),
            pair.cand_env()
        );
        out.push(pair.finding(
            Dimension::LabelKeys,
            severity,
            format!("{name}{{{key}}}"),
            present_absent(),
            message,
        ));
    }
    for (key, shape) in &cand.attribute_keys {
        let from_rename =
            renamed.is_some_and(|r| base.attribute_keys.keys().any(|b| r.keys_renamed(b, key)));
        if base.attribute_keys.contains_key(key) || from_rename {
            continue;
        }
        // Symmetric to a missing key: a key on a sliver of the candidate's
        // points may just not have occurred in the baseline.
        let severity = scale::unless_scale(
            EXTRA_LABEL_KEY,
            shape.count,
            cand.data_points,
            base.data_points,
        );
        let message = format!(
            "label key on {} of {}'s data points, absent in {}",
            super::pct(share(shape.count, cand.data_points)),
            pair.cand_env(),
            pair.base_env()
        );
        out.push(pair.finding(
            Dimension::LabelKeys,
            severity,
            format!("{name}{{{key}}}"),
            ("absent".to_owned(), "present".to_owned()),
            message,
        ));
    }
}

fn cardinality(
    pair: &Pair,
    name: &str,
    base: &pb::MetricShape,
    cand: &pb::MetricShape,
    out: &mut Vec<ParityFinding>,
) {
    let (Some(b), Some(c)) = (estimate(&base.series), estimate(&cand.series)) else {
        return;
    };
    if b <= 0.0 || c / b <= EXPLOSION_RATIO || c < EXPLOSION_MIN_SERIES {
        return;
    }
    let mut message = format!(
        "≈{c:.0} series in {}, {:.0}× the ≈{b:.0} of {}",
        pair.cand_env(),
        c / b,
        pair.base_env()
    );
    if let Some((key, kb, kc)) = fastest_growing_key(base, cand) {
        let in_baseline = if base.attribute_keys.contains_key(key) {
            format!("≈{kb:.0} in {}", pair.base_env())
        } else {
            format!("absent in {}", pair.base_env())
        };
        message.push_str(&format!(
            "; label {key} has ≈{kc:.0} values in {}, {in_baseline}",
            pair.cand_env()
        ));
    }
    out.push(pair.finding(
        Dimension::Cardinality,
        CARDINALITY_EXPLOSION,
        name,
        (format!("≈{b:.0} series"), format!("≈{c:.0} series")),
        message,
    ));
}

/// The key whose value cardinality grew the most (candidate-only keys count
/// from one value).
fn fastest_growing_key<'a>(
    base: &pb::MetricShape,
    cand: &'a pb::MetricShape,
) -> Option<(&'a str, f64, f64)> {
    cand.attribute_keys
        .iter()
        .filter_map(|(key, shape)| {
            let c = estimate(&shape.values)?;
            let b = base
                .attribute_keys
                .get(key)
                .and_then(|s| estimate(&s.values))
                .unwrap_or(1.0)
                .max(1.0);
            (c / b > 2.0).then_some((key.as_str(), b, c))
        })
        .max_by(|x, y| (x.2 / x.1).total_cmp(&(y.2 / y.1)))
}

fn estimate(cardinality: &Option<pb::Cardinality>) -> Option<f64> {
    cardinality
        .as_ref()
        .map(|c| c.estimate)
        .filter(|e| e.is_finite())
}

fn share(count: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

/// The dominant type; sums say whether they are monotonic (Counter) or not
/// (UpDownCounter), which is an instrument difference too.
fn type_name(metric: &pb::MetricShape) -> Option<String> {
    let kind = dominant(&metric.types)?;
    if kind != "sum" {
        return Some(kind.to_owned());
    }
    Some(
        match metric.monotonic_points.cmp(&metric.non_monotonic_points) {
            std::cmp::Ordering::Greater => "sum (monotonic)",
            std::cmp::Ordering::Less => "sum (non-monotonic)",
            std::cmp::Ordering::Equal => "sum",
        }
        .to_owned(),
    )
}

fn unit_name(metric: &pb::MetricShape) -> Option<String> {
    dominant(&metric.units).map(|u| {
        if u.is_empty() {
            "(none)".to_owned()
        } else {
            u.to_owned()
        }
    })
}

fn dominant_layout(metric: &pb::MetricShape) -> Option<&pb::BucketLayout> {
    let mut best: Option<&pb::BucketLayout> = None;
    for layout in &metric.bucket_layouts {
        if best.is_none_or(|b| layout.data_points > b.data_points) {
            best = Some(layout);
        }
    }
    best
}

/// `[0.005, 0.01, …, 10] (15 bounds)`: enough to recognise a layout.
fn bounds_text(bounds: &[f64]) -> String {
    let show = |values: &[f64]| {
        values
            .iter()
            .map(|b| format!("{b}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if bounds.len() <= 8 {
        return format!("[{}]", show(bounds));
    }
    let head = &bounds[..4];
    let tail = &bounds[bounds.len() - 2..];
    format!(
        "[{}, …, {}] ({} bounds)",
        show(head),
        show(tail),
        bounds.len()
    )
}

/// Names of the baseline's metrics present in the candidate, for scores; a
/// metric the candidate emits under a renamed name (`semconv`) is present.
pub(super) fn name_coverage(
    base: &BTreeMap<String, pb::MetricShape>,
    cand: &BTreeMap<String, pb::MetricShape>,
) -> (usize, usize) {
    let renamed = semconv::renamed_metrics(base, cand);
    let present = base
        .keys()
        .filter(|k| cand.contains_key(*k) || renamed.iter().any(|r| r.base_name == *k))
        .count();
    (present, base.len())
}

/// The candidate's metric for baseline metric `name` (itself, or its
/// renamed partner), and the rename if any, for scores.
pub(super) fn candidate_metric<'a>(
    name: &str,
    base: &'a BTreeMap<String, pb::MetricShape>,
    cand: &'a BTreeMap<String, pb::MetricShape>,
) -> Option<(&'a pb::MetricShape, Option<Renamed<'a>>)> {
    if let Some(metric) = cand.get(name) {
        return Some((metric, None));
    }
    let renamed = semconv::renamed_metrics(base, cand)
        .into_iter()
        .find(|r| r.base_name == name)?;
    Some((cand.get(renamed.cand_name)?, Some(renamed)))
}
