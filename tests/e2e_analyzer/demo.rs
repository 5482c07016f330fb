//! `otel-parity demo --exit`: the report it prints covers every dimension.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use otel_parity_testkit::e2e::{ScratchDir, free_port, run_with_timeout};

#[test]
fn demo_exit_prints_a_report_with_findings_in_every_dimension() {
    let dir = ScratchDir::new("demo-exit");
    let addr = |port: u16| format!("127.0.0.1:{port}");
    let output = run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_otel-parity"))
            .args(["demo", "--exit", "--format", "json"])
            .args([
                "--otlp-grpc",
                &addr(free_port()),
                "--otlp-http",
                &addr(free_port()),
            ])
            .args([
                "--listen",
                &addr(free_port()),
                "--push-listen",
                &addr(free_port()),
            ])
            .arg("--data-dir")
            .arg(dir.path().join("data")),
        Duration::from_secs(120),
        "otel-parity demo --exit",
    );
    assert!(
        output.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("the report is JSON");
    assert_eq!(report["baseline"], "prod");
    assert_eq!(report["candidate"], "staging");
    let findings = report["findings"].as_array().expect("findings");
    let above_info = |dimension: &str| {
        findings
            .iter()
            .filter(|f| f["dimension"] == dimension && f["severity"] != "info")
            .count()
    };
    for dimension in [
        "services",
        "metric_definitions",
        "label_keys",
        "cardinality",
        "missing_traces",
        "span_operations",
        "span_attributes",
        "edges",
        "context_propagation",
        "sampling",
        "logs",
        "versions",
        "ingestion",
        "semconv",
    ] {
        assert!(
            above_info(dimension) > 0,
            "no finding above info in {dimension}"
        );
    }
    let missing = findings
        .iter()
        .find(|f| f["dimension"] == "missing_traces")
        .expect("missing traces finding");
    assert_eq!(
        (missing["service"].as_str(), missing["severity"].as_str()),
        (Some("shop/payment"), Some("critical"))
    );
    // Four of the five baseline services with metrics keep all their names.
    assert_eq!(report["scores"]["coverage"], 0.8);
    // Sampling-adjusted: prod keeps 1 trace in 4 at th:c, staging all; the
    // frontend sends the same spans per request in both.
    let frontend_traces =
        &report["scores"]["services"]["shop/frontend"]["ingestion"]["traces"]["ratio"];
    let ratio = frontend_traces.as_f64().expect("frontend traces ratio");
    assert!((ratio - 1.0).abs() < 0.01, "frontend traces ratio {ratio}");
}
