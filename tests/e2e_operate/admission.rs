//! Admission control: with the budget of request bytes in flight taken by two slow uploads,
//! the next request is refused before its body is read, over gRPC with UNAVAILABLE and a
//! `RetryInfo`, over HTTP with 503 and `Retry-After`, each counted as `overloaded`; once the
//! budget is free again the same request is accepted and fingerprinted.

use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};

use otel_parity_testkit::e2e::{ReceiverProcess, ScratchDir, json_at, proto_u64};
use otel_parity_testkit::raw::grpc::{grpc_call, grpc_channel, runtime};
use otel_parity_testkit::raw::http::http_request;
use otel_parity_testkit::shop::Shop;
use prost::Message;

use crate::{value, wait_for_value};

const TRACES_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const MIB: usize = 1 << 20;

/// `google.rpc.Status` with its details, as gRPC's `grpc-status-details-bin` carries it.
#[derive(Clone, PartialEq, Message)]
struct StatusDetails {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<AnyDetail>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, Message)]
struct AnyDetail {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `google.rpc.RetryInfo` (its `retry_delay` a `google.protobuf.Duration`).
#[derive(Clone, PartialEq, Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<DelayDuration>,
}

#[derive(Clone, PartialEq, Message)]
struct DelayDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// An OTLP/HTTP upload that declares `length` bytes and sends ten: it holds its reservation
/// until the connection is dropped.
fn slow_upload(addr: SocketAddr, length: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect to OTLP/HTTP");
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-protobuf\r\n\
         Content-Length: {length}\r\n\r\n0123456789"
    );
    stream.write_all(head.as_bytes()).expect("send the head");
    stream
}

#[test]
fn past_the_budget_requests_are_refused_before_their_body_with_retryable_answers() {
    let dir = ScratchDir::new("admission");
    let config = dir.path().join("receiver.yaml");
    fs::write(
        &config,
        "otlp:\n  protocols:\n    grpc:\n      max_recv_msg_size_mib: 1\n    http:\n      \
         max_request_body_size: 1048576\nadmission:\n  max_inflight_mib: 2\n  retry_after: 3s\n",
    )
    .expect("config written");
    let mut receiver = ReceiverProcess::start(&["--config", config.to_str().expect("utf-8")]);
    let metrics = receiver.metrics();
    assert_eq!(
        value(&metrics, "otel_parity_receiver_inflight_bytes_limit"),
        (2 * MIB) as f64
    );

    let first = slow_upload(receiver.http_addr(), MIB);
    let second = slow_upload(receiver.http_addr(), MIB);
    assert_eq!(
        wait_for_value(
            &receiver,
            "otel_parity_receiver_inflight_bytes",
            (2 * MIB) as f64
        ),
        (2 * MIB) as f64
    );

    let request = Shop::staging().traces_request(3, 0);
    let spans: usize = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    let body = request.encode_to_vec();
    let rt = runtime();
    let channel = rt.block_on(grpc_channel(&receiver.grpc_endpoint()));

    let refused = rt
        .block_on(grpc_call(&channel, TRACES_EXPORT, body.clone(), false))
        .expect_err("refused over the budget");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(
        refused.message().starts_with(
            "the receiver is over its budget of request bytes in flight (2097152 of 2097152 bytes in use"
        ),
        "{}",
        refused.message()
    );
    let details = StatusDetails::decode(refused.details()).expect("grpc-status-details-bin");
    assert_eq!(details.code, 14);
    assert_eq!(details.details.len(), 1);
    assert_eq!(
        details.details[0].type_url,
        "type.googleapis.com/google.rpc.RetryInfo"
    );
    let delay = RetryInfo::decode(&*details.details[0].value)
        .expect("RetryInfo")
        .retry_delay
        .expect("retry_delay");
    assert_eq!((delay.seconds, delay.nanos), (3, 0));

    let answer = http_request(
        receiver.http_addr(),
        "POST",
        "/v1/traces",
        &[("Content-Type", "application/x-protobuf")],
        &body,
    );
    assert_eq!(answer.status, 503, "{}", answer.describe());
    assert_eq!(answer.header("retry-after"), Some("3"));
    assert_eq!(answer.rpc_status().code, 14);

    let metrics = receiver.metrics();
    let overloaded = |protocol: &str| {
        value(
            &metrics,
            &format!(
                "otel_parity_receiver_refused_requests_total{{signal=\"traces\",protocol=\"{protocol}\",reason=\"overloaded\"}}"
            ),
        )
    };
    assert_eq!((overloaded("grpc"), overloaded("http")), (1.0, 1.0));
    assert_eq!(
        value(
            &metrics,
            "otel_parity_receiver_accepted_requests_total{signal=\"traces\",protocol=\"grpc\"}"
        ),
        0.0
    );
    // Refused before the body: over HTTP not a byte of it was read (the slow uploads are not
    // done, so they count nothing yet); over gRPC only the first DATA frame arrived (the
    // prefix and the small message, which HTTP/2 sends at once), and it was never decoded.
    let wire = |protocol: &str| {
        value(
            &metrics,
            &format!(
                "otel_parity_receiver_wire_bytes_total{{signal=\"traces\",protocol=\"{protocol}\"}}"
            ),
        )
    };
    assert_eq!(wire("http"), 0.0);
    assert_eq!(wire("grpc"), (body.len() + 5) as f64);

    // The slow uploads break off: their budget comes back, and they count as malformed.
    drop((first, second));
    assert_eq!(
        wait_for_value(&receiver, "otel_parity_receiver_inflight_bytes", 0.0),
        0.0
    );
    rt.block_on(grpc_call(&channel, TRACES_EXPORT, body.clone(), false))
        .expect("accepted once the budget is free");
    let metrics = receiver.metrics();
    assert_eq!(
        value(
            &metrics,
            "otel_parity_receiver_accepted_requests_total{signal=\"traces\",protocol=\"grpc\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &metrics,
            "otel_parity_receiver_accepted_items_total{signal=\"traces\",protocol=\"grpc\"}"
        ),
        spans as f64
    );
    assert_eq!(
        value(
            &metrics,
            "otel_parity_receiver_refused_requests_total{signal=\"traces\",protocol=\"http\",reason=\"malformed\"}"
        ),
        2.0
    );
    let snapshot = receiver
        .wait_for_snapshot(std::time::Duration::from_secs(10), |s| {
            proto_u64(json_at(s, &["received", "traces", "requests"])).unwrap_or(0) == 1
        })
        .expect("the accepted request in the snapshot");
    assert_eq!(
        proto_u64(json_at(&snapshot, &["received", "traces", "items"])),
        Ok(spans as u64)
    );
    assert_eq!(
        proto_u64(json_at(
            &snapshot,
            &["received", "traces", "rejectedRequests"]
        )),
        Ok(4)
    );
}

#[test]
fn past_the_cap_on_grpc_calls_in_flight_a_call_is_refused_before_its_message_is_read() {
    use http_body_util::channel::Channel as BodyChannel;
    use tonic::codegen::Service as _;

    let dir = ScratchDir::new("admission-streams");
    let config = dir.path().join("receiver.yaml");
    fs::write(
        &config,
        "admission:\n  max_grpc_streams: 1\n  retry_after: 2s\n",
    )
    .expect("config written");
    let mut receiver = ReceiverProcess::start(&["--config", config.to_str().expect("utf-8")]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let channel = rt.block_on(grpc_channel(&receiver.grpc_endpoint()));

    // One call that announces 1000 bytes and sends ten: it holds the only place.
    let (mut upload, body) = BodyChannel::<bytes::Bytes>::new(4);
    let request = tonic::codegen::http::Request::builder()
        .method("POST")
        .uri(format!("{}{TRACES_EXPORT}", receiver.grpc_endpoint()))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(tonic::body::Body::new(body))
        .expect("a request");
    let mut held = channel.clone();
    let held_call = rt.spawn(async move {
        std::future::poll_fn(|cx| held.poll_ready(cx)).await.ok()?;
        held.call(request).await.ok()
    });
    let mut prefix = vec![0u8];
    prefix.extend_from_slice(&1000u32.to_be_bytes());
    prefix.extend_from_slice(b"0123456789");
    rt.block_on(upload.send_data(prefix.into()))
        .expect("the first chunk goes out");
    assert_eq!(
        wait_for_value(&receiver, "otel_parity_receiver_inflight_bytes", 1000.0),
        1000.0
    );

    let body = Shop::staging().traces_request(2, 0).encode_to_vec();
    let refused = rt
        .block_on(grpc_call(&channel, TRACES_EXPORT, body.clone(), false))
        .expect_err("refused at the cap");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert_eq!(
        refused.message(),
        "the receiver is at its cap of 1 gRPC calls in flight (admission.max_grpc_streams); \
         retry after 2s"
    );
    let details = StatusDetails::decode(refused.details()).expect("grpc-status-details-bin");
    let delay = RetryInfo::decode(&*details.details[0].value)
        .expect("RetryInfo")
        .retry_delay
        .expect("retry_delay");
    assert_eq!((delay.seconds, delay.nanos), (2, 0));
    let metrics = receiver.metrics();
    let refused = |reason: &str| {
        value(
            &metrics,
            &format!(
                "otel_parity_receiver_refused_requests_total{{signal=\"traces\",protocol=\"grpc\",reason=\"{reason}\"}}"
            ),
        )
    };
    assert_eq!((refused("streams"), refused("overloaded")), (1.0, 0.0));

    // The held call breaks off short of its message: malformed, and its place is free.
    drop(upload);
    let _ = rt.block_on(held_call);
    assert_eq!(
        wait_for_value(&receiver, "otel_parity_receiver_inflight_bytes", 0.0),
        0.0
    );
    rt.block_on(grpc_call(&channel, TRACES_EXPORT, body, false))
        .expect("accepted once the call before it ended");
    let metrics = receiver.metrics();
    assert_eq!(
        value(
            &metrics,
            "otel_parity_receiver_refused_requests_total{signal=\"traces\",protocol=\"grpc\",reason=\"malformed\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &metrics,
            "otel_parity_receiver_accepted_requests_total{signal=\"traces\",protocol=\"grpc\"}"
        ),
        1.0
    );
    let snapshot = receiver
        .wait_for_snapshot(std::time::Duration::from_secs(10), |s| {
            proto_u64(json_at(s, &["received", "traces", "requests"])).unwrap_or(0) == 1
        })
        .expect("the accepted request in the snapshot");
    assert_eq!(
        proto_u64(json_at(
            &snapshot,
            &["received", "traces", "rejectedRequests"]
        )),
        Ok(2)
    );
}
