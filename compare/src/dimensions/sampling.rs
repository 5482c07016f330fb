//! Sampling: the threshold distribution from tracestate (`ot=th:…`) and the
//! effective rate inferred from SERVER spans against counted requests.
//!
//! One sampler, one finding. With parent-based sampling the decision is
//! made where a trace starts and inherited downstream (the threshold travels
//! in tracestate), so a different sampler at the root changes every service
//! of its traces alike. Each service's change is computed first ([`change`]);
//! then ([`report`]) a service whose change is what its parents' implies
//! (the same thresholds, or inferred rates within a factor of two, on both
//! sides) is folded into the finding of the service that decides — the one
//! up its parent edges whose change no parent implies — which names the
//! services that inherit it. A downstream service that samples on its own
//! (its rates differ from what its parents imply) keeps a finding of its own.

use std::collections::{BTreeMap, BTreeSet};

use otel_parity_proto::v1 as pb;

use super::{Environments, Pair, new_finding, pct, span_count};
use crate::report::{Dimension, ParityFinding, Severity};

/// Another sampling probability changes which traces exist: a rare error
/// path sampled in one environment may never be in the other's traces.
/// Counts stay comparable (adjusted counts), so medium.
const PROBABILITY_DIFFERS: Severity = Severity::Medium;
/// Without thresholds the candidate's adjusted counts are unknown: span-
/// derived rates can no longer be extrapolated, but traces still arrive. Low.
const THRESHOLDS_LOST: Severity = Severity::Low;
/// A candidate that records thresholds the baseline does not: nothing lost.
const THRESHOLDS_GAINED: Severity = Severity::Info;
/// The effective rate (often a tail sampler that writes no threshold)
/// differs: as for probabilities, other traces exist. Medium.
const INFERRED_RATE_DIFFERS: Severity = Severity::Medium;

/// An inferred rate at least this high means the spans are not sampled.
const UNSAMPLED_RATE: f64 = 0.9;

/// Rates further apart than this factor differ.
const RATE_FACTOR: f64 = 2.0;

/// One side's sampling: its dominant threshold and inferred rate.
#[derive(Debug, Clone, PartialEq)]
struct Side {
    threshold: Option<pb::ThresholdCount>,
    /// SERVER spans per counted request; 0 when unknown.
    inferred: f64,
}

impl Side {
    fn of(service: &pb::ServiceFingerprint) -> Side {
        let empty = pb::Sampling::default();
        let sampling = service.sampling.as_ref().unwrap_or(&empty);
        let inferred = sampling.inferred_rate;
        Side {
            threshold: dominant(sampling).cloned(),
            inferred: if inferred > 0.0 && inferred.is_finite() {
                inferred
            } else {
                0.0
            },
        }
    }

    /// The share of spans kept: the threshold's probability, else the
    /// inferred rate (capped at 1), else unknown.
    fn rate(&self) -> Option<f64> {
        match &self.threshold {
            Some(t) if t.probability > 0.0 => Some(t.probability),
            _ if self.inferred > 0.0 => Some(self.inferred.min(1.0)),
            _ => None,
        }
    }

    /// Whether a service with this side is sampled as a parent with `parent`
    /// implies: the same threshold, or (without thresholds) rates within
    /// the factor, unknown rates matching anything.
    fn follows(&self, parent: &Side) -> bool {
        match (&self.threshold, &parent.threshold) {
            (Some(a), Some(b)) => a.threshold == b.threshold,
            (None, None) => match (self.rate(), parent.rate()) {
                (Some(a), Some(b)) => !apart(a, b),
                _ => true,
            },
            _ => false,
        }
    }
}

/// A service whose sampling differs between the environments.
#[derive(Debug, Clone)]
pub(super) struct Change {
    service: String,
    base: Side,
    cand: Side,
    severity: Severity,
    subject: &'static str,
    sides: (String, String),
    message: String,
}

/// The service's sampling change, if any. `traces_collapsed`: a missing-
/// traces finding already explains a lower inferred rate.
pub(super) fn change(pair: &Pair, traces_collapsed: bool) -> Option<Change> {
    if span_count(pair.baseline) == 0 || span_count(pair.candidate) == 0 {
        return None;
    }
    let base = Side::of(pair.baseline);
    let cand = Side::of(pair.candidate);
    let (severity, subject, sides, message) =
        describe_change(pair, &base, &cand, traces_collapsed)?;
    Some(Change {
        service: pair.service.to_owned(),
        base,
        cand,
        severity,
        subject,
        sides,
        message,
    })
}

type Described = (Severity, &'static str, (String, String), String);

/// Severity, subject, sides and message of one service's change. When
/// traces collapsed (`collapsed`), that explains the rates: only thresholds
/// are compared.
fn describe_change(pair: &Pair, base: &Side, cand: &Side, collapsed: bool) -> Option<Described> {
    let rates_apart = !collapsed
        && match (base.rate(), cand.rate()) {
            (Some(b), Some(c)) => apart(b, c),
            _ => false,
        };
    match (&base.threshold, &cand.threshold) {
        (Some(b), Some(c)) if b.threshold != c.threshold => Some((
            PROBABILITY_DIFFERS,
            "threshold",
            (describe(b), describe(c)),
            pair.both("sampling probability", &describe(b), &describe(c)),
        )),
        (Some(b), None) => {
            // A candidate that keeps a SERVER span for (nearly) every counted
            // request is evidently not sampled: its adjusted counts are 1.
            let unsampled = cand.inferred >= UNSAMPLED_RATE;
            let cand_side = if cand.inferred > 0.0 {
                format!("none ({} inferred)", pct(cand.inferred))
            } else {
                "none".to_owned()
            };
            let (severity, consequence) = if rates_apart {
                (
                    PROBABILITY_DIFFERS,
                    format!(
                        "{} keeps {} of its requests' SERVER spans instead of {}",
                        pair.cand_env(),
                        pct(cand.inferred),
                        pct(b.probability)
                    ),
                )
            } else if unsampled {
                (
                    Severity::Info,
                    format!(
                        "{} keeps a SERVER span per request, so it looks unsampled",
                        pair.cand_env()
                    ),
                )
            } else {
                (
                    THRESHOLDS_LOST,
                    format!("{}'s adjusted counts are unknown", pair.cand_env()),
                )
            };
            Some((
                severity,
                "threshold",
                (describe(b), cand_side),
                format!(
                    "spans carry sampling threshold {} in {}, none in {}: {consequence}",
                    describe(b),
                    pair.base_env(),
                    pair.cand_env()
                ),
            ))
        }
        (None, Some(c)) => Some((
            if rates_apart {
                PROBABILITY_DIFFERS
            } else {
                THRESHOLDS_GAINED
            },
            "threshold",
            (
                if base.inferred > 0.0 {
                    format!("none ({} inferred)", pct(base.inferred))
                } else {
                    "none".to_owned()
                },
                describe(c),
            ),
            format!(
                "spans carry sampling threshold {} in {} only",
                describe(c),
                pair.cand_env()
            ),
        )),
        // Both rates are within-environment ratios, so scale cancels out.
        _ if !collapsed && apart(base.inferred, cand.inferred) => Some((
            INFERRED_RATE_DIFFERS,
            "inferred_rate",
            (pct(base.inferred), pct(cand.inferred)),
            pair.both(
                "SERVER spans per counted request",
                &pct(base.inferred),
                &pct(cand.inferred),
            ),
        )),
        _ => None,
    }
}

/// Records one finding per deciding service, naming the services that
/// inherit its sampling through parent edges.
pub(super) fn report(envs: &Environments, changes: Vec<Change>, out: &mut Vec<ParityFinding>) {
    let by_service: BTreeMap<&str, &Change> =
        changes.iter().map(|c| (c.service.as_str(), c)).collect();
    let mut inheritors: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for change in &changes {
        let decider = decider(envs, &by_service, change);
        if decider != change.service {
            inheritors.entry(decider).or_default().push(&change.service);
        }
    }
    for change in &changes {
        if decider(envs, &by_service, change) != change.service {
            continue;
        }
        let mut message = change.message.clone();
        if let Some(children) = inheritors.get(change.service.as_str()) {
            message.push_str(&format!(
                "; decided here and inherited by {} (parent-based sampling: their rates follow)",
                children.join(", ")
            ));
        }
        out.push(new_finding(
            &change.service,
            Dimension::Sampling,
            change.severity,
            change.subject,
            change.sides.clone(),
            message,
        ));
    }
}

/// The service that decides `change`'s sampling: up the parent edges (the
/// first parent, in name order, whose change implies the child's) to a
/// service no parent explains; in a cycle, its first service by name.
fn decider<'a>(
    envs: &'a Environments,
    changes: &BTreeMap<&'a str, &'a Change>,
    change: &'a Change,
) -> &'a str {
    let mut path: Vec<&'a Change> = vec![change];
    let mut current = change;
    loop {
        let next = parents(envs, &current.service)
            .into_iter()
            .filter_map(|p| changes.get(p).copied())
            .find(|p| current.base.follows(&p.base) && current.cand.follows(&p.cand));
        let Some(parent) = next else {
            return &current.service;
        };
        if let Some(at) = path.iter().position(|c| c.service == parent.service) {
            return path[at..]
                .iter()
                .map(|c| c.service.as_str())
                .min()
                .unwrap_or(&current.service);
        }
        path.push(parent);
        current = parent;
    }
}

/// Other services with edges into `service`, in either environment, sorted.
fn parents<'a>(envs: &'a Environments, service: &str) -> BTreeSet<&'a str> {
    [envs.baseline, envs.candidate]
        .into_iter()
        .filter_map(|env| env.services.get(service))
        .flat_map(|s| &s.edges)
        .map(|e| e.parent_service.as_str())
        .filter(|p| *p != service)
        .collect()
}

/// Whether two rates are further apart than [`RATE_FACTOR`].
fn apart(a: f64, b: f64) -> bool {
    a > 0.0 && b > 0.0 && a.max(b) / a.min(b) > RATE_FACTOR
}

/// The threshold most spans carried.
fn dominant(sampling: &pb::Sampling) -> Option<&pb::ThresholdCount> {
    let mut best: Option<&pb::ThresholdCount> = None;
    for t in &sampling.thresholds {
        if t.spans > 0 && best.is_none_or(|b| t.spans > b.spans) {
            best = Some(t);
        }
    }
    best
}

/// `th:c (25%)`.
fn describe(t: &pb::ThresholdCount) -> String {
    format!("th:{} ({})", t.threshold, pct(t.probability))
}
