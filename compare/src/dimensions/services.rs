//! Services present: which services send telemetry in one environment only.

use otel_parity_proto::v1 as pb;

use super::{Environments, new_finding, present_absent};
use crate::report::{Dimension, ParityFinding, Severity};

/// A baseline service that the candidate lacks cannot be tested there at
/// all: every dashboard, alert and trace of it is unverified. High, not
/// critical, because some services are legitimately prod-only (and can be
/// accepted); the missing-traces alert stays reserved for services that
/// *are* there but send no traces.
const MISSING_SERVICE: Severity = Severity::High;

/// A candidate-only service (a new service, a test harness) harms nothing in
/// the baseline: info.
const CANDIDATE_ONLY_SERVICE: Severity = Severity::Info;

pub(super) fn compare(envs: &Environments, out: &mut Vec<ParityFinding>) {
    let overflowed = envs.candidate.overflow.as_ref().map_or(0, |o| o.services);
    for (key, service) in &envs.baseline.services {
        if envs.candidate.services.contains_key(key) {
            continue;
        }
        let mut message = format!(
            "service sends {} in {}, nothing in {}",
            signals(service),
            envs.baseline_name,
            envs.candidate_name
        );
        if overflowed > 0 {
            message.push_str(&format!(
                " ({} went over its services cap {overflowed} times: it may be there)",
                envs.candidate_name
            ));
        }
        out.push(new_finding(
            key,
            Dimension::Services,
            MISSING_SERVICE,
            key.as_str(),
            present_absent(),
            message,
        ));
    }
    for (key, service) in &envs.candidate.services {
        if envs.baseline.services.contains_key(key) {
            continue;
        }
        let message = format!(
            "service sends {} in {} only",
            signals(service),
            envs.candidate_name
        );
        out.push(new_finding(
            key,
            Dimension::Services,
            CANDIDATE_ONLY_SERVICE,
            key.as_str(),
            ("absent".to_owned(), "present".to_owned()),
            message,
        ));
    }
}

/// "spans, metrics and logs": the signals a service sent.
fn signals(service: &pb::ServiceFingerprint) -> String {
    let mut names = Vec::new();
    if super::span_count(service) > 0 {
        names.push("spans");
    }
    if !service.metrics.is_empty() {
        names.push("metrics");
    }
    if service.logs.as_ref().is_some_and(|l| l.records > 0) {
        names.push("logs");
    }
    match names.as_slice() {
        [] => "telemetry".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
