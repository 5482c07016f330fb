//! Exports over OTLP/gRPC and OTLP/HTTP with their expected outcomes: good requests accepted
//! whole (and recorded in [`Expected`]), bad ones refused with the protocol's own error.

use otel_parity_testkit::e2e::{ReceiverProcess, json_at, proto_u64};
use otel_parity_testkit::raw::grpc::grpc_call;
use otel_parity_testkit::raw::http::{HttpResponse, JSON, PROTOBUF, http_request};
use prost::Message;
use serde_json::Value;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::expected::Expected;
use crate::logs::shop_logs;
use crate::metrics::shop_metrics;
use crate::otlp_json::traces_json;
use crate::requests;
use crate::signal::Sig;
use crate::traces::shop_traces;

/// Exports a good request over gRPC and checks that it was accepted whole.
pub async fn grpc_export_good(channel: &Channel, sig: Sig, message: Vec<u8>, gzip: bool) {
    let response = grpc_call(channel, &sig.grpc_export_path(), message, gzip)
        .await
        .unwrap_or_else(|status| {
            panic!(
                "good {} export over gRPC failed: {:?} {:?}",
                sig.key(),
                status.code(),
                status.message()
            )
        });
    let (rejected, reason) = sig.decode_rejected(&response).unwrap_or_else(|e| {
        panic!(
            "gRPC export response for {} is not protobuf: {e}",
            sig.key()
        )
    });
    assert_eq!(
        rejected,
        0,
        "good {} export reported {rejected} rejected items: {reason:?}",
        sig.key()
    );
}

/// Sends a bad message and checks that the call fails with `code`.
pub async fn grpc_expect_error(
    channel: &Channel,
    path: &str,
    message: Vec<u8>,
    gzip: bool,
    code: Code,
) {
    let status = grpc_expect_code(channel, path, message, gzip, code).await;
    assert!(
        !status.message().is_empty(),
        "bad request to {path}: {code:?} without a message that says why"
    );
}

/// Sends a bad message and checks that the call fails with `code`; returns the status.
pub async fn grpc_expect_code(
    channel: &Channel,
    path: &str,
    message: Vec<u8>,
    gzip: bool,
    code: Code,
) -> Status {
    match grpc_call(channel, path, message, gzip).await {
        Ok(response) => panic!(
            "bad request to {path} succeeded ({} response bytes); expected {code:?}",
            response.len()
        ),
        Err(status) => {
            assert_eq!(
                status.code(),
                code,
                "bad request to {path}: expected {code:?}, got {:?} with message {:?}",
                status.code(),
                status.message()
            );
            status
        }
    }
}

/// POSTs `body` to the receiver's OTLP/HTTP `path` as `content_type`, with `extra` headers.
pub fn http_post(
    receiver: &ReceiverProcess,
    path: &str,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut headers = vec![("Content-Type", content_type)];
    headers.extend_from_slice(extra);
    http_request(receiver.http_addr(), "POST", path, &headers, body)
}

/// POSTs a good protobuf request (gzip-compressed on the wire if `gzip`) and checks that it
/// was accepted whole; returns the bytes sent.
pub fn http_export_good(receiver: &ReceiverProcess, sig: Sig, message: &[u8], gzip: bool) -> u64 {
    let body = if gzip {
        requests::gzip(message)
    } else {
        message.to_vec()
    };
    let extra: &[(&str, &str)] = if gzip {
        &[("Content-Encoding", "gzip")]
    } else {
        &[]
    };
    let response = http_post(receiver, sig.http_path(), PROTOBUF, extra, &body);
    assert_eq!(
        response.status,
        200,
        "good {} export over HTTP: {}",
        sig.key(),
        response.describe()
    );
    assert_eq!(response.media_type(), PROTOBUF, "{}", response.describe());
    let (rejected, reason) = sig.decode_rejected(&response.body).unwrap_or_else(|e| {
        panic!(
            "export response is not protobuf ({e}): {}",
            response.describe()
        )
    });
    assert_eq!(
        rejected,
        0,
        "good {} export reported {rejected} rejected: {reason:?}",
        sig.key()
    );
    body.len() as u64
}

/// POSTs a good OTLP/JSON traces request and checks that it was accepted whole.
pub fn http_export_good_json(receiver: &ReceiverProcess, request: &Value) -> u64 {
    let body = request.to_string().into_bytes();
    let response = http_post(receiver, Sig::Traces.http_path(), JSON, &[], &body);
    assert_eq!(
        response.status,
        200,
        "good OTLP/JSON traces export: {}",
        response.describe()
    );
    let json = response.json();
    let rejected = json_at(&json, &["partialSuccess", "rejectedSpans"]);
    assert!(
        proto_u64(rejected) == Ok(0),
        "good OTLP/JSON export reported rejected spans: {json}"
    );
    body.len() as u64
}

/// Checks an OTLP/HTTP error response: `status`, a `google.rpc.Status` body with `code` (when
/// given) and a message that says what was wrong.
pub fn assert_http_error(response: &HttpResponse, status: u16, code: Option<i32>, what: &str) {
    assert_eq!(response.status, status, "{what}: {}", response.describe());
    let body = response.rpc_status();
    if let Some(code) = code {
        assert_eq!(body.code, code, "{what}: google.rpc.Status code; {body:?}");
    }
    assert!(
        !body.message.is_empty(),
        "{what}: google.rpc.Status without a message: {}",
        response.describe()
    );
}

/// The same for an OTLP/JSON request: the error body is `{"code": …, "message": …}`.
pub fn assert_http_json_error(response: &HttpResponse, status: u16, code: i64, what: &str) {
    assert_eq!(response.status, status, "{what}: {}", response.describe());
    let body = response.json();
    assert_eq!(
        body.get("code").and_then(Value::as_i64),
        Some(code),
        "{what}: JSON status code: {body}"
    );
    assert!(
        body.get("message")
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty()),
        "{what}: JSON status without a message: {body}"
    );
}

/// Sends a good traces request over gRPC and records it.
pub async fn grpc_good_traces(channel: &Channel, expected: &mut Expected, round: u64, traces: u64) {
    let message = shop_traces(round, traces).encode_to_vec();
    let len = message.len() as u64;
    grpc_export_good(channel, Sig::Traces, message, false).await;
    expected.traces_accepted(traces, Some(len), len);
}

/// Sends a good metrics request over gRPC and records it.
pub async fn grpc_good_metrics(
    channel: &Channel,
    expected: &mut Expected,
    round: u64,
    series: u64,
) {
    let message = shop_metrics(round, series).encode_to_vec();
    let len = message.len() as u64;
    grpc_export_good(channel, Sig::Metrics, message, false).await;
    expected.metrics_accepted(series, len, len);
}

/// Sends a good logs request over gRPC and records it.
pub async fn grpc_good_logs(channel: &Channel, expected: &mut Expected, round: u64, records: u64) {
    let message = shop_logs(round, records).encode_to_vec();
    let len = message.len() as u64;
    grpc_export_good(channel, Sig::Logs, message, false).await;
    expected.logs_accepted(records, len, len);
}

/// POSTs a good protobuf traces request (gzip-compressed if `gzip`) and records it.
pub fn http_good_traces(
    receiver: &ReceiverProcess,
    expected: &mut Expected,
    round: u64,
    traces: u64,
    gzip: bool,
) {
    let message = shop_traces(round, traces).encode_to_vec();
    let wire = http_export_good(receiver, Sig::Traces, &message, gzip);
    expected.traces_accepted(traces, Some(message.len() as u64), wire);
}

/// POSTs a good protobuf metrics request and records it.
pub fn http_good_metrics(
    receiver: &ReceiverProcess,
    expected: &mut Expected,
    round: u64,
    series: u64,
) {
    let message = shop_metrics(round, series).encode_to_vec();
    let wire = http_export_good(receiver, Sig::Metrics, &message, false);
    expected.metrics_accepted(series, message.len() as u64, wire);
}

/// POSTs a good protobuf logs request and records it.
pub fn http_good_logs(
    receiver: &ReceiverProcess,
    expected: &mut Expected,
    round: u64,
    records: u64,
) {
    let message = shop_logs(round, records).encode_to_vec();
    let wire = http_export_good(receiver, Sig::Logs, &message, false);
    expected.logs_accepted(records, message.len() as u64, wire);
}

/// POSTs a good OTLP/JSON traces request and records it.
pub fn http_good_traces_json(
    receiver: &ReceiverProcess,
    expected: &mut Expected,
    round: u64,
    traces: u64,
) {
    let wire = http_export_good_json(receiver, &traces_json(&shop_traces(round, traces)));
    expected.traces_accepted(traces, None, wire);
}
