//! Instrument kinds used sensibly (OTP-M011): durations are histograms, and ratios or
//! utilizations are gauges rather than monotonic counters.

use super::finding::{Findings, Subject};
use super::model::Telemetry;
use super::rules::RuleId;

/// Last name segments that name the duration of an operation.
const DURATION_SUFFIXES: &[&str] = &["duration", "latency"];
/// Last name segments that name a ratio of a whole.
const RATIO_SUFFIXES: &[&str] = &["utilization", "ratio", "usage_ratio"];

const DISTRIBUTIONS: &[&str] = &["histogram", "exponential_histogram", "summary"];

/// Checks the instrument kind of every metric of every service.
pub fn check(telemetry: &Telemetry, findings: &mut Findings<'_>) {
    for (service, data) in &telemetry.services {
        for (name, metric) in &data.metrics {
            let last = name.rsplit(['.', '_']).next().unwrap_or(name);
            let Some(kind) = metric.main_type() else {
                continue;
            };
            if DURATION_SUFFIXES.contains(&last) && !DISTRIBUTIONS.contains(&kind) {
                findings.push(
                    RuleId::MetricInstrumentKind,
                    service,
                    Subject::metric(name),
                    format!(
                        "`{name}` is a duration recorded as a {kind}, which loses its distribution"
                    ),
                    "record it with a histogram instrument",
                );
            }
            let is_ratio = RATIO_SUFFIXES.contains(&last) || name.ends_with(".usage_ratio");
            if is_ratio && kind == "sum" && metric.is_monotonic() {
                findings.push(
                    RuleId::MetricInstrumentKind,
                    service,
                    Subject::metric(name),
                    format!("`{name}` is a ratio recorded as a monotonic counter, so its value only grows"),
                    "record it with a gauge instrument",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{MetricBuilder, findings_of, gauge, histogram, service, sum};
    use super::*;

    #[test]
    fn durations_are_histograms_and_ratios_are_not_counters() {
        type Case = (&'static str, fn() -> MetricBuilder, fn() -> MetricBuilder);
        let cases: Vec<Case> = vec![
            (
                "http.server.request.duration",
                || gauge("s"),
                || histogram("s", &[0.1, 1.0]),
            ),
            (
                "app.queue.latency",
                || sum("s", true),
                || histogram("s", &[0.1]),
            ),
            ("system.cpu.utilization", || sum("1", true), || gauge("1")),
            (
                "app.pool.usage_ratio",
                || sum("1", true),
                || sum("1", false),
            ),
        ];
        for (name, bad, good) in cases {
            let found = findings_of(
                RuleId::MetricInstrumentKind,
                vec![service("s").metric(name, bad())],
            );
            assert_eq!(found.len(), 1, "{name}: {found:?}");
            let near = findings_of(
                RuleId::MetricInstrumentKind,
                vec![service("s").metric(name, good())],
            );
            assert!(near.is_empty(), "{name} near miss: {near:?}");
        }
        // Cumulative CPU time is a counter in seconds, not a duration of an operation.
        let cpu_time = findings_of(
            RuleId::MetricInstrumentKind,
            vec![service("s").metric("process.cpu.time", sum("s", true))],
        );
        assert!(cpu_time.is_empty(), "{cpu_time:?}");
    }
}
