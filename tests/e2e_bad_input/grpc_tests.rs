//! Bad OTLP/gRPC requests: malformed or truncated protobuf, oversized messages, gzip bombs and
//! corrupt compression, broken framing, invalid items, unknown methods.

use otel_parity_testkit::e2e::{ReceiverProcess, ScratchDir};
use otel_parity_testkit::raw::grpc::{grpc_call, grpc_channel, grpc_frame, grpc_raw_call, runtime};
use prost::Message;
use tonic::Code;

use tonic::transport::Channel;

use crate::expected::{Expected, stop_and_check, stop_and_check_with};
use crate::export::{
    grpc_expect_code, grpc_expect_error, grpc_export_good, grpc_good_logs, grpc_good_metrics,
    grpc_good_traces,
};
use crate::logs::shop_logs;
use crate::metrics::shop_metrics;
use crate::requests::{with_invalid_utf8, with_zero_padding};
use crate::signal::Sig;
use crate::traces::{
    errors_in, shop_traces, shop_traces_of_at_least, shop_traces_of_at_most, spans_in,
};
use crate::{GRPC_MAX_1_MIB, MAX_RECEIVER_PEAK_RSS_BYTES, memory_of, receiver_with_config};

/// Connects to `receiver` over gRPC and runs `exchange`, which sends good and bad requests and
/// records what the receiver must have counted; then stops the receiver and checks its final
/// snapshot against that record.
fn exchange_over_grpc(
    receiver: ReceiverProcess,
    what: &str,
    exchange: impl AsyncFnOnce(&Channel, &mut Expected),
) {
    let mut expected = Expected::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver.grpc_endpoint()).await;
        exchange(&channel, &mut expected).await;
    });
    stop_and_check(receiver, &expected, what);
}

/// Exports `message` for `sig`, checks that it fails with `code` and a message that says why,
/// and records the rejected request.
async fn refused(
    channel: &Channel,
    expected: &mut Expected,
    sig: Sig,
    message: Vec<u8>,
    code: Code,
) {
    grpc_expect_error(channel, &sig.grpc_export_path(), message, false, code).await;
    expected.rejected(sig);
}

#[test]
fn grpc_malformed_protobuf_is_invalid_argument_on_every_signal_and_counts_nothing() {
    let receiver = ReceiverProcess::start(&[]);
    exchange_over_grpc(
        receiver,
        "gRPC malformed protobuf",
        async |channel, expected| {
            grpc_good_traces(channel, expected, 1, 5).await;
            grpc_good_metrics(channel, expected, 1, 4).await;
            grpc_good_logs(channel, expected, 1, 3).await;

            // Field 1, length-delimited, claiming 4 GiB of payload that is not there.
            let huge_length = vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f];
            refused(
                channel,
                expected,
                Sig::Traces,
                huge_length,
                Code::InvalidArgument,
            )
            .await;
            // A valid request followed by a tag with wire type 7, which protobuf does not define.
            let mut wire_type_7 = shop_metrics(90, 4).encode_to_vec();
            wire_type_7.extend_from_slice(&[0x0f, 0x01]);
            refused(
                channel,
                expected,
                Sig::Metrics,
                wire_type_7,
                Code::InvalidArgument,
            )
            .await;
            // A valid request followed by field number 0.
            let mut field_zero = shop_logs(90, 3).encode_to_vec();
            field_zero.extend_from_slice(&[0x00, 0x01]);
            refused(
                channel,
                expected,
                Sig::Logs,
                field_zero,
                Code::InvalidArgument,
            )
            .await;

            grpc_good_traces(channel, expected, 2, 7).await;
            grpc_good_metrics(channel, expected, 2, 6).await;
            grpc_good_logs(channel, expected, 2, 2).await;
        },
    );
}

#[test]
fn grpc_truncated_request_is_invalid_argument_and_counts_nothing() {
    let receiver = ReceiverProcess::start(&[]);
    exchange_over_grpc(
        receiver,
        "gRPC truncated request",
        async |channel, expected| {
            grpc_good_traces(channel, expected, 1, 5).await;
            grpc_good_logs(channel, expected, 1, 4).await;

            let mut traces = shop_traces(90, 5).encode_to_vec();
            traces.truncate(traces.len() - 5);
            refused(
                channel,
                expected,
                Sig::Traces,
                traces,
                Code::InvalidArgument,
            )
            .await;
            let mut logs = shop_logs(90, 4).encode_to_vec();
            logs.truncate(logs.len() - 5);
            refused(channel, expected, Sig::Logs, logs, Code::InvalidArgument).await;

            grpc_good_traces(channel, expected, 2, 3).await;
            grpc_good_logs(channel, expected, 2, 6).await;
        },
    );
}

#[test]
fn grpc_invalid_utf8_in_a_span_name_is_invalid_argument_and_counts_nothing() {
    let receiver = ReceiverProcess::start(&[]);
    exchange_over_grpc(
        receiver,
        "gRPC invalid UTF-8 span name",
        async |channel, expected| {
            grpc_good_traces(channel, expected, 1, 5).await;

            // Ten good traces and one more span whose name is not UTF-8: the whole request is
            // malformed, so none of its spans may be counted.
            let mut request = shop_traces(90, 10);
            let mut odd = request.resource_spans[0].scope_spans[0].spans[0].clone();
            odd.name = "GET /cart/UTF8MARKER".to_owned();
            odd.span_id = vec![0xee; 8];
            request.resource_spans[0].scope_spans[0].spans.push(odd);
            let message = with_invalid_utf8(request.encode_to_vec(), "UTF8MARKER");
            refused(
                channel,
                expected,
                Sig::Traces,
                message,
                Code::InvalidArgument,
            )
            .await;

            grpc_good_traces(channel, expected, 2, 6).await;
        },
    );
}

#[test]
fn grpc_message_over_max_recv_msg_size_is_resource_exhausted() {
    let dir = ScratchDir::new("bad-input-config");
    let receiver = receiver_with_config(&dir, GRPC_MAX_1_MIB);
    exchange_over_grpc(
        receiver,
        "gRPC message over the size limit",
        async |channel, expected| {
            grpc_good_traces(channel, expected, 1, 20).await;

            // 2 MiB of valid spans against a 1 MiB limit.
            let (big, _) = shop_traces_of_at_least(90, 2 << 20);
            refused(
                channel,
                expected,
                Sig::Traces,
                big.encode_to_vec(),
                Code::ResourceExhausted,
            )
            .await;

            // A message of at most exactly the limit is accepted.
            let (near, near_traces) = shop_traces_of_at_most(91, 1 << 20);
            let near = near.encode_to_vec();
            assert!(near.len() > (1 << 20) - 4096, "{} bytes", near.len());
            let len = near.len() as u64;
            grpc_export_good(channel, Sig::Traces, near, false).await;
            expected.traces_accepted(near_traces, Some(len), len);

            grpc_good_traces(channel, expected, 2, 20).await;
        },
    );
}

#[test]
fn grpc_gzip_bomb_is_resource_exhausted_and_receiver_memory_stays_bounded() {
    let dir = ScratchDir::new("bad-input-config");
    let receiver = receiver_with_config(&dir, GRPC_MAX_1_MIB);
    let pid = receiver.pid();
    let mut expected = Expected::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver.grpc_endpoint()).await;
        // gzip works for good requests.
        let message = shop_traces(1, 8).encode_to_vec();
        let len = message.len() as u64;
        grpc_export_good(&channel, Sig::Traces, message, true).await;
        expected.traces_accepted(8, Some(len), 1);

        // A valid request padded with 64 MiB of zeros in an unknown field: about 65 KB of
        // gzip on the wire, far over the 1 MiB limit once decompressed. Were the limit not
        // applied while decompressing, it would be accepted and its spans counted.
        let bomb = with_zero_padding(shop_traces(90, 10).encode_to_vec(), 64 << 20);
        grpc_expect_error(
            &channel,
            &Sig::Traces.grpc_export_path(),
            bomb,
            true,
            Code::ResourceExhausted,
        )
        .await;
        expected.rejected(Sig::Traces);

        grpc_good_traces(&channel, &mut expected, 2, 8).await;
    });
    let (rss, peak) = memory_of(pid);
    eprintln!(
        "receiver {pid}: VmRSS {} KiB, VmHWM {} KiB",
        rss >> 10,
        peak >> 10
    );
    assert!(
        peak < MAX_RECEIVER_PEAK_RSS_BYTES,
        "receiver memory peaked at {} MiB (now {} MiB) after a 64 MiB gzip bomb; limit {} MiB",
        peak >> 20,
        rss >> 20,
        MAX_RECEIVER_PEAK_RSS_BYTES >> 20
    );
    stop_and_check(receiver, &expected, "gRPC gzip bomb");
}

#[test]
fn grpc_corrupt_gzip_is_invalid_argument_and_unknown_encoding_is_unimplemented() {
    let receiver = ReceiverProcess::start(&[]);
    exchange_over_grpc(
        receiver,
        "gRPC corrupt compression",
        async |channel, expected| {
            let path = Sig::Traces.grpc_export_path();
            let message = shop_traces(1, 5).encode_to_vec();
            let len = message.len() as u64;
            grpc_export_good(channel, Sig::Traces, message, true).await;
            expected.traces_accepted(5, Some(len), 1);

            // A frame flagged compressed, under grpc-encoding gzip, whose payload is not gzip.
            let payload = b"POST /checkout was here, but this is not gzip";
            let not_gzip = grpc_frame(1, payload.len() as u32, payload);
            let status =
                grpc_raw_call(channel, &path, &[("grpc-encoding", "gzip")], not_gzip).await;
            assert_eq!(status.code(), Code::InvalidArgument, "not gzip: {status:?}");
            expected.rejected(Sig::Traces);

            // An encoding the receiver does not support: UNIMPLEMENTED, as gRPC specifies.
            let snappy = grpc_frame(1, payload.len() as u32, payload);
            let status =
                grpc_raw_call(channel, &path, &[("grpc-encoding", "snappy")], snappy).await;
            assert_eq!(
                status.code(),
                Code::Unimplemented,
                "grpc-encoding snappy: {status:?}"
            );
            expected.rejected(Sig::Traces);

            grpc_good_traces(channel, expected, 2, 5).await;
        },
    );
}

/// A broken gRPC length-prefixed frame is a malformed payload: INVALID_ARGUMENT by DESIGN.md
/// (the receiver already maps tonic's INTERNAL for undecompressable gzip that way; gRPC's own
/// libraries would say INTERNAL), and a rejected request in the counters either way.
#[test]
fn grpc_broken_length_prefixed_framing_is_invalid_argument() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    let mut wrong = Vec::new();
    runtime().block_on(async {
        let channel = grpc_channel(&receiver.grpc_endpoint()).await;
        let path = Sig::Logs.grpc_export_path();
        grpc_good_logs(&channel, &mut expected, 1, 3).await;

        let payload = b"order 17 placed";
        let cases = [
            // Compressed flag set, but no grpc-encoding header.
            (
                "compressed flag without grpc-encoding",
                grpc_frame(1, payload.len() as u32, payload),
            ),
            // A compression flag that gRPC does not define.
            (
                "compression flag 2",
                grpc_frame(2, payload.len() as u32, payload),
            ),
            // The prefix announces 100 bytes; the stream ends after 15.
            ("frame cut short", grpc_frame(0, 100, payload)),
            // Three bytes of a prefix and then the end of the stream.
            ("prefix cut short", vec![0, 0, 0]),
        ];
        for (what, body) in cases {
            let status = grpc_raw_call(&channel, &path, &[], body).await;
            if status.code() != Code::InvalidArgument {
                wrong.push(format!(
                    "{what}: expected INVALID_ARGUMENT, got {:?} {:?}",
                    status.code(),
                    status.message()
                ));
            }
            expected.rejected(Sig::Logs);
        }

        grpc_good_logs(&channel, &mut expected, 2, 4).await;
    });
    stop_and_check_with(receiver, &expected, "gRPC broken framing", wrong);
}

#[test]
fn grpc_span_with_15_byte_trace_id_is_partial_success_and_other_spans_count() {
    let receiver = ReceiverProcess::start(&[]);
    exchange_over_grpc(
        receiver,
        "gRPC partial success",
        async |channel, expected| {
            grpc_good_traces(channel, expected, 1, 5).await;

            // Ten good traces plus one more `POST /checkout` span whose trace id has 15 bytes.
            let mut request = shop_traces(90, 10);
            let mut bad = request.resource_spans[0].scope_spans[0].spans[0].clone();
            bad.trace_id.truncate(15);
            bad.span_id = vec![0xee; 8];
            request.resource_spans[0].scope_spans[0].spans.push(bad);
            let message = request.encode_to_vec();
            let len = message.len() as u64;
            let response = grpc_call(channel, &Sig::Traces.grpc_export_path(), message, false)
                .await
                .unwrap_or_else(|status| {
                    panic!(
                        "request with one bad span was refused whole: {:?} {:?}",
                        status.code(),
                        status.message()
                    )
                });
            let (rejected, reason) = Sig::Traces
                .decode_rejected(&response)
                .unwrap_or_else(|e| panic!("response is not an ExportTraceServiceResponse: {e}"));
            assert_eq!(rejected, 1, "partial_success.rejected_spans ({reason:?})");
            assert!(
                !reason.is_empty(),
                "partial_success without an error_message"
            );
            expected.accepted(Sig::Traces, spans_in(10), 1, Some(len), len);
            expected.traces += 10;
            expected.failed_charges += errors_in(10);

            grpc_good_traces(channel, expected, 2, 5).await;
        },
    );
}

#[test]
fn grpc_unknown_method_and_service_are_unimplemented_and_not_counted_as_exports() {
    let receiver = ReceiverProcess::start(&[]);
    // These are not export requests of any signal: nothing counted, rejections included.
    exchange_over_grpc(
        receiver,
        "gRPC unknown method",
        async |channel, expected| {
            grpc_good_traces(channel, expected, 1, 5).await;

            let message = shop_traces(90, 5).encode_to_vec();
            let unknown_method = format!("/{}/Exports", Sig::Traces.grpc_service());
            grpc_expect_error(
                channel,
                &unknown_method,
                message.clone(),
                false,
                Code::Unimplemented,
            )
            .await;
            // tonic's router answers an unknown service with an empty message; only the code is
            // pinned.
            let unknown_service = "/opentelemetry.proto.collector.trace.v2.TraceService/Export";
            grpc_expect_code(
                channel,
                unknown_service,
                message,
                false,
                Code::Unimplemented,
            )
            .await;

            grpc_good_traces(channel, expected, 2, 5).await;
        },
    );
}
