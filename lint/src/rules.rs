//! The rule registry: every lint rule with its stable ID, default level, rationale and the
//! generic fix. docs/lint-rules.md documents each one; a test keeps the two in step.

use std::fmt;

use super::level::Level;

/// The family a rule belongs to, which is also the letter in its ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// `OTP-M…`: metric names and units per the OpenTelemetry conventions.
    Naming,
    /// `OTP-S…`: deprecated or renamed semantic-convention names.
    SemanticConventions,
    /// `OTP-C…`: attribute keys that explode metric cardinality.
    Cardinality,
    /// `OTP-D…`: one definition (type, unit, buckets) per metric name.
    Definitions,
    /// `OTP-B…`: drift from the committed baseline.
    Baseline,
}

/// A lint rule's description: what it checks and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable identifier, e.g. `OTP-M001`; never reused for another check.
    pub id: &'static str,
    /// Short kebab-case name, e.g. `metric-name-syntax`.
    pub name: &'static str,
    /// Level unless the rules file overrides it.
    pub level: Level,
    /// The rule's family.
    pub family: Family,
    /// Why the rule exists, in one line.
    pub rationale: &'static str,
    /// The generic fix; findings usually carry a more specific one.
    pub help: &'static str,
    /// The Instrumentation Score rule this one corresponds to, if any.
    pub instrumentation_score: Option<&'static str>,
}

/// Identifies one lint rule. The order is the order of [`RULES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleId {
    /// OTP-M001
    MetricNameSyntax,
    /// OTP-M002
    MetricNameLowercase,
    /// OTP-M003
    MetricNameNamespace,
    /// OTP-M004
    MetricNameLength,
    /// OTP-M005
    MetricNameUnit,
    /// OTP-M006
    MetricNameTotalSuffix,
    /// OTP-M007
    MetricUnitMissing,
    /// OTP-M008
    MetricUnitUcum,
    /// OTP-M009
    MetricUnitDurationSeconds,
    /// OTP-M010
    MetricUnitCountAnnotation,
    /// OTP-M011
    MetricInstrumentKind,
    /// OTP-S001
    DeprecatedMetric,
    /// OTP-S002
    DeprecatedAttribute,
    /// OTP-C001
    UnboundedAttributeKey,
    /// OTP-C002
    HighCardinalityAttribute,
    /// OTP-D001
    UnitConflict,
    /// OTP-D002
    BucketLayoutConflict,
    /// OTP-D003
    TypeConflict,
    /// OTP-D004
    MetricNameIsAttributeKey,
    /// OTP-B001
    BaselineServiceMissing,
    /// OTP-B002
    BaselineMetricRemoved,
    /// OTP-B003
    BaselineMetricAdded,
    /// OTP-B004
    BaselineTypeChanged,
    /// OTP-B005
    BaselineUnitChanged,
    /// OTP-B006
    BaselineTemporalityChanged,
    /// OTP-B007
    BaselineLabelRemoved,
    /// OTP-B008
    BaselineLabelAdded,
    /// OTP-B009
    BaselineBucketsChanged,
    /// OTP-B010
    BaselineSpanOperationMissing,
    /// OTP-B011
    BaselineLogEventMissing,
}

impl RuleId {
    /// Every rule, in registry order.
    pub const ALL: [RuleId; 30] = [
        RuleId::MetricNameSyntax,
        RuleId::MetricNameLowercase,
        RuleId::MetricNameNamespace,
        RuleId::MetricNameLength,
        RuleId::MetricNameUnit,
        RuleId::MetricNameTotalSuffix,
        RuleId::MetricUnitMissing,
        RuleId::MetricUnitUcum,
        RuleId::MetricUnitDurationSeconds,
        RuleId::MetricUnitCountAnnotation,
        RuleId::MetricInstrumentKind,
        RuleId::DeprecatedMetric,
        RuleId::DeprecatedAttribute,
        RuleId::UnboundedAttributeKey,
        RuleId::HighCardinalityAttribute,
        RuleId::UnitConflict,
        RuleId::BucketLayoutConflict,
        RuleId::TypeConflict,
        RuleId::MetricNameIsAttributeKey,
        RuleId::BaselineServiceMissing,
        RuleId::BaselineMetricRemoved,
        RuleId::BaselineMetricAdded,
        RuleId::BaselineTypeChanged,
        RuleId::BaselineUnitChanged,
        RuleId::BaselineTemporalityChanged,
        RuleId::BaselineLabelRemoved,
        RuleId::BaselineLabelAdded,
        RuleId::BaselineBucketsChanged,
        RuleId::BaselineSpanOperationMissing,
        RuleId::BaselineLogEventMissing,
    ];

    /// The rule's description.
    pub fn rule(self) -> &'static Rule {
        &RULES[self as usize]
    }

    /// The stable ID, e.g. `OTP-M001`.
    pub fn id(self) -> &'static str {
        self.rule().id
    }

    /// The rule with stable ID `id`, if there is one.
    pub fn from_id(id: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|rule| rule.id() == id)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

const fn rule(
    id: &'static str,
    name: &'static str,
    level: Level,
    family: Family,
    rationale: &'static str,
    help: &'static str,
    instrumentation_score: Option<&'static str>,
) -> Rule {
    Rule {
        id,
        name,
        level,
        family,
        rationale,
        help,
        instrumentation_score,
    }
}

use Family::{Baseline, Cardinality, Definitions, Naming, SemanticConventions};
use Level::{Error, Info, Warning};

/// Every rule, indexed by [`RuleId`].
pub static RULES: [Rule; 30] = [
    rule(
        "OTP-M001",
        "metric-name-syntax",
        Error,
        Naming,
        "SDKs reject instrument names outside the API syntax: a letter, then letters, digits, `_`, `.`, `-` or `/`.",
        "Start the name with a letter and use only letters, digits, `_`, `.`, `-` and `/`.",
        None,
    ),
    rule(
        "OTP-M002",
        "metric-name-lowercase",
        Error,
        Naming,
        "Instrument names are case-insensitive, so backends may merge or split names that differ only in case; the conventions use lower case.",
        "Use lower case, e.g. `app.cart.items` rather than `App.Cart.Items`.",
        None,
    ),
    rule(
        "OTP-M003",
        "metric-name-namespace",
        Warning,
        Naming,
        "The conventions put a metric in `.`-separated namespaces (snake_case inside one), which is how dashboards and backends group names.",
        "Separate namespaces with `.` and words with `_`, e.g. `app.cart.checkout_duration` → `app.cart.checkout.duration`.",
        None,
    ),
    rule(
        "OTP-M004",
        "metric-name-length",
        Error,
        Naming,
        "The API limits instrument names to 255 characters; longer names are rejected by SDKs and truncated by backends.",
        "Shorten the name (the limit is `max_name_length`, 255 by default).",
        None,
    ),
    rule(
        "OTP-M005",
        "metric-name-unit",
        Error,
        Naming,
        "The unit belongs in the metric's unit field; a unit in the name duplicates it and becomes a lie when the unit changes.",
        "Drop the unit from the name and set it as the metric's unit, e.g. `db.query.duration_ms` → `db.query.duration` with unit `s`.",
        Some("MET-005"),
    ),
    rule(
        "OTP-M006",
        "metric-name-total-suffix",
        Error,
        Naming,
        "`_total` is the suffix Prometheus exporters add to counters; in the OpenTelemetry name it ends up doubled (`…_total_total`).",
        "Drop `_total`: a counter's name says what it counts, e.g. `app.orders_total` → `app.orders.placed`.",
        None,
    ),
    rule(
        "OTP-M007",
        "metric-unit-missing",
        Warning,
        Naming,
        "Without a unit nobody can tell 1 ms from 1 s or 1 byte from 1 KiB, and exporters cannot convert the value.",
        "Set the instrument's unit in UCUM: `s`, `By`, `1`, or a `{thing}` annotation for counts.",
        Some("MET-002"),
    ),
    rule(
        "OTP-M008",
        "metric-unit-ucum",
        Warning,
        Naming,
        "The conventions use UCUM's case-sensitive codes (`s`, `ms`, `By`, `KiBy`, `%`, `1`) so that units can be converted mechanically.",
        "Use the UCUM code, e.g. `seconds` → `s`, `bytes` → `By`, `percent` → `%`.",
        Some("MET-002"),
    ),
    rule(
        "OTP-M009",
        "metric-unit-duration-seconds",
        Error,
        Naming,
        "The conventions measure durations in seconds (`s`) so that durations from different libraries add up and compare.",
        "Record durations in `s` (as floating-point), e.g. `0.25` rather than `250` with unit `ms`.",
        None,
    ),
    rule(
        "OTP-M010",
        "metric-unit-count-annotation",
        Info,
        Naming,
        "Counts of things use a `{thing}` annotation (`{request}`, `{packet}`) so the unit says what is counted; `1` is for ratios.",
        "Use a curly-brace annotation in the singular, e.g. `requests` → `{request}`.",
        None,
    ),
    rule(
        "OTP-M011",
        "metric-instrument-kind",
        Warning,
        Naming,
        "Durations need a histogram to show their distribution, and a utilization or ratio is a gauge, never a monotonic counter.",
        "Record durations with a histogram; record ratios and utilizations with a gauge.",
        None,
    ),
    rule(
        "OTP-S001",
        "semconv-deprecated-metric",
        Error,
        SemanticConventions,
        "A metric name the semantic conventions have renamed splits dashboards and alerts between the old and the new name.",
        "Emit the current name (OpenTelemetry instrumentations do with `OTEL_SEMCONV_STABILITY_OPT_IN`).",
        None,
    ),
    rule(
        "OTP-S002",
        "semconv-deprecated-attribute",
        Warning,
        SemanticConventions,
        "An attribute key the semantic conventions have renamed no longer matches queries written for the current conventions.",
        "Emit the current key (OpenTelemetry instrumentations do with `OTEL_SEMCONV_STABILITY_OPT_IN`).",
        None,
    ),
    rule(
        "OTP-C001",
        "metric-attribute-unbounded-key",
        Warning,
        Cardinality,
        "Keys such as `user.id`, `session.id` or `url.full` take a new value per user or request and turn one metric into millions of series.",
        "Drop the key from the metric (keep it on spans or logs) or replace it with a bounded one, e.g. `url.full` → `http.route`.",
        None,
    ),
    rule(
        "OTP-C002",
        "metric-attribute-high-cardinality",
        Error,
        Cardinality,
        "An attribute with more distinct values than `high_cardinality_threshold` multiplies the metric's series, its cost and its query time.",
        "Remove the attribute from the metric, bucket its values, or drop it with a View.",
        Some("MET-001"),
    ),
    rule(
        "OTP-D001",
        "metric-unit-conflict",
        Error,
        Definitions,
        "One metric name with two units makes sums and comparisons across series meaningless.",
        "Give every instrument of this name the same unit, or give the other definition another name.",
        Some("MET-003"),
    ),
    rule(
        "OTP-D002",
        "metric-bucket-layout-conflict",
        Warning,
        Definitions,
        "Histograms of one name with different bucket boundaries cannot be merged exactly, so percentiles across them are approximate.",
        "Configure the same explicit bucket boundaries (e.g. through a View) wherever the histogram is recorded.",
        Some("MET-004"),
    ),
    rule(
        "OTP-D003",
        "metric-type-conflict",
        Error,
        Definitions,
        "One metric name recorded as two instrument types (e.g. a gauge and a counter) cannot be queried as one metric.",
        "Record the metric with one instrument type everywhere, or rename one of them.",
        None,
    ),
    rule(
        "OTP-D004",
        "metric-name-is-attribute-key",
        Warning,
        Definitions,
        "A metric named like an attribute key (e.g. `http.response.status_code`) is ambiguous in queries and in backends that flatten both.",
        "Name the metric for what it measures, e.g. `http.server.request.duration`, and keep the key as an attribute.",
        Some("MET-006"),
    ),
    rule(
        "OTP-B001",
        "baseline-service-missing",
        Error,
        Baseline,
        "A service the baseline promises sent no telemetry at all, so every dashboard and alert on it goes blank.",
        "Check that the service still exports (endpoint, service.name), or update the baseline with `--write-baseline`.",
        None,
    ),
    rule(
        "OTP-B002",
        "baseline-metric-removed",
        Error,
        Baseline,
        "A removed or renamed metric breaks the dashboards, alerts and SLOs that query it.",
        "Keep emitting the old name (or both names during a migration), or update the baseline on purpose with `--write-baseline`.",
        None,
    ),
    rule(
        "OTP-B003",
        "baseline-metric-added",
        Info,
        Baseline,
        "A metric the baseline does not know is not yet promised to anyone; recording it in the baseline protects it.",
        "Run `otel-parity lint --write-baseline` and commit the baseline.",
        None,
    ),
    rule(
        "OTP-B004",
        "baseline-metric-type-changed",
        Error,
        Baseline,
        "A metric whose instrument type changed (e.g. counter → gauge, or monotonic → not) breaks every query that aggregates it.",
        "Keep the instrument type, or introduce the new type under a new name.",
        None,
    ),
    rule(
        "OTP-B005",
        "baseline-metric-unit-changed",
        Error,
        Baseline,
        "A changed unit silently scales every threshold and panel (e.g. `s` → `ms` makes a 1 s alert fire at 1 ms).",
        "Keep the unit, or introduce the new unit under a new metric name.",
        None,
    ),
    rule(
        "OTP-B006",
        "baseline-metric-temporality-changed",
        Error,
        Baseline,
        "Switching between cumulative and delta temporality changes how backends compute rates, and breaks them without a conversion.",
        "Keep the exporter's temporality preference (e.g. `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).",
        None,
    ),
    rule(
        "OTP-B007",
        "baseline-label-removed",
        Error,
        Baseline,
        "A removed attribute key breaks every query, alert and dashboard that groups or filters by it.",
        "Keep recording the attribute, or update the baseline on purpose with `--write-baseline`.",
        None,
    ),
    rule(
        "OTP-B008",
        "baseline-label-added",
        Warning,
        Baseline,
        "An added attribute key multiplies the metric's series and changes the result of queries that do not aggregate it away.",
        "Check the new key's cardinality, then update the baseline with `--write-baseline`.",
        None,
    ),
    rule(
        "OTP-B009",
        "baseline-buckets-changed",
        Warning,
        Baseline,
        "Changed histogram buckets break percentiles and heatmaps across the change and SLOs that count a bucket boundary.",
        "Keep the bucket boundaries (configure them with a View), or update the baseline on purpose.",
        None,
    ),
    rule(
        "OTP-B010",
        "baseline-span-operation-missing",
        Error,
        Baseline,
        "A span operation (name and kind) the baseline promises is gone, so trace-based alerts, service maps and span metrics lose it.",
        "Keep the span name and kind stable, or update the baseline on purpose with `--write-baseline`.",
        None,
    ),
    rule(
        "OTP-B011",
        "baseline-log-event-missing",
        Warning,
        Baseline,
        "A log event name the baseline promises no longer appears, so log-based alerts and pipelines keyed on it go silent.",
        "Keep emitting the event (`event.name`), or update the baseline on purpose with `--write-baseline`.",
        None,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_follow_their_family_letter() {
        for (index, id) in RuleId::ALL.into_iter().enumerate() {
            assert_eq!(id as usize, index, "{id} is out of registry order");
            let rule = id.rule();
            let letter = match rule.family {
                Family::Naming => 'M',
                Family::SemanticConventions => 'S',
                Family::Cardinality => 'C',
                Family::Definitions => 'D',
                Family::Baseline => 'B',
            };
            assert!(rule.id.starts_with(&format!("OTP-{letter}")), "{}", rule.id);
            assert_eq!(RuleId::from_id(rule.id), Some(id));
        }
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
    }

    #[test]
    fn every_rule_has_a_doc_entry_naming_its_level_and_rationale() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/lint-rules.md");
        let docs = std::fs::read_to_string(path).expect("docs/lint-rules.md exists");
        for rule in &RULES {
            let heading = format!("### {} {}", rule.id, rule.name);
            let start = docs
                .find(&heading)
                .unwrap_or_else(|| panic!("docs/lint-rules.md has no `{heading}`"));
            let entry = &docs[start..];
            let entry = &entry[..entry[3..].find("\n### ").map_or(entry.len(), |end| end + 3)];
            assert!(
                entry.contains(&format!("**Level:** {}", rule.level)),
                "{}: level",
                rule.id
            );
            assert!(entry.contains(rule.rationale), "{}: rationale", rule.id);
            match rule.instrumentation_score {
                Some(score) => assert!(entry.contains(score), "{}: {score}", rule.id),
                None => assert!(
                    entry.contains("No Instrumentation Score equivalent"),
                    "{}: no IS equivalent",
                    rule.id
                ),
            }
        }
    }
}
