//! Semantic-convention renames: a metric the baseline and the candidate
//! emit under the old and the new name of one rename of the conventions
//! (`http.server.duration` in ms with `http.method` against
//! `http.server.request.duration` in s with `http.request.method`), as an
//! environment on an older SDK or instrumentation does. One finding names
//! both names, both semconv versions (from the schema URLs, else the
//! release of the rename), the unit change and the label keys renamed with
//! it; the metric counts as present for coverage, and neither a missing
//! metric nor a candidate-only one is reported for it.

use std::collections::BTreeMap;

use otel_parity_model::semconv::{
    Rename, is_attribute_rename, metric_rename_between, schema_version,
};
use otel_parity_proto::v1 as pb;

use super::{Pair, dominant};
use crate::report::{Dimension, ParityFinding, Severity};

/// The same measurement under another name (and unit): nothing is lost, but
/// every dashboard, alert and SLO written for one name sees nothing in the
/// other environment until it is migrated, unit included. Medium.
const RENAMED: Severity = Severity::Medium;

/// A baseline metric the candidate emits under a renamed name.
#[derive(Debug, Clone)]
pub(super) struct Renamed<'a> {
    /// The baseline's name.
    pub(super) base_name: &'a str,
    /// The candidate's name.
    pub(super) cand_name: &'a str,
    /// The rename of the conventions between them.
    pub(super) rename: &'static Rename,
    /// Whether the baseline has the new name (the candidate is older).
    pub(super) baseline_is_new: bool,
}

impl Renamed<'_> {
    /// Whether the two sides' units are the rename's unit change.
    fn units_follow_rename(&self, base_unit: Option<&str>, cand_unit: Option<&str>) -> bool {
        match self.rename.unit {
            Some(unit) if self.baseline_is_new => {
                base_unit == Some(unit.new) && cand_unit == Some(unit.old)
            }
            Some(unit) => base_unit == Some(unit.old) && cand_unit == Some(unit.new),
            None => false,
        }
    }

    /// Whether label keys `base_key` (baseline) and `cand_key` (candidate)
    /// are one attribute rename in the direction of the metric's.
    pub(super) fn keys_renamed(&self, base_key: &str, cand_key: &str) -> bool {
        if self.baseline_is_new {
            is_attribute_rename(cand_key, base_key)
        } else {
            is_attribute_rename(base_key, cand_key)
        }
    }

    /// The candidate's key that is `base_key` renamed, if the candidate
    /// metric has one.
    pub(super) fn renamed_key<'c>(
        &self,
        base_key: &str,
        cand: &'c pb::MetricShape,
    ) -> Option<&'c str> {
        cand.attribute_keys
            .keys()
            .map(String::as_str)
            .find(|k| self.keys_renamed(base_key, k))
    }

    /// Whether the units differ as the rename says (bucket bounds then
    /// differ with them and are not compared).
    pub(super) fn unit_changed(&self, base: &pb::MetricShape, cand: &pb::MetricShape) -> bool {
        self.units_follow_rename(dominant(&base.units), dominant(&cand.units))
    }
}

/// Baseline metrics absent from the candidate that the candidate emits under
/// the other name of a rename (and that the baseline does not have).
pub(super) fn renamed_metrics<'a>(
    base: &'a BTreeMap<String, pb::MetricShape>,
    cand: &'a BTreeMap<String, pb::MetricShape>,
) -> Vec<Renamed<'a>> {
    let mut renamed = Vec::new();
    for base_name in base.keys().filter(|n| !cand.contains_key(*n)) {
        let partner = cand
            .keys()
            .filter(|c| !base.contains_key(*c))
            .find_map(|c| metric_rename_between(base_name, c).map(|(r, old)| (c, r, old)));
        if let Some((cand_name, rename, base_is_old)) = partner {
            renamed.push(Renamed {
                base_name,
                cand_name,
                rename,
                baseline_is_new: !base_is_old,
            });
        }
    }
    renamed
}

/// Records one finding per renamed metric.
pub(super) fn compare(pair: &Pair, renamed: &[Renamed], out: &mut Vec<ParityFinding>) {
    for r in renamed {
        let (Some(base), Some(cand)) = (
            pair.baseline.metrics.get(r.base_name),
            pair.candidate.metrics.get(r.cand_name),
        ) else {
            continue;
        };
        let base_unit = dominant(&base.units).unwrap_or("");
        let cand_unit = dominant(&cand.units).unwrap_or("");
        let base_version = version(pair.baseline, r.baseline_is_new, r.rename);
        let cand_version = version(pair.candidate, !r.baseline_is_new, r.rename);
        let side = |name: &str, unit: &str, version: &str| {
            format!("{name} ({}, semconv {version})", unit_text(unit))
        };
        let mut message = format!(
            "{} emits `{}` in {} (semconv {base_version}), {} emits `{}` in {} (semconv {cand_version}): \
             one metric, renamed in semconv {}",
            pair.base_env(),
            r.base_name,
            unit_text(base_unit),
            pair.cand_env(),
            r.cand_name,
            unit_text(cand_unit),
            r.rename.since
        );
        if base_unit != cand_unit {
            message.push_str(&format!(
                " with its unit {} → {}",
                unit_text(if r.baseline_is_new {
                    cand_unit
                } else {
                    base_unit
                }),
                unit_text(if r.baseline_is_new {
                    base_unit
                } else {
                    cand_unit
                })
            ));
        }
        let keys: Vec<String> = base
            .attribute_keys
            .keys()
            .filter_map(|k| {
                r.renamed_key(k, cand).map(|c| {
                    if r.baseline_is_new {
                        format!("{c} → {k}")
                    } else {
                        format!("{k} → {c}")
                    }
                })
            })
            .collect();
        if !keys.is_empty() {
            message.push_str(&format!("; label keys {}", keys.join(", ")));
        }
        message.push_str(&format!(
            "; queries of `{}` see nothing in {}",
            r.base_name,
            pair.cand_env()
        ));
        out.push(pair.finding(
            Dimension::Semconv,
            RENAMED,
            r.base_name,
            (
                side(r.base_name, base_unit, &base_version),
                side(r.cand_name, cand_unit, &cand_version),
            ),
            message,
        ));
    }
}

fn unit_text(unit: &str) -> &str {
    if unit.is_empty() { "no unit" } else { unit }
}

/// The semconv release a service follows: the dominant schema URL of its
/// scopes (else of its resources); else what the rename implies for the
/// name it emits (`is_new`: the new name).
fn version(service: &pb::ServiceFingerprint, is_new: bool, rename: &Rename) -> String {
    let from_schema = service.resource.as_ref().and_then(|r| {
        let mut scope_urls: BTreeMap<String, u64> = BTreeMap::new();
        for scope in r.scopes.values() {
            for (url, count) in &scope.schema_urls {
                if !url.is_empty() {
                    *scope_urls.entry(url.clone()).or_default() += count;
                }
            }
        }
        let mut resource_urls = r.schema_urls.clone();
        resource_urls.remove("");
        dominant(&scope_urls)
            .and_then(schema_version)
            .or_else(|| dominant(&resource_urls).and_then(schema_version))
            .map(str::to_owned)
    });
    match from_schema {
        Some(version) => version,
        None if is_new => format!("≥ {}", rename.since),
        None => format!("< {}", rename.since),
    }
}
