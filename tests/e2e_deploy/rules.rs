//! The Prometheus rules in config/prometheus/: promtool accepts them and
//! their unit tests pass; every alert is labelled, annotated and linked to a
//! runbook section that exists; the burn-rate factors respect the objective.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_yaml_ng::Value;

use otel_parity_testkit::e2e::{run_with_timeout, workspace_root};

/// Where every alert's `runbook_url` points, followed by `#<section anchor>`.
pub const RUNBOOK_URL: &str =
    "https://github.com/otel-parity/otel-parity/blob/main/docs/runbook.md";

/// The alerts the issue asks for, by name.
const REQUIRED_ALERTS: [&str; 5] = [
    "TelemetryParityTracesMissing",
    "TelemetryParityIngestionRatioOutOfBand",
    "TelemetryParitySamplingDrift",
    "TelemetryParityCoverageFastBurn",
    "TelemetryParityReceiverPushFailing",
];

/// How long promtool may take (its unit tests evaluate days of series).
const PROMTOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// config/prometheus/.
pub fn rules_dir() -> PathBuf {
    workspace_root().join("config").join("prometheus")
}

/// The rule files, recording rules first (alerts use them).
pub fn rule_files() -> Vec<PathBuf> {
    vec![
        rules_dir().join("recording-rules.yaml"),
        rules_dir().join("alerting-rules.yaml"),
    ]
}

/// A YAML file, parsed.
pub fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// Every rule (the mappings under `groups[].rules[]`) of every rule file.
pub fn all_rules() -> Vec<Value> {
    let mut rules = Vec::new();
    for file in rule_files() {
        let document = read_yaml(&file);
        for group in document["groups"].as_sequence().into_iter().flatten() {
            rules.extend(group["rules"].as_sequence().into_iter().flatten().cloned());
        }
    }
    rules
}

/// The names the recording rules define.
pub fn recording_rule_names() -> BTreeSet<String> {
    all_rules()
        .iter()
        .filter_map(|rule| rule["record"].as_str().map(str::to_owned))
        .collect()
}

fn alerts() -> Vec<Value> {
    all_rules()
        .into_iter()
        .filter(|rule| rule["alert"].is_string())
        .collect()
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("")
}

/// Runs promtool with `args` in config/prometheus/, failing with its output.
fn promtool(args: &[&str]) {
    let output = run_with_timeout(
        Command::new("promtool").args(args).current_dir(rules_dir()),
        PROMTOOL_TIMEOUT,
        "promtool (Debian package prometheus; scripts/test installs it)",
    );
    assert!(
        output.status.success(),
        "promtool {args:?} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn promtool_check_rules_accepts_the_rule_files() {
    promtool(&[
        "check",
        "rules",
        "recording-rules.yaml",
        "alerting-rules.yaml",
    ]);
}

#[test]
fn promtool_unit_tests_of_the_rules_pass() {
    promtool(&["test", "rules", "tests.yaml"]);
}

/// GitHub's anchor of a Markdown heading: lower case, punctuation dropped,
/// spaces as hyphens.
fn github_anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Anchors of every heading of docs/runbook.md.
fn runbook_anchors() -> BTreeSet<String> {
    let path = workspace_root().join("docs").join("runbook.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut in_code = false;
    let mut anchors = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            anchors.insert(github_anchor(line.trim_start_matches('#')));
        }
    }
    anchors
}

#[test]
fn every_alert_has_a_severity_a_summary_a_description_and_a_runbook_section() {
    let anchors = runbook_anchors();
    let alerts = alerts();
    let names: BTreeSet<&str> = alerts.iter().map(|a| text(a, "alert")).collect();
    for required in REQUIRED_ALERTS {
        assert!(names.contains(required), "no alert {required}: {names:?}");
    }
    let mut problems = Vec::new();
    for alert in &alerts {
        let name = text(alert, "alert");
        let severity = text(&alert["labels"], "severity");
        if !["critical", "warning", "info"].contains(&severity) {
            problems.push(format!("{name}: severity {severity:?}"));
        }
        for annotation in ["summary", "description"] {
            if text(&alert["annotations"], annotation).trim().is_empty() {
                problems.push(format!("{name}: no {annotation}"));
            }
        }
        let url = text(&alert["annotations"], "runbook_url");
        match url
            .strip_prefix(RUNBOOK_URL)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(anchor) if anchors.contains(anchor) => {
                if anchor != name.to_lowercase() {
                    problems.push(format!("{name}: runbook_url points at #{anchor}"));
                }
            }
            Some(anchor) => problems.push(format!(
                "{name}: docs/runbook.md has no section #{anchor} (sections: {anchors:?})"
            )),
            None => problems.push(format!(
                "{name}: runbook_url {url:?} not under {RUNBOOK_URL}#"
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_alert_has_a_unit_test_where_it_fires_and_one_where_it_must_not() {
    let tests = read_yaml(&rules_dir().join("tests.yaml"));
    // alert name → (fires somewhere, quiet somewhere)
    let mut cases: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for test in tests["tests"].as_sequence().into_iter().flatten() {
        for case in test["alert_rule_test"].as_sequence().into_iter().flatten() {
            let expected = case["exp_alerts"].as_sequence().map_or(0, Vec::len);
            let entry = cases.entry(text(case, "alertname").to_owned()).or_default();
            if expected > 0 {
                entry.0 = true;
            } else {
                entry.1 = true;
            }
        }
        // `ALERTS{alertname="…"}` expression tests with samples: firing.
        for case in test["promql_expr_test"].as_sequence().into_iter().flatten() {
            let expr = text(case, "expr");
            let samples = case["exp_samples"].as_sequence().map_or(0, Vec::len);
            if let Some(rest) = expr.strip_prefix("ALERTS{alertname=\"") {
                let name = rest.split('"').next().unwrap_or("");
                if samples > 0 {
                    cases.entry(name.to_owned()).or_default().0 = true;
                }
            }
        }
    }
    let mut missing = Vec::new();
    for alert in alerts() {
        let name = text(&alert, "alert");
        let (fires, quiet) = cases.get(name).copied().unwrap_or_default();
        if !fires {
            missing.push(format!("{name}: no test where it fires"));
        }
        if !quiet {
            missing.push(format!("{name}: no test where it must not fire"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The objective the rules work with: the analyzer's default
/// `evaluation.coverage_objective`, which its recording rule must read from
/// the metric the analyzer exports (the one place it is set is the
/// analyzer's config).
fn objective() -> f64 {
    let rules = all_rules();
    let objectives: Vec<&Value> = rules
        .iter()
        .filter(|r| text(r, "record") == "slo:otel_parity_coverage_objective:ratio")
        .collect();
    assert_eq!(objectives.len(), 1, "the objective must be defined once");
    let expr = text(objectives[0], "expr").trim();
    assert!(
        expr.contains("otel_parity_coverage_objective_ratio") && !expr.contains("vector("),
        "the objective rule must read the analyzer's otel_parity_coverage_objective_ratio, not a constant: {expr}"
    );
    otel_parity_analyzer::config::AnalyzerConfig::default()
        .evaluation
        .coverage_objective
}

#[test]
fn burn_rate_factors_stay_below_the_highest_burn_rate_the_objective_allows() {
    let objective = objective();
    assert!(
        (objective - 0.9).abs() < 1e-12,
        "default objective 90%, got {objective}"
    );
    // An error ratio cannot exceed 1, so burn rate ≤ 1 / (1 − objective).
    let ceiling = 1.0 / (1.0 - objective);
    let mut burn_alerts = 0;
    for alert in alerts() {
        let name = text(&alert, "alert");
        let expr = text(&alert, "expr");
        let factors: Vec<f64> = expr
            .lines()
            .filter(|line| line.contains(":burn_rate"))
            .map(|line| {
                line.rsplit_once('>')
                    .and_then(|(_, factor)| factor.trim().parse().ok())
                    .unwrap_or_else(|| panic!("{name}: cannot read the factor of {line:?}"))
            })
            .collect();
        if factors.is_empty() {
            continue;
        }
        burn_alerts += 1;
        assert_eq!(
            factors.len(),
            2,
            "{name}: a long and a short window: {expr}"
        );
        assert_eq!(factors[0], factors[1], "{name}: both windows, one factor");
        assert!(
            factors[0] < ceiling,
            "{name}: factor {}× can never be reached with a {objective} objective (at most {ceiling}×)",
            factors[0]
        );
        assert_eq!(
            alert["labels"]["slo"].as_str(),
            Some("telemetry_parity_coverage"),
            "{name}"
        );
    }
    assert_eq!(burn_alerts, 3, "fast, slow and budget burn alerts");
    // Every burn rate divides by the budget derived from the objective.
    for rule in all_rules() {
        let record = text(&rule, "record");
        if record.contains(":burn_rate") {
            assert!(
                text(&rule, "expr").contains("slo:otel_parity_coverage_error_budget:ratio"),
                "{record} does not use the error budget rule"
            );
        }
    }
}

#[test]
fn recording_rules_are_named_level_metric_operations() {
    let names = recording_rule_names();
    for window in ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] {
        let name = format!("baseline_candidate:otel_parity_comparisons:error_ratio_rate{window}");
        assert!(names.contains(&name), "no {name}");
    }
    for name in &names {
        let parts: Vec<&str> = name.split(':').collect();
        assert!(
            parts.len() == 3 && parts.iter().all(|p| !p.is_empty()),
            "{name} is not level:metric:operations"
        );
    }
}
