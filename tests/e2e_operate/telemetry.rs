//! The receiver's own telemetry: what the Python SDK's shop sent, counted in `/metrics` by
//! signal and protocol exactly as the snapshot counts it; a malformed request counted as
//! refused by reason; `/healthz`, and `/readyz` following the pushes.

use std::fs;
use std::time::Duration;

use otel_parity_testkit::e2e::{
    self, AnalyzerProcess, AnalyzerSite, HttpClient, ReceiverProcess, ScratchDir, json_at,
    poll_until, proto_u64,
};
use otel_parity_testkit::raw::http::http_request;
use serde_json::Value;

use crate::{sample, value, wait_for_value};

/// Runs the shop (the Python SDK) against `receiver` over `protocol`; its summary.
fn run_shop(receiver: &ReceiverProcess, protocol: &str, requests: u64) -> Value {
    let requests = requests.to_string();
    let output = e2e::run_python(
        &e2e::app_path("shop.py"),
        &[
            "--protocol",
            protocol,
            "--endpoint-grpc",
            &receiver.grpc_endpoint(),
            "--endpoint-http",
            &receiver.http_endpoint(),
            "--environment",
            "staging",
            "--requests",
            &requests,
        ],
        &[],
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "shop.py printed no JSON summary ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Items of `kind` (`spans`, `logs`, `metric_points`) the shop's exporters sent, over its services.
fn sent(summary: &Value, kind: &str) -> u64 {
    let services = summary["services"]
        .as_object()
        .expect("services in the summary");
    services
        .values()
        .map(|service| service["sent"][kind].as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn metrics_count_what_the_sdk_sent_by_signal_and_protocol_and_refusals_by_reason() {
    e2e::python_venv();
    let mut receiver = ReceiverProcess::start(&[]);
    let (status, body) = receiver.telemetry_get("/healthz");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, body) = receiver.telemetry_get("/readyz");
    assert_eq!((status, body.as_str()), (200, "ready\n"));

    let grpc = run_shop(&receiver, "grpc", 12);
    let http = run_shop(&receiver, "http", 7);
    // One request that is not protobuf: refused as malformed, over HTTP.
    let garbage = http_request(
        receiver.http_addr(),
        "POST",
        "/v1/traces",
        &[("Content-Type", "application/x-protobuf")],
        b"\xff\xff\xff\xff not protobuf",
    );
    assert_eq!(garbage.status, 400, "{}", garbage.describe());

    let spans = |protocol| {
        format!(
            "otel_parity_receiver_accepted_items_total{{signal=\"traces\",protocol=\"{protocol}\"}}"
        )
    };
    let logs = |protocol| {
        format!(
            "otel_parity_receiver_accepted_items_total{{signal=\"logs\",protocol=\"{protocol}\"}}"
        )
    };
    let grpc_spans = sent(&grpc, "spans") as f64;
    assert!(grpc_spans >= 36.0, "the shop sent {grpc_spans} spans");
    assert_eq!(
        wait_for_value(&receiver, &spans("grpc"), grpc_spans),
        grpc_spans
    );
    assert_eq!(
        wait_for_value(&receiver, &spans("http"), sent(&http, "spans") as f64),
        sent(&http, "spans") as f64
    );
    assert_eq!(
        value(&receiver.metrics(), &logs("grpc")),
        sent(&grpc, "logs") as f64
    );
    assert_eq!(
        value(&receiver.metrics(), &logs("http")),
        sent(&http, "logs") as f64
    );

    let metrics = receiver.metrics();
    let refused = |signal: &str, protocol: &str, reason: &str| {
        value(
            &metrics,
            &format!(
                "otel_parity_receiver_refused_requests_total{{signal=\"{signal}\",protocol=\"{protocol}\",reason=\"{reason}\"}}"
            ),
        )
    };
    assert_eq!(refused("traces", "http", "malformed"), 1.0);
    assert_eq!(refused("traces", "grpc", "malformed"), 0.0);
    assert_eq!(refused("traces", "http", "overloaded"), 0.0);
    // The snapshot counts the same requests and items (both protocols together).
    let logs_sent = sent(&grpc, "logs") + sent(&http, "logs");
    let snapshot = receiver
        .wait_for_snapshot(Duration::from_secs(10), |s| {
            let received =
                |signal, field| proto_u64(json_at(s, &["received", signal, field])).unwrap_or(0);
            received("logs", "items") == logs_sent && received("traces", "rejectedRequests") == 1
        })
        .expect("a snapshot with every log record");
    for signal in ["traces", "metrics", "logs"] {
        let requests: f64 = ["grpc", "http"]
            .iter()
            .map(|p| value(&metrics, &format!("otel_parity_receiver_accepted_requests_total{{signal=\"{signal}\",protocol=\"{p}\"}}")))
            .sum();
        let items: f64 = ["grpc", "http"]
            .iter()
            .map(|p| value(&metrics, &format!("otel_parity_receiver_accepted_items_total{{signal=\"{signal}\",protocol=\"{p}\"}}")))
            .sum();
        let received =
            |field| proto_u64(json_at(&snapshot, &["received", signal, field])).unwrap_or(0) as f64;
        assert!(requests >= 2.0, "{signal}: {requests} requests");
        assert_eq!(
            (requests, items),
            (received("requests"), received("items")),
            "{signal}"
        );
    }
    assert!(
        value(
            &metrics,
            "otel_parity_receiver_wire_bytes_total{signal=\"traces\",protocol=\"grpc\"}"
        ) > 1000.0
    );
    assert!(value(&metrics, "otel_parity_receiver_fingerprint_memory_bytes") > 0.0);
    assert_eq!(value(&metrics, "otel_parity_receiver_inflight_bytes"), 0.0);
    assert_eq!(
        value(&metrics, "otel_parity_receiver_inflight_bytes_limit"),
        (64u64 << 20) as f64
    );
    assert_eq!(
        value(
            &metrics,
            "otel_parity_receiver_overflow_total{cap=\"services\"}"
        ),
        0.0
    );
}

#[test]
fn metrics_are_openmetrics_when_the_scraper_asks_for_it() {
    let receiver = ReceiverProcess::start(&[]);
    let url = format!("http://{}/metrics", receiver.telemetry_addr());
    let answer = HttpClient::new()
        .request(
            &url,
            &[(
                "Accept",
                "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
            )],
        )
        .expect("/metrics answers");
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(answer.body.ends_with("# EOF\n"), "{}", answer.body);
    assert!(
        answer
            .body
            .contains("# TYPE otel_parity_receiver_refused_requests counter\n")
    );
    let classic = receiver.metrics();
    assert!(classic.contains("# TYPE otel_parity_receiver_refused_requests_total counter\n"));
    assert!(!classic.contains("# EOF"));
}

#[test]
fn readyz_fails_while_pushes_fail_longer_than_configured_and_recovers_with_the_analyzer() {
    let dir = ScratchDir::new("readyz");
    let site = AnalyzerSite::new(&dir.path().join("analyzer"));
    let mut analyzer = AnalyzerProcess::start_at(&site, 1);
    let config = dir.path().join("receiver.yaml");
    fs::write(&config, "telemetry:\n  not_ready_after: 2s\n").expect("config written");
    let receiver = ReceiverProcess::start(&[
        "--config",
        config.to_str().expect("utf-8 path"),
        "--analyzer",
        &site.push_url(),
        "--push-interval",
        "1s",
    ]);
    let send_one = || {
        let request = otel_parity_testkit::shop::Shop::staging().traces_request(1, 0);
        let body = prost::Message::encode_to_vec(&request);
        let answer = http_request(
            receiver.http_addr(),
            "POST",
            "/v1/traces",
            &[("Content-Type", "application/x-protobuf")],
            &body,
        );
        assert_eq!(answer.status, 200, "{}", answer.describe());
    };
    send_one();
    let acknowledged = "otel_parity_receiver_push_attempts_total{result=\"acknowledged\"}";
    assert!(wait_for_value(&receiver, acknowledged, 1.0) >= 1.0);
    assert!(
        value(
            &receiver.metrics(),
            "otel_parity_receiver_seconds_since_last_acknowledged_push"
        ) < 5.0
    );
    assert_eq!(receiver.telemetry_get("/readyz").0, 200);

    analyzer.kill_9();
    send_one();
    let failing = poll_until(Duration::from_secs(20), Duration::from_millis(200), || {
        receiver.telemetry_get("/readyz").0 == 503
    });
    let (status, body) = receiver.telemetry_get("/readyz");
    assert!(failing, "/readyz stayed {status}: {body}");
    assert!(
        body.starts_with("not ready: pushes to the analyzer have failed for")
            && body.contains("telemetry.not_ready_after: 2s"),
        "{body}"
    );
    let metrics = receiver.metrics();
    assert!(
        value(
            &metrics,
            "otel_parity_receiver_push_attempts_total{result=\"failed\"}"
        ) >= 2.0
    );
    assert!(value(&metrics, "otel_parity_receiver_push_pending_windows") >= 1.0);
    assert!(
        value(
            &metrics,
            "otel_parity_receiver_seconds_since_last_acknowledged_push"
        ) >= 2.0
    );
    // Health is the process, not its pushes.
    assert_eq!(receiver.telemetry_get("/healthz").0, 200);

    let _analyzer = AnalyzerProcess::start_at(&site, 2);
    let recovered = poll_until(Duration::from_secs(45), Duration::from_millis(200), || {
        receiver.telemetry_get("/readyz").0 == 200
    });
    assert!(
        recovered,
        "/readyz: {:?}",
        receiver.telemetry_get("/readyz")
    );
    assert_eq!(
        wait_for_value(&receiver, "otel_parity_receiver_push_pending_windows", 0.0),
        0.0
    );
    assert!(
        sample(
            &receiver.metrics(),
            "otel_parity_receiver_seconds_since_last_acknowledged_push"
        )
        .is_some_and(|s| s < 30.0)
    );
}
