//! Logs: event names, log–trace correlation and the severity mix.

use super::scale::{self, MIN_EXPECTED};
use super::{Pair, pct, present_absent};
use crate::report::{Dimension, ParityFinding, Severity};

/// A service that logs in the baseline and not at all in the candidate:
/// every log-based alert and investigation is blind there. Medium like the
/// other log gaps: traces and metrics still arrive.
const NO_RECORDS: Severity = Severity::Medium;
/// Event names drive log-based alerts and analytics (`payment.charged`).
const MISSING_EVENT: Severity = Severity::Medium;
/// Logs that lose their trace id can no longer be reached from a trace.
const CORRELATION_DROPS: Severity = Severity::Medium;
/// A missing severity (no ERROR records) is usually traffic mix or log
/// level configuration; worth a look, not an outage of telemetry.
const MISSING_SEVERITY: Severity = Severity::Low;

/// Severities below this share of the baseline's records are not compared.
const SEVERITY_MIN_SHARE: f64 = 0.05;

pub(super) fn compare(pair: &Pair, out: &mut Vec<ParityFinding>) {
    let Some(base) = pair.baseline.logs.as_ref().filter(|l| l.records > 0) else {
        return;
    };
    let Some(cand) = pair.candidate.logs.as_ref().filter(|l| l.records > 0) else {
        out.push(pair.finding(
            Dimension::Logs,
            NO_RECORDS,
            "log records",
            ("present".to_owned(), "none".to_owned()),
            format!(
                "service logs in {}, sends no log records in {}",
                pair.base_env(),
                pair.cand_env()
            ),
        ));
        return;
    };

    for (event, count) in &base.event_names {
        if cand.event_names.contains_key(event) {
            continue;
        }
        // Events follow requests (not the records of other events).
        let expected = scale::expected_records(*count, pair.baseline, pair.candidate);
        let severity = scale::unless_expected_few(MISSING_EVENT, expected);
        let mut message = format!(
            "event on {} of {}'s log records, absent in {}",
            pct(*count as f64 / base.records as f64),
            pair.base_env(),
            pair.cand_env()
        );
        if let Some(expected) = expected {
            message.push_str(&format!(
                " where {} were expected",
                scale::count_text(expected)
            ));
        }
        out.push(pair.finding(
            Dimension::Logs,
            severity,
            format!("event {event}"),
            present_absent(),
            message,
        ));
    }

    let base_share = base.with_trace_id as f64 / base.records as f64;
    let cand_share = cand.with_trace_id as f64 / cand.records as f64;
    if base_share > 0.0 && cand_share < base_share / 2.0 {
        // Too few candidate records to have expected correlated ones: chance.
        let severity = if base_share * (cand.records as f64) < MIN_EXPECTED {
            Severity::Info
        } else {
            CORRELATION_DROPS
        };
        out.push(pair.finding(
            Dimension::Logs,
            severity,
            "trace correlation",
            (pct(base_share), pct(cand_share)),
            pair.both(
                "log records with a trace id:",
                &pct(base_share),
                &pct(cand_share),
            ),
        ));
    }

    for (severity_name, count) in &base.severities {
        let share = *count as f64 / base.records as f64;
        if share < SEVERITY_MIN_SHARE || cand.severities.get(severity_name).is_some_and(|c| *c > 0)
        {
            continue;
        }
        let expected = scale::expected_records(*count, pair.baseline, pair.candidate);
        let severity = scale::unless_expected_few(MISSING_SEVERITY, expected);
        let message = format!(
            "{} of {}'s log records are {severity_name}, none in {}",
            pct(share),
            pair.base_env(),
            pair.cand_env()
        );
        out.push(pair.finding(
            Dimension::Logs,
            severity,
            format!("severity {severity_name}"),
            (pct(share), "0%".to_owned()),
            message,
        ));
    }
}
