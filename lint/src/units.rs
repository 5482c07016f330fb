//! Metric units per the OpenTelemetry conventions (OTP-M007…M010): a unit is set, it is
//! UCUM, durations are in seconds, and counts use `{…}` annotations.

use super::finding::{Findings, Subject};
use super::model::{MetricTelemetry, Telemetry};
use super::rules::RuleId;
use super::ucum;

/// Units written out as words or in the wrong case, and their UCUM codes.
const SPELLED_OUT: &[(&str, &str)] = &[
    ("seconds", "s"),
    ("second", "s"),
    ("secs", "s"),
    ("sec", "s"),
    ("Seconds", "s"),
    ("milliseconds", "ms"),
    ("millisecond", "ms"),
    ("millis", "ms"),
    ("msec", "ms"),
    ("microseconds", "us"),
    ("nanoseconds", "ns"),
    ("minutes", "min"),
    ("minute", "min"),
    ("hours", "h"),
    ("hour", "h"),
    ("days", "d"),
    ("bytes", "By"),
    ("byte", "By"),
    ("Bytes", "By"),
    ("B", "By"),
    ("KB", "kBy"),
    ("kb", "kBy"),
    ("MB", "MBy"),
    ("mb", "MBy"),
    ("GB", "GBy"),
    ("gb", "GBy"),
    ("bits", "bit"),
    ("percent", "%"),
    ("pct", "%"),
    ("percentage", "%"),
    ("celsius", "Cel"),
];

/// Time units other than seconds, as UCUM atoms with their prefix.
fn is_non_second_time_unit(unit: &str) -> bool {
    match ucum::symbol(unit) {
        Some(symbol) if symbol.atom == "s" => !symbol.prefix.is_empty(),
        Some(symbol) => matches!(symbol.atom, "min" | "h" | "d" | "wk"),
        None => false,
    }
}

/// A bare lower-case word that is not UCUM, e.g. `requests`: a count of things.
fn count_word(unit: &str) -> Option<String> {
    let is_word = unit.len() > 1
        && unit.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        && ucum::validate(unit).is_err();
    is_word.then(|| {
        let singular = unit
            .strip_suffix("ies")
            .map(|stem| format!("{stem}y"))
            .or_else(|| {
                unit.strip_suffix('s')
                    .filter(|stem| stem.len() > 2 && !stem.ends_with(['s', 'u']))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| unit.to_owned());
        format!("{{{singular}}}")
    })
}

/// Checks the units of every metric of every service.
pub fn check(telemetry: &Telemetry, findings: &mut Findings<'_>) {
    for (service, data) in &telemetry.services {
        for (name, metric) in &data.metrics {
            for unit in metric.units.keys() {
                check_unit(service, name, metric, unit, findings);
            }
        }
    }
}

fn check_unit(
    service: &str,
    name: &str,
    metric: &MetricTelemetry,
    unit: &str,
    findings: &mut Findings<'_>,
) {
    let subject = || Subject::metric(name);
    if unit.is_empty() {
        findings.push(
            RuleId::MetricUnitMissing,
            service,
            subject(),
            format!("`{name}` has no unit"),
            "set the instrument's unit in UCUM, e.g. `s`, `By`, `1` or `{request}`",
        );
        return;
    }
    if let Some((_, code)) = SPELLED_OUT.iter().find(|(word, _)| *word == unit) {
        findings.push(
            RuleId::MetricUnitUcum,
            service,
            subject(),
            format!("`{name}` has unit `{unit}`, which is not a UCUM code"),
            format!("use `{code}`"),
        );
    } else if let Some(annotation) = count_word(unit) {
        findings.push(
            RuleId::MetricUnitCountAnnotation,
            service,
            subject(),
            format!("`{name}` counts `{unit}` without a `{{…}}` annotation"),
            format!("use the unit `{annotation}`"),
        );
    } else if let Err(reason) = ucum::validate(unit) {
        findings.push(
            RuleId::MetricUnitUcum,
            service,
            subject(),
            format!("`{name}` has unit `{unit}`, which is not UCUM: {reason}"),
            "use a UCUM code such as `s`, `By`, `1`, `%` or a `{thing}` annotation",
        );
    }
    if is_non_second_time_unit(unit) {
        findings.push(
            RuleId::MetricUnitDurationSeconds,
            service,
            subject(),
            format!("`{name}` measures time in `{unit}`; the conventions use seconds"),
            "record the value in seconds with unit `s`",
        );
    }
    let is_sum = metric.types.contains_key("sum");
    if unit == "1" && is_sum {
        findings.push(
            RuleId::MetricUnitCountAnnotation,
            service,
            subject(),
            format!("`{name}` is a count with unit `1`, which the conventions keep for ratios"),
            "use an annotation naming what is counted, e.g. `{request}`",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{MetricBuilder, findings_of, gauge, histogram, service, sum};
    use super::*;

    fn lint_one(rule: RuleId, name: &str, metric: MetricBuilder) -> Vec<super::super::Finding> {
        findings_of(rule, vec![service("shop/cart").metric(name, metric)])
    }

    #[test]
    fn each_unit_rule_triggers_and_its_near_miss_does_not() {
        type Case = (
            RuleId,
            &'static str,
            fn() -> MetricBuilder,
            fn() -> MetricBuilder,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (
                RuleId::MetricUnitMissing,
                "app.cart.size",
                || gauge(""),
                || gauge("{item}"),
                "UCUM",
            ),
            (
                RuleId::MetricUnitUcum,
                "app.queue.latency",
                || histogram("seconds", &[1.0]),
                || histogram("s", &[1.0]),
                "use `s`",
            ),
            (
                RuleId::MetricUnitUcum,
                "app.payload.size",
                || gauge("KB"),
                || gauge("kBy"),
                "use `kBy`",
            ),
            (
                RuleId::MetricUnitUcum,
                "app.rate",
                || gauge("req/sec"),
                || gauge("{request}/s"),
                "UCUM code",
            ),
            (
                RuleId::MetricUnitDurationSeconds,
                "db.query.duration",
                || histogram("ms", &[1.0]),
                || histogram("s", &[1.0]),
                "`s`",
            ),
            (
                RuleId::MetricUnitDurationSeconds,
                "app.job.duration",
                || histogram("min", &[1.0]),
                || histogram("By", &[1.0]),
                "`s`",
            ),
            (
                RuleId::MetricUnitCountAnnotation,
                "app.http.requests",
                || sum("requests", true),
                || sum("{request}", true),
                "`{request}`",
            ),
            (
                RuleId::MetricUnitCountAnnotation,
                "app.orders.placed",
                || sum("1", true),
                || gauge("1"),
                "`{request}`",
            ),
            (
                RuleId::MetricUnitCountAnnotation,
                "app.cache.entries",
                || gauge("entries"),
                || gauge("{entry}"),
                "`{entry}`",
            ),
        ];
        for (rule, name, bad, good, hint) in cases {
            let found = lint_one(rule, name, bad());
            assert_eq!(found.len(), 1, "{rule} on {name}: {found:?}");
            assert!(
                found[0].hint.contains(hint),
                "{rule}: hint {:?}",
                found[0].hint
            );
            let near = lint_one(rule, name, good());
            assert!(near.is_empty(), "{rule} near miss on {name}: {near:?}");
        }
    }

    #[test]
    fn a_spelled_out_unit_is_reported_once_not_also_as_a_count() {
        let found = findings_of(
            RuleId::MetricUnitCountAnnotation,
            vec![service("s").metric("app.payload.size", gauge("bytes"))],
        );
        assert!(found.is_empty(), "{found:?}");
        let ucum = findings_of(
            RuleId::MetricUnitUcum,
            vec![service("s").metric("app.payload.size", gauge("bytes"))],
        );
        assert_eq!(ucum[0].hint, "use `By`");
    }

    #[test]
    fn count_words_become_singular_annotations() {
        assert_eq!(count_word("requests").as_deref(), Some("{request}"));
        assert_eq!(count_word("entries").as_deref(), Some("{entry}"));
        assert_eq!(count_word("status").as_deref(), Some("{status}"));
        assert_eq!(count_word("ms"), None);
        assert_eq!(count_word("{request}"), None);
    }
}
