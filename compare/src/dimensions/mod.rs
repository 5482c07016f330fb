//! The comparison (`docs/comparison.md`): a candidate environment (e.g.
//! staging) against a baseline (e.g. prod), dimension by dimension, into
//! findings and scores.
//!
//! Principle: environments differ in *scale* — fewer instances, less traffic,
//! other hosts, other export intervals — and that is not a finding above
//! info. So the comparison never compares absolute counts: it compares sets
//! (metric names, keys, operations), dominant values (unit, type, versions),
//! shares (severities, remote parents, correlated logs) and per-request
//! ratios (ingestion). An item absent from the candidate is info only when
//! fewer than five occurrences of it were expected there, in the unit that
//! drives it: exports for a metric, requests for an operation or a log event
//! (`scale`).
//!
//! Severities (each justified where it is decided; docs/comparison.md has
//! the whole table with what scale may and may not explain):
//!
//! | dimension | difference | severity |
//! |---|---|---|
//! | services | baseline service absent / candidate-only | high / info |
//! | missing_traces | spans in baseline, none in candidate; adjusted spans per 1k requests < 10% | critical |
//! | metric_definitions | metric missing; type or unit differs / temporality, buckets differ / candidate-only | high / medium / info |
//! | label_keys | key missing in candidate / extra key in candidate | medium / low |
//! | cardinality | candidate series > 10× baseline (and ≥ 50) | medium |
//! | span_operations | SERVER/CONSUMER op missing / other op missing, kind differs / candidate-only | high / medium / info |
//! | span_attributes | span attribute key missing | medium |
//! | edges | parent→child edge missing | medium |
//! | context_propagation | remote parents (≥ 50%) become roots (> 50%) | high |
//! | sampling | probability or effective rate differs (once, where the trace is decided) / thresholds lost (info if the candidate looks unsampled) | medium / low |
//! | logs | no records, event name missing, correlation halved / severity (≥ 5%) missing | medium / low |
//! | versions | sdk language / sdk version, runtime, os, scope missing or version / service.version | medium / low / info |
//! | ingestion | items per 1k requests outside the band / traces ratio resting on unknown sampling | medium / low |
//! | semconv | a metric under the old and the new name of a semconv rename | medium |
//!
//! One cause, one finding: a service absent from the candidate is only the
//! services finding; a service without spans only the missing-traces one (no
//! per-operation, sampling or ingestion findings); a missing metric or
//! operation hides its keys and edges; an edge lost with broken propagation
//! is only the propagation finding; a signal the candidate does not send at
//! all is not also an ingestion finding; different thresholds or collapsed
//! traces explain a different inferred rate; a sampler decided at the root
//! of traces is one finding there, naming the services that inherit it; a
//! semconv rename is one finding for the metric, its unit and its label keys
//! (and the metric counts as present).

mod edges;
mod ingestion;
mod logs;
mod metrics;
mod missing_traces;
mod propagation;
mod sampling;
mod scale;
mod scores;
mod semconv;
mod services;
mod traces;
mod versions;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use otel_parity_model::span_kind;
use otel_parity_proto::v1 as pb;

use crate::accepted::{AcceptedDifference, apply_accepted};
use crate::date::Date;
use crate::report::{Dimension, ParityFinding, Report, Severity, Status};

/// How to compare: the ingestion band, the day acceptances are judged on,
/// and the accepted differences.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Ingestion ratios outside [low, high] are findings; default (0.5, 2.0).
    pub ingestion_band: (f64, f64),
    /// The day acceptances are judged on (an acceptance holds through its
    /// expiry day). There is no default: callers pass the real date.
    pub today: Date,
    /// Accepted differences (`accepted::load_accepted`), matched in order of
    /// preference: active over expired, then the latest expiry.
    pub accepted: Vec<AcceptedDifference>,
}

impl CompareOptions {
    /// Default band, no accepted differences, acceptances judged on `today`.
    pub fn new(today: Date) -> CompareOptions {
        CompareOptions {
            ingestion_band: (0.5, 2.0),
            today,
            accepted: Vec::new(),
        }
    }
}

/// Compares `candidate` against `baseline` (fingerprints of whole
/// environments over comparable ranges) into a sorted, scored report.
pub fn compare(
    baseline_name: &str,
    baseline: &pb::EnvironmentFingerprint,
    candidate_name: &str,
    candidate: &pb::EnvironmentFingerprint,
    options: &CompareOptions,
) -> Report {
    let envs = Environments {
        baseline_name,
        baseline,
        candidate_name,
        candidate,
    };
    let mut findings = Vec::new();
    services::compare(&envs, &mut findings);
    let mut ingestion_by_service = BTreeMap::new();
    let mut sampling_changes = Vec::new();
    for (key, base) in &baseline.services {
        let Some(cand) = candidate.services.get(key) else {
            continue;
        };
        let pair = Pair {
            envs: &envs,
            service: key,
            baseline: base,
            candidate: cand,
        };
        let ratios = ingestion::ratios(&pair);
        let traces_collapsed = missing_traces::compare(&pair, &ratios, &mut findings);
        ingestion::compare(&pair, &ratios, options.ingestion_band, &mut findings);
        ingestion_by_service.insert(key.clone(), ratios);
        metrics::compare(&pair, &mut findings);
        let broken = propagation::compare(&pair, &mut findings);
        traces::compare(&pair, &mut findings);
        edges::compare(&pair, &broken, &mut findings);
        sampling_changes.extend(sampling::change(&pair, traces_collapsed));
        logs::compare(&pair, &mut findings);
        versions::compare(&pair, &mut findings);
    }
    sampling::report(&envs, sampling_changes, &mut findings);
    apply_accepted(&mut findings, &options.accepted, options.today);
    findings.sort_by(|a, b| {
        (a.severity, &a.service, a.dimension, &a.subject, &a.message).cmp(&(
            b.severity,
            &b.service,
            b.dimension,
            &b.subject,
            &b.message,
        ))
    });
    let scores = scores::score(baseline, candidate, &findings, ingestion_by_service);
    Report {
        baseline: baseline_name.to_owned(),
        candidate: candidate_name.to_owned(),
        findings,
        scores,
    }
}

/// The two environments under comparison, with their names.
struct Environments<'a> {
    baseline_name: &'a str,
    baseline: &'a pb::EnvironmentFingerprint,
    candidate_name: &'a str,
    candidate: &'a pb::EnvironmentFingerprint,
}

/// One service present in both environments.
struct Pair<'a> {
    envs: &'a Environments<'a>,
    service: &'a str,
    baseline: &'a pb::ServiceFingerprint,
    candidate: &'a pb::ServiceFingerprint,
}

impl Pair<'_> {
    /// An open finding about this service.
    fn finding(
        &self,
        dimension: Dimension,
        severity: Severity,
        subject: impl Into<String>,
        sides: (String, String),
        message: impl Into<String>,
    ) -> ParityFinding {
        new_finding(self.service, dimension, severity, subject, sides, message)
    }

    /// "`what` X in prod, Y in staging".
    fn both(&self, what: &str, baseline: &str, candidate: &str) -> String {
        let what = if what.is_empty() {
            String::new()
        } else {
            format!("{what} ")
        };
        format!(
            "{what}{baseline} in {}, {candidate} in {}",
            self.envs.baseline_name, self.envs.candidate_name
        )
    }

    fn base_env(&self) -> &str {
        self.envs.baseline_name
    }

    fn cand_env(&self) -> &str {
        self.envs.candidate_name
    }
}

fn new_finding(
    service: &str,
    dimension: Dimension,
    severity: Severity,
    subject: impl Into<String>,
    (baseline, candidate): (String, String),
    message: impl Into<String>,
) -> ParityFinding {
    ParityFinding {
        dimension,
        service: service.to_owned(),
        subject: subject.into(),
        baseline,
        candidate,
        severity,
        status: Status::Open,
        message: message.into(),
        accepted: None,
    }
}

/// The most frequent key of a count map (the smallest key on ties).
fn dominant(counts: &BTreeMap<String, u64>) -> Option<&str> {
    let mut best: Option<(&str, u64)> = None;
    for (key, count) in counts {
        if best.is_none_or(|(_, c)| *count > c) {
            best = Some((key, *count));
        }
    }
    best.map(|(key, _)| key)
}

/// An operation as a subject: `name (kind)`.
fn operation_subject(name: &str, kind: i32) -> String {
    format!("{name} ({})", span_kind::name(kind))
}

/// Whether spans of this kind receive context from another process.
fn is_entry_kind(kind: i32) -> bool {
    kind == pb::SpanKind::Server as i32 || kind == pb::SpanKind::Consumer as i32
}

/// Spans a service recorded, from its operations (else its ingestion).
fn span_count(service: &pb::ServiceFingerprint) -> u64 {
    let from_operations: u64 = service.span_operations.iter().map(|op| op.spans).sum();
    if from_operations > 0 {
        return from_operations;
    }
    service
        .ingestion
        .as_ref()
        .and_then(|i| i.traces.as_ref())
        .map_or(0, |t| t.items)
}

/// A share as a percentage for messages.
fn pct(share: f64) -> String {
    let percent = share * 100.0;
    if percent != 0.0 && percent < 1.0 {
        format!("{percent:.2}%")
    } else {
        format!("{percent:.0}%")
    }
}

/// Present / absent sides of a set-membership finding.
fn present_absent() -> (String, String) {
    ("present".to_owned(), "absent".to_owned())
}
