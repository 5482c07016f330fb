//! A real Prometheus scrapes a running `otel-parity demo` with the shipped
//! rules and sees what an operator would: TelemetryParityTracesMissing
//! firing for shop/payment (which the demo plants without traces in staging)
//! and shop/recommendation (gone from staging, spans included) and for no
//! other service, every rule evaluating cleanly, and
//! the coverage SLO's recording rules agreeing with the analyzer (its
//! coverage and its configured coverage objective).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use otel_parity_testkit::e2e::ScratchDir;
use serde_json::Value as Json;
use serde_yaml_ng::Value;

use crate::processes::{Demo, Prometheus};
use crate::rules::{read_yaml, rule_files};

/// How long the alert may take to fire once Prometheus is up: scrapes and
/// evaluations run every second and `for:` is shortened to 1 s.
const FIRING_TIMEOUT: Duration = Duration::from_secs(40);

/// The shipped rule files with every `for:` shortened to 1 s and every
/// group evaluated at the global interval (1 s here): the same expressions,
/// on a test's time scale. The `for:` values themselves are pinned by
/// `promtool test rules` (config/prometheus/tests.yaml).
fn write_fast_rules(dir: &Path) -> Vec<PathBuf> {
    rule_files()
        .iter()
        .map(|file| {
            let mut document = read_yaml(file);
            for group in document["groups"].as_sequence_mut().into_iter().flatten() {
                if let Some(group) = group.as_mapping_mut() {
                    group.remove("interval");
                }
                for rule in group["rules"].as_sequence_mut().into_iter().flatten() {
                    if let Some(rule) = rule.as_mapping_mut()
                        && rule.contains_key("for")
                    {
                        rule.insert("for".into(), Value::from("1s"));
                    }
                }
            }
            let name = file.file_name().unwrap_or_default();
            let path = dir.join(name);
            let text = serde_yaml_ng::to_string(&document)
                .unwrap_or_else(|e| panic!("cannot write rules: {e}"));
            std::fs::write(&path, text)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            path
        })
        .collect()
}

/// A Prometheus scraping `demo` every second with the (fast) shipped rules.
pub fn prometheus_for(demo: &Demo, dir: &ScratchDir) -> Prometheus {
    let rules = write_fast_rules(dir.path());
    let rule_list: String = rules
        .iter()
        .map(|path| format!("  - {}\n", path.display()))
        .collect();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files:\n{rule_list}\
         scrape_configs:\n  - job_name: otel-parity-analyzer\n    static_configs:\n      - targets: ['{}']\n\
         \x20 - job_name: otel-parity-receiver\n    static_configs:\n      - targets: ['{}']\n",
        demo.http, demo.telemetry
    );
    let path = dir.path().join("prometheus.yml");
    std::fs::write(&path, config).unwrap_or_else(|e| panic!("cannot write prometheus.yml: {e}"));
    Prometheus::start(&path, dir.path())
}

/// Alerts named `name` of Prometheus' `/api/v1/alerts`.
fn alerts_named(prometheus: &Prometheus, name: &str) -> Vec<Json> {
    prometheus.api("/api/v1/alerts")["data"]["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["labels"]["alertname"] == name)
        .cloned()
        .collect()
}

fn describe(alerts: &[Json]) -> String {
    alerts
        .iter()
        .map(|a| format!("{} {}", a["labels"], a["state"]))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn prometheus_scraping_the_demo_fires_traces_missing_only_where_staging_lost_traces() {
    let demo = Demo::start();
    let dir = ScratchDir::new("deploy-prometheus-alert");
    let prometheus = prometheus_for(&demo, &dir);

    let deadline = Instant::now() + FIRING_TIMEOUT;
    let firing = loop {
        let alerts = alerts_named(&prometheus, "TelemetryParityTracesMissing");
        // payment sends no spans in staging; recommendation is gone from
        // staging altogether, spans included.
        let firing_for = |service: &str| {
            alerts
                .iter()
                .any(|a| a["labels"]["service"] == service && a["state"] == "firing")
        };
        if firing_for("shop/payment") && firing_for("shop/recommendation") {
            break alerts;
        }
        assert!(
            Instant::now() < deadline,
            "TelemetryParityTracesMissing not firing for shop/payment and shop/recommendation within {FIRING_TIMEOUT:?}; \
             alerts now:\n{}\nprometheus targets: {}\ndemo /metrics traces_missing:\n{}",
            describe(&alerts),
            prometheus.api("/api/v1/targets")["data"]["activeTargets"],
            demo.metrics()
                .lines()
                .filter(|l| l.starts_with("otel_parity_traces_missing"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(250));
    };

    let payment = firing
        .iter()
        .find(|a| a["labels"]["service"] == "shop/payment")
        .cloned()
        .unwrap_or_default();
    assert_eq!(payment["labels"]["severity"], "critical");
    assert_eq!(payment["labels"]["baseline"], "prod");
    assert_eq!(payment["labels"]["candidate"], "staging");
    assert_eq!(
        payment["annotations"]["summary"],
        "shop/payment sends traces in prod but none in staging"
    );
    // The other services send traces in both: no alert, not even pending.
    let others: Vec<Json> = firing
        .iter()
        .filter(|a| a["labels"]["service"] != "shop/payment")
        .filter(|a| a["labels"]["service"] != "shop/recommendation")
        .cloned()
        .collect();
    assert!(
        others.is_empty(),
        "TelemetryParityTracesMissing for other services:\n{}",
        describe(&others)
    );
    // The analyzer exposes the others at 0: the alert had series to reject.
    let services_at_zero = prometheus.query("otel_parity_traces_missing == 0");
    assert!(
        services_at_zero.len() >= 3,
        "expected the demo's other services at 0: {services_at_zero:?}"
    );
}

/// The coverage objective of the demo the SLO rules are checked against:
/// not the default, so that a rule with the default built in cannot pass.
const OBJECTIVE: f64 = 0.75;

#[test]
fn every_rule_evaluates_cleanly_and_the_slo_rules_agree_with_the_analyzer() {
    let dir = ScratchDir::new("deploy-prometheus-rules");
    let config = dir.path().join("demo.yaml");
    std::fs::write(
        &config,
        format!("analyzer:\n  evaluation:\n    coverage_objective: {OBJECTIVE}\n"),
    )
    .unwrap_or_else(|e| panic!("cannot write the demo's config: {e}"));
    let demo = Demo::start_with(&["--config", &config.display().to_string()]);
    let prometheus = prometheus_for(&demo, &dir);
    let pair = r#"{baseline="prod",candidate="staging"}"#;
    let value = |result: &[Json]| -> Option<f64> {
        result
            .first()
            .and_then(|sample| sample["value"][1].as_str())
            .and_then(|v| v.parse().ok())
    };

    // The 5-minute burn rate needs the comparison counters to have grown
    // between two scrapes.
    let deadline = Instant::now() + FIRING_TIMEOUT;
    let (coverage, burn) = loop {
        let coverage = value(&prometheus.query(&format!(
            "baseline_candidate:otel_parity_coverage_ratio:min{pair}"
        )));
        let burn = value(&prometheus.query(&format!(
            "baseline_candidate:otel_parity_comparisons:burn_rate5m{pair}"
        )));
        // NaN (0 ÷ 0) until two scrapes straddle an evaluation round.
        if let (Some(coverage), Some(burn)) = (coverage, burn.filter(|b| b.is_finite())) {
            break (coverage, burn);
        }
        assert!(
            Instant::now() < deadline,
            "no coverage or burn rate in Prometheus within {FIRING_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    // The demo covers 4 of its 5 baseline services in every round, so the
    // counters' error ratio is the gauge's complement: 0.2, a 2× burn.
    let analyzer_coverage = demo
        .metrics()
        .lines()
        .find_map(|line| {
            line.strip_prefix(r#"otel_parity_coverage_ratio{baseline="prod",candidate="staging"} "#)
                .and_then(|v| v.trim().parse::<f64>().ok())
        })
        .unwrap_or_else(|| panic!("no prod/staging coverage in the demo's /metrics"));
    assert_eq!(coverage, analyzer_coverage, "recorded coverage");
    // The objective comes from the analyzer's config, through its metric.
    let exported = demo.metrics().lines().find_map(|line| {
        line.strip_prefix("otel_parity_coverage_objective_ratio ")
            .and_then(|v| v.trim().parse::<f64>().ok())
    });
    assert_eq!(exported, Some(OBJECTIVE), "the demo's exported objective");
    let objective = value(&prometheus.query("slo:otel_parity_coverage_objective:ratio"));
    assert_eq!(objective, Some(OBJECTIVE), "the recorded objective");
    let expected_burn = ((1.0 - analyzer_coverage) / (1.0 - OBJECTIVE) * 1000.0).round() / 1000.0;
    assert_eq!(
        burn, expected_burn,
        "5-minute burn rate at coverage {coverage} and objective {OBJECTIVE}"
    );

    // Every rule loaded and evaluated without error against real series
    // (health stays "unknown" until a rule's first evaluation).
    let shipped = crate::rules::all_rules().len();
    let deadline = Instant::now() + FIRING_TIMEOUT;
    let rules = loop {
        let rules: Vec<Json> = prometheus.api("/api/v1/rules")["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        if rules.iter().all(|r| r["health"] != "unknown") || Instant::now() >= deadline {
            break rules;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(rules.len(), shipped, "rules loaded by Prometheus");
    let unhealthy: Vec<String> = rules
        .iter()
        .filter(|r| r["health"] != "ok")
        .map(|r| format!("{} {}: {}", r["name"], r["health"], r["lastError"]))
        .collect();
    assert!(
        unhealthy.is_empty(),
        "rules failing:\n{}",
        unhealthy.join("\n")
    );
}
