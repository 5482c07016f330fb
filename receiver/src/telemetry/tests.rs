//! The exposition an operator scrapes: every known series from the start,
//! counts that follow what the listeners and the pusher report, and
//! readiness that follows the pusher.

use std::time::Duration;

use otel_parity_runtime::exposition::to_prometheus_text;

use super::*;
use crate::EngineConfig;
use crate::limits::Limits;

fn telemetry(not_ready_after: Duration, limits: Limits) -> Arc<ReceiverTelemetry> {
    let engine = Arc::new(Fingerprinter::new(EngineConfig {
        limits,
        ..EngineConfig::default()
    }));
    let budget = InflightBudget::new(64 << 20, Duration::from_secs(1));
    ReceiverTelemetry::new(engine, budget, not_ready_after)
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}

#[test]
fn every_series_with_known_labels_is_exposed_at_zero_from_the_start() {
    let text =
        to_prometheus_text(&telemetry(Duration::ZERO, Limits::default()).encode_openmetrics());
    let mut expected = Vec::new();
    for signal in ["traces", "metrics", "logs"] {
        for protocol in ["grpc", "http"] {
            let labels = format!("signal=\"{signal}\",protocol=\"{protocol}\"");
            for family in [
                "accepted_requests",
                "accepted_items",
                "wire_bytes",
                "decoded_bytes",
            ] {
                expected.push(format!("otel_parity_receiver_{family}_total{{{labels}}}"));
            }
            for reason in [
                "malformed",
                "too_large",
                "unsupported",
                "overloaded",
                "streams",
            ] {
                expected.push(format!(
                    "otel_parity_receiver_refused_requests_total{{{labels},reason=\"{reason}\"}}"
                ));
            }
            expected.push(format!(
                "otel_parity_receiver_refused_items_total{{{labels},reason=\"invalid\"}}"
            ));
        }
        expected.push(format!(
            "otel_parity_receiver_restart_lost_items{{signal=\"{signal}\"}}"
        ));
    }
    for result in ["acknowledged", "failed", "invalid"] {
        expected.push(format!(
            "otel_parity_receiver_push_attempts_total{{result=\"{result}\"}}"
        ));
    }
    for cap in CAPS {
        expected.push(format!(
            "otel_parity_receiver_overflow_total{{cap=\"{cap}\"}}"
        ));
    }
    expected.push("otel_parity_receiver_refused_connections_total{protocol=\"grpc\"}".into());
    expected.push("otel_parity_receiver_push_pending_windows".into());
    expected.push("otel_parity_receiver_inflight_bytes".into());
    let missing: Vec<&String> = expected
        .iter()
        .filter(|series| sample(&text, series) != Some(0.0))
        .collect();
    assert!(missing.is_empty(), "not at 0: {missing:?}\n{text}");
    assert_eq!(
        sample(&text, "otel_parity_receiver_inflight_bytes_limit"),
        Some((64u64 << 20) as f64)
    );
}

#[test]
fn outcomes_overflow_and_auth_are_counted_where_an_operator_looks() {
    let limits = Limits {
        max_services: 1,
        ..Limits::default()
    };
    let telemetry = telemetry(Duration::ZERO, limits);
    let metrics = telemetry.metrics();
    metrics.accepted(Signal::Traces, Protocol::Grpc, 40, 2, 900, 1000);
    metrics.accepted(Signal::Traces, Protocol::Grpc, 10, 0, 100, 200);
    metrics.refused(Signal::Logs, Protocol::Http, Refusal::Overloaded, 5);
    telemetry.auth_observer(Protocol::Http)(AuthOutcome::Invalid);
    // Two services where one is allowed: the second one's spans overflow.
    let request = |service: &str| {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use opentelemetry_proto::tonic::resource::v1::Resource;
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
        use otel_parity_testkit::otlp::string;
        use prost::Message;
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![string("service.name", service)],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: vec![
                        Span {
                            trace_id: vec![1; 16],
                            span_id: vec![2; 8],
                            name: "GET /".into(),
                            ..Default::default()
                        };
                        3
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec()
    };
    for service in ["cart", "checkout"] {
        let bytes = request(service);
        telemetry
            .engine
            .ingest(Signal::Traces, &bytes, bytes.len())
            .unwrap();
    }
    let text = to_prometheus_text(&telemetry.encode_openmetrics());
    let grpc = r#"signal="traces",protocol="grpc""#;
    for (series, value) in [
        (format!("otel_parity_receiver_accepted_requests_total{{{grpc}}}"), 2.0),
        (format!("otel_parity_receiver_accepted_items_total{{{grpc}}}"), 50.0),
        (format!("otel_parity_receiver_refused_items_total{{{grpc},reason=\"invalid\"}}"), 2.0),
        (format!("otel_parity_receiver_wire_bytes_total{{{grpc}}}"), 1000.0),
        (format!("otel_parity_receiver_decoded_bytes_total{{{grpc}}}"), 1200.0),
        (
            r#"otel_parity_receiver_refused_requests_total{signal="logs",protocol="http",reason="overloaded"}"#.into(),
            1.0,
        ),
        (r#"otel_parity_auth_requests_total{listener="otlp_http",result="invalid"}"#.into(), 1.0),
        (r#"otel_parity_auth_requests_total{listener="otlp_http",result="accepted"}"#.into(), 0.0),
        (r#"otel_parity_receiver_overflow_total{cap="services"}"#.into(), 3.0),
    ] {
        assert_eq!(sample(&text, &series), Some(value), "{series}\n{text}");
    }
    // Overflow stays counted once its window is taken: totals never go back.
    telemetry.engine.take_window();
    let text = to_prometheus_text(&telemetry.encode_openmetrics());
    assert_eq!(
        sample(
            &text,
            r#"otel_parity_receiver_overflow_total{cap="services"}"#
        ),
        Some(3.0)
    );
}

#[test]
fn readiness_follows_listening_stopping_and_pushes_failing_too_long() {
    let telemetry = telemetry(Duration::from_millis(50), Limits::default());
    assert_eq!(telemetry.readiness(), Err("not listening yet".into()));
    telemetry.set_listening();
    assert_eq!(telemetry.readiness(), Ok(()));
    telemetry.push_attempt(PushResult::Failed);
    assert_eq!(telemetry.readiness(), Ok(()), "failing, but not for long");
    std::thread::sleep(Duration::from_millis(80));
    telemetry.push_attempt(PushResult::Failed);
    let not_ready = telemetry.readiness().unwrap_err();
    assert!(
        not_ready.starts_with("pushes to the analyzer have failed for"),
        "{not_ready}"
    );
    telemetry.push_attempt(PushResult::Acknowledged);
    assert_eq!(telemetry.readiness(), Ok(()));
    let text = to_prometheus_text(&telemetry.encode_openmetrics());
    let since = sample(
        &text,
        "otel_parity_receiver_seconds_since_last_acknowledged_push",
    )
    .unwrap();
    assert!(since < 1.0, "{since}");
    telemetry.set_stopping();
    assert_eq!(telemetry.readiness(), Err("shutting down".into()));
    // Zero: pushes never make the receiver unready.
    let never = super::tests::telemetry(Duration::ZERO, Limits::default());
    never.set_listening();
    never.push_attempt(PushResult::Failed);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(never.readiness(), Ok(()));
}
