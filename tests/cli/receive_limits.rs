//! The receiver's own size limits, not its libraries' defaults (DESIGN.md, pitfalls): axum
//! refuses bodies over 2 MB and tonic messages over 4 MiB unless told otherwise.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use otel_parity_testkit::e2e::{Expectations, ReceiverProcess, ScratchDir, json_at};
use otel_parity_testkit::raw::grpc::{grpc_call, grpc_channel, runtime};
use otel_parity_testkit::raw::http::{PROTOBUF, http_request};
use prost::Message;
use serde_json::json;
use tonic::Code;

use crate::expect_snapshot::expect_operations;
use crate::otlp_requests::{RESOURCE_ENVIRONMENT, checkout_traces_of_at_least, operation_of};

const TRACES_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
/// axum's `DefaultBodyLimit`.
const AXUM_DEFAULT_BODY_LIMIT: usize = 2 << 20;
/// tonic's default largest decoded message.
const TONIC_DEFAULT_MESSAGE_LIMIT: usize = 4 << 20;

/// Stops `receiver` and checks that its final snapshot counts `requests` accepted and
/// `rejected` refused traces requests, and exactly `spans` checkout spans.
fn stop_and_expect_spans(
    mut receiver: ReceiverProcess,
    requests: u64,
    rejected: u64,
    spans: u64,
    what: &str,
) {
    let status = receiver.stop();
    assert!(
        status.success(),
        "{what}: receiver exited {status}\n{}",
        receiver.stderr_tail()
    );
    let snapshot = receiver.read_snapshot().unwrap_or_else(|| {
        panic!(
            "{what}: no snapshot after SIGTERM\n{}",
            receiver.stderr_tail()
        )
    });
    let mut expect = Expectations::new();
    let received = json_at(&snapshot, &["received", "traces"])
        .cloned()
        .unwrap_or(json!({}));
    expect.u64_eq("received.traces", &received, &["requests"], requests);
    expect.u64_eq(
        "received.traces",
        &received,
        &["rejectedRequests"],
        rejected,
    );
    expect.u64_eq("received.traces", &received, &["items"], spans);
    expect.u64_eq("received.traces", &received, &["rejectedItems"], 0);
    expect_operations(
        &mut expect,
        &snapshot,
        RESOURCE_ENVIRONMENT,
        "shop/checkout",
        &[(operation_of("checkout"), "SPAN_KIND_SERVER", spans, 0)],
    );
    expect.finish(what, &receiver.stderr_tail());
}

#[test]
fn http_body_over_axum_default_limit_is_accepted_with_default_config() {
    let receiver = ReceiverProcess::start(&[]);
    let (body, spans) = checkout_traces_of_at_least(1, 3_000_000);
    assert!(body.len() > AXUM_DEFAULT_BODY_LIMIT);
    let response = http_request(
        receiver.http_addr(),
        "POST",
        "/v1/traces",
        &[("Content-Type", PROTOBUF)],
        &body,
    );
    assert_eq!(
        response.status,
        200,
        "{} byte body with the default 20 MiB limit: {}",
        body.len(),
        response.describe()
    );
    let rejected = ExportTraceServiceResponse::decode(&*response.body)
        .unwrap_or_else(|e| panic!("not an export response ({e}): {}", response.describe()))
        .partial_success
        .as_ref()
        .map_or(0, |p| p.rejected_spans);
    assert_eq!(rejected, 0, "{}", response.describe());
    stop_and_expect_spans(receiver, 1, 0, spans, "3 MB OTLP/HTTP body");
}

#[test]
fn grpc_message_over_tonic_default_is_accepted_when_configured() {
    let dir = ScratchDir::new("cli-grpc-limit");
    let config = dir.path().join("receiver.yaml");
    std::fs::write(
        &config,
        "otlp:\n  protocols:\n    grpc:\n      max_recv_msg_size_mib: 8\n",
    )
    .unwrap_or_else(|e| panic!("cannot write {}: {e}", config.display()));
    let config = config.display().to_string();
    let receiver = ReceiverProcess::start(&["--config", &config]);

    let (message, spans) = checkout_traces_of_at_least(1, 5 << 20);
    assert!(message.len() > TONIC_DEFAULT_MESSAGE_LIMIT);
    let len = message.len();
    // Over the configured 8 MiB: refused, so the limit is the configured one, not none.
    let (over, _) = checkout_traces_of_at_least(2, 9 << 20);
    let endpoint = receiver.grpc_endpoint();
    let (accepted, refused) = runtime().block_on(async {
        let channel = grpc_channel(&endpoint).await;
        (
            grpc_call(&channel, TRACES_EXPORT, message, false).await,
            grpc_call(&channel, TRACES_EXPORT, over, false).await,
        )
    });
    let response = accepted.unwrap_or_else(|status| {
        panic!(
            "{len} byte gRPC export with max_recv_msg_size_mib 8: {:?} {:?}",
            status.code(),
            status.message()
        )
    });
    let response = ExportTraceServiceResponse::decode(&*response)
        .unwrap_or_else(|e| panic!("not an ExportTraceServiceResponse: {e}"));
    assert!(
        response
            .partial_success
            .as_ref()
            .is_none_or(|p| p.rejected_spans == 0),
        "{response:?}"
    );
    match refused {
        Err(status) => assert_eq!(
            status.code(),
            Code::ResourceExhausted,
            "9 MiB export: {:?}",
            status.message()
        ),
        Ok(_) => panic!("a 9 MiB export was accepted with max_recv_msg_size_mib 8"),
    }
    stop_and_expect_spans(receiver, 1, 1, spans, "5 MiB OTLP/gRPC message");
}
