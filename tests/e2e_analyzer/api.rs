//! The HTTP API against a running demo: `/metrics` passes a real
//! `promtool check metrics` and carries the comparison; bad queries get JSON
//! errors and the server keeps serving.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::server::Running;

/// The value of the sample `name{labels}` in a text exposition.
fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.trim().parse().ok())
}

fn promtool_check_metrics(exposition: &[u8]) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "promtool not found ({e}): install the Debian package `prometheus` (.ci/run does)"
            )
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(exposition)
        .expect("exposition written");
    let output = child.wait_with_output().expect("promtool runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn metrics_pass_promtool_and_carry_the_comparison() {
    let demo = Running::demo();
    let pair = r#"{baseline="prod",candidate="staging"}"#;
    // The demo has printed its report: all its traffic is stored. A round
    // that started before may have seen part of it: wait for one that
    // started after (its timestamp is its start).
    let stored_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64();
    demo.wait_for(|d| {
        sample(
            &String::from_utf8_lossy(&d.get("/metrics").body),
            &format!("otel_parity_last_evaluation_timestamp_seconds{pair}"),
        )
        .is_some_and(|started| started > stored_at)
    });
    let response = demo.get("/metrics");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let (ok, complaints) = promtool_check_metrics(&response.body);
    assert!(ok, "promtool check metrics failed:\n{complaints}");
    let text = String::from_utf8_lossy(&response.body);
    assert_eq!(
        sample(&text, &format!("otel_parity_coverage_ratio{pair}")),
        Some(0.8)
    );
    assert_eq!(
        sample(
            &text,
            r#"otel_parity_traces_missing{baseline="prod",candidate="staging",service="shop/payment"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"otel_parity_traces_missing{baseline="prod",candidate="staging",service="shop/frontend"}"#
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"otel_parity_findings{baseline="prod",candidate="staging",severity="critical",dimension="missing_traces"}"#
        ),
        Some(1.0)
    );
    let logs = sample(
        &text,
        r#"otel_parity_ingestion_ratio{baseline="prod",candidate="staging",service="shop/cart",signal="logs"}"#,
    )
    .expect("cart logs ratio");
    assert!((logs - 3.0).abs() < 0.01, "cart logs ratio {logs}");
    assert!(
        sample(
            &text,
            r#"otel_parity_comparisons_total{baseline="prod",candidate="staging",result="covered"}"#
        )
        .is_some_and(|n| n >= 4.0)
    );
    assert!(
        sample(&text, r#"otel_parity_pushes_total{result="stored"}"#).is_some_and(|n| n >= 2.0)
    );

    // Prometheus asks for OpenMetrics and gets it.
    let openmetrics = demo.get_with(
        "/metrics",
        &[("Accept", "application/openmetrics-text;version=1.0.0")],
    );
    assert!(
        openmetrics
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text"))
    );
    assert!(String::from_utf8_lossy(&openmetrics.body).ends_with("# EOF\n"));
}

#[test]
fn api_refuses_bad_queries_with_json_errors_and_keeps_serving() {
    let demo = Running::demo();
    let error = |path: &str, status: u16, needle: &str| {
        let response = demo.get(path);
        assert_eq!(response.status, status, "{path}: {}", response.describe());
        assert_eq!(response.media_type(), "application/json", "{path}");
        let body: Value = serde_json::from_slice(&response.body).expect("JSON error body");
        let message = body["error"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains(needle), "{path}: {message}");
    };
    error("/api/v1/report?candidate=staging", 400, "baseline");
    error("/api/v1/report?baseline=prod", 400, "candidate");
    error("/api/v1/report?baseline=prod&candidate=qa", 404, "qa");
    error(
        "/api/v1/report?baseline=prod&candidate=staging&since=soon",
        400,
        "since",
    );
    error(
        "/api/v1/report?baseline=prod&candidate=staging&format=pdf",
        400,
        "pdf",
    );
    error(
        "/api/v1/report?baseline=prod&candidate=staging&colour=red",
        400,
        "colour",
    );
    error("/api/v1/findings?severity=urgent", 400, "urgent");
    assert_eq!(demo.get("/api/v1/nothing").status, 404);
    assert_eq!(demo.get("/healthz").status, 200);
    assert_eq!(demo.get("/readyz").status, 200);

    // Still serving, with the same answers.
    let environments: Value =
        serde_json::from_slice(&demo.get("/api/v1/environments").body).expect("JSON");
    let names: Vec<&str> = environments
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, ["prod", "staging"]);
    let text = demo.get("/api/v1/report?baseline=prod&candidate=staging&format=text");
    assert_eq!(text.status, 200);
    assert!(String::from_utf8_lossy(&text.body).contains("[CRITICAL] missing_traces"));
    // Findings come from the periodic evaluation (every 2 s in the demo).
    let findings = |d: &Running| {
        serde_json::from_slice::<Value>(&d.get("/api/v1/findings?severity=critical").body).ok()
    };
    demo.wait_for(|d| {
        findings(d)
            .and_then(|f| f.as_array().map(|a| !a.is_empty()))
            .unwrap_or(false)
    });
    let critical = findings(&demo).expect("JSON");
    assert_eq!(critical.as_array().map(Vec::len), Some(1));
    assert_eq!(critical[0]["finding"]["service"], "shop/payment");
}
