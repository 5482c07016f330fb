//! The Grafana dashboard (config/grafana/otel-parity.json): its queries name
//! only metrics a running analyzer exposes (or recording rules the rule files
//! define), its variables and data source are templated, and against a real
//! Prometheus scraping the demo every panel's query answers with data.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use otel_parity_testkit::e2e::{ScratchDir, workspace_root};
use serde_json::Value;

use crate::processes::Demo;
use crate::prometheus::prometheus_for;
use crate::promql::{metric_names, variable_query_metric_names};
use crate::rules::{all_rules, recording_rule_names};

/// How long the panels may take to all have data.
const DATA_TIMEOUT: Duration = Duration::from_secs(40);

fn dashboard() -> Value {
    let path = workspace_root()
        .join("config")
        .join("grafana")
        .join("otel-parity.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Every panel, those inside collapsed rows included.
fn panels(dashboard: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut stack: Vec<Value> = dashboard["panels"].as_array().cloned().unwrap_or_default();
    while let Some(panel) = stack.pop() {
        stack.extend(panel["panels"].as_array().cloned().unwrap_or_default());
        out.push(panel);
    }
    out
}

/// (where, PromQL) of every panel target.
fn panel_queries(dashboard: &Value) -> Vec<(String, String)> {
    let mut queries = Vec::new();
    for panel in panels(dashboard) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                let place = format!("panel {:?} target {}", panel["title"], target["refId"]);
                queries.push((place, expr.to_owned()));
            }
        }
    }
    queries
}

/// (where, query) of every templating variable query.
fn variable_queries(dashboard: &Value) -> Vec<(String, String)> {
    let mut queries = Vec::new();
    for variable in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if variable["type"] != "query" {
            continue;
        }
        let place = format!("variable {}", variable["name"]);
        for query in [
            variable["definition"].as_str(),
            variable["query"].as_str(),
            variable["query"]["query"].as_str(),
        ]
        .into_iter()
        .flatten()
        {
            queries.push((place.clone(), query.to_owned()));
        }
    }
    queries
}

/// Sample names and metric family names of a Prometheus text exposition.
fn exposed_names(metrics: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut samples = BTreeSet::new();
    let mut families = BTreeSet::new();
    for line in metrics.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            if let Some(name) = rest.split_whitespace().next() {
                families.insert(name.to_owned());
            }
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            samples.insert(line[..end].to_owned());
        }
    }
    (samples, families)
}

/// Whether `name` is a sample name, or a series of an exposed family
/// (`_bucket`, `_sum`, `_count`, `_total`, `_created` of a family).
fn is_exposed(name: &str, samples: &BTreeSet<String>, families: &BTreeSet<String>) -> bool {
    samples.contains(name)
        || ["_bucket", "_sum", "_count", "_total", "_created"]
            .iter()
            .any(|suffix| {
                name.strip_suffix(suffix)
                    .is_some_and(|base| families.contains(base))
            })
}

#[test]
fn dashboard_and_rules_query_only_metrics_the_analyzer_exposes() {
    let dashboard = dashboard();
    let demo = Demo::start();
    // The analyzer's /metrics and the receiver's (its --telemetry listener).
    let (mut samples, mut families) = exposed_names(&demo.metrics());
    let (receiver_samples, receiver_families) = exposed_names(&demo.receiver_metrics());
    samples.extend(receiver_samples);
    families.extend(receiver_families);
    let recorded = recording_rule_names();

    let mut queries = panel_queries(&dashboard);
    let panel_count = queries.len();
    assert!(panel_count >= 20, "only {panel_count} panel queries");
    let mut named: Vec<(String, String, BTreeSet<String>)> = queries
        .drain(..)
        .map(|(place, expr)| {
            let names = metric_names(&expr);
            (place, expr, names)
        })
        .collect();
    named.extend(
        variable_queries(&dashboard)
            .into_iter()
            .map(|(place, query)| {
                let names = variable_query_metric_names(&query);
                (place, query, names)
            }),
    );
    // The rules are queries too: they must not select metrics that do not exist.
    for rule in all_rules() {
        let name = rule["record"]
            .as_str()
            .or_else(|| rule["alert"].as_str())
            .unwrap_or("?");
        let expr = rule["expr"].as_str().unwrap_or("");
        named.push((format!("rule {name}"), expr.to_owned(), metric_names(expr)));
    }

    let mut problems = Vec::new();
    let mut raw_metrics = BTreeSet::new();
    for (place, expr, names) in &named {
        if names.is_empty() && !expr.trim().starts_with("vector(") {
            problems.push(format!("{place}: selects no metric: {expr}"));
        }
        for name in names {
            if name.contains(':') {
                if !recorded.contains(name) {
                    problems.push(format!(
                        "{place}: recording rule {name} is not in config/prometheus/"
                    ));
                }
            } else if is_exposed(name, &samples, &families) {
                raw_metrics.insert(name.clone());
            } else {
                problems.push(format!("{place}: {name} is not in /metrics ({expr})"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\nexposed: {samples:?}",
        problems.join("\n")
    );
    // The panels read every metric an operator needs, not a subset.
    for needed in [
        "otel_parity_coverage_ratio",
        "otel_parity_score",
        "otel_parity_service_metric_coverage_ratio",
        "otel_parity_ingestion_ratio",
        "otel_parity_findings",
        "otel_parity_traces_missing",
        "otel_parity_comparisons_total",
        "otel_parity_last_evaluation_timestamp_seconds",
        "otel_parity_pushes_total",
        "otel_parity_service_findings",
        "otel_parity_effective_sampling_rate",
        "otel_parity_receiver_accepted_items_total",
        "otel_parity_receiver_refused_requests_total",
        "otel_parity_receiver_push_attempts_total",
        "otel_parity_receiver_push_pending_windows",
        "otel_parity_receiver_seconds_since_last_acknowledged_push",
        "otel_parity_receiver_inflight_bytes",
        "otel_parity_receiver_fingerprint_memory_bytes",
        "otel_parity_receiver_overflow_total",
    ] {
        assert!(raw_metrics.contains(needed), "nothing reads {needed}");
    }
}

#[test]
fn dashboard_variables_and_data_source_are_templated() {
    let dashboard = dashboard();
    assert_eq!(dashboard["schemaVersion"], 39);
    let variables: BTreeMap<String, Value> = dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| (v["name"].as_str().unwrap_or("").to_owned(), v.clone()))
        .collect();
    assert_eq!(variables["datasource"]["type"], "datasource");
    assert_eq!(variables["datasource"]["query"], "prometheus");
    for name in ["baseline", "candidate", "service"] {
        let variable = variables
            .get(name)
            .unwrap_or_else(|| panic!("no variable {name}"));
        assert_eq!(variable["type"], "query", "{name}");
        assert_eq!(variable["datasource"]["uid"], "${datasource}", "{name}");
        let definition = variable["definition"].as_str().unwrap_or("");
        assert!(
            definition.starts_with("label_values(") && definition.ends_with(&format!(", {name})")),
            "{name}: {definition}"
        );
    }
    assert_eq!(variables["service"]["multi"], true);
    // Every panel and target uses the templated data source.
    for panel in panels(&dashboard) {
        if panel["type"] == "row" || panel["type"] == "text" {
            continue;
        }
        assert_eq!(
            panel["datasource"]["uid"], "${datasource}",
            "panel {}",
            panel["title"]
        );
        for target in panel["targets"].as_array().into_iter().flatten() {
            assert_eq!(
                target["datasource"]["uid"], "${datasource}",
                "panel {} target {}",
                panel["title"], target["refId"]
            );
            let expr = target["expr"].as_str().unwrap_or("");
            // Per-environment series show the pair's two environments.
            if expr.contains("otel_parity_effective_sampling_rate") {
                assert!(
                    expr.contains(r#"environment=~"$baseline|$candidate""#),
                    "panel {}: not filtered to $baseline and $candidate: {expr}",
                    panel["title"]
                );
                continue;
            }
            // A panel about one pair must say which pair.
            if expr.contains("otel_parity_")
                && !expr.contains("pushes")
                && !expr.contains("push_bytes")
                && !expr.contains("stored_pushes")
                && !expr.starts_with("slo:")
                && !expr.contains("otel_parity_receiver_")
            {
                assert!(
                    expr.contains(r#"baseline="$baseline", candidate="$candidate""#),
                    "panel {}: not filtered by $baseline and $candidate: {expr}",
                    panel["title"]
                );
            }
        }
    }
}

/// `expr` with Grafana's variables as a user looking at prod and staging,
/// all services, would get them.
fn interpolate(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("$baseline", "prod")
        .replace("$candidate", "staging")
        .replace("$service", ".*")
}

#[test]
fn every_dashboard_query_answers_with_data_from_prometheus_scraping_the_demo() {
    let dashboard = dashboard();
    let demo = Demo::start();
    let dir = ScratchDir::new("deploy-dashboard");
    let prometheus = prometheus_for(&demo, &dir);
    let queries: Vec<(String, String)> = panel_queries(&dashboard)
        .into_iter()
        .map(|(place, expr)| (place, interpolate(&expr)))
        .collect();
    let deadline = Instant::now() + DATA_TIMEOUT;
    loop {
        // `api` fails the test on a query Prometheus cannot parse.
        let empty: Vec<&(String, String)> = queries
            .iter()
            .filter(|(_, expr)| prometheus.query(expr).is_empty())
            .collect();
        if empty.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no data within {DATA_TIMEOUT:?} for:\n{}",
            empty
                .iter()
                .map(|(place, expr)| format!("{place}: {expr}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // The variables' queries list the demo's environments and services.
    let label_values = |label: &str, selector: &str| -> BTreeSet<String> {
        let url = format!(
            "/api/v1/label/{label}/values?match[]={}",
            crate::processes::encode_query_component(selector)
        );
        prometheus.api(&url)["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    assert!(label_values("baseline", "otel_parity_coverage_ratio").contains("prod"));
    assert!(
        label_values(
            "candidate",
            r#"otel_parity_coverage_ratio{baseline="prod"}"#
        )
        .contains("staging")
    );
    assert!(
        label_values(
            "service",
            r#"otel_parity_service_metric_coverage_ratio{baseline="prod", candidate="staging"}"#
        )
        .contains("shop/payment")
    );
}
