//! Bad OTLP/HTTP requests: wrong content type or encoding, malformed protobuf and JSON,
//! oversized bodies, gzip bombs and corrupt gzip, invalid items, wrong methods and paths.

use otel_parity_testkit::e2e::{ReceiverProcess, ScratchDir, json_at};
use otel_parity_testkit::otlp::hex;
use otel_parity_testkit::raw::http::{
    INVALID_ARGUMENT, JSON, PROTOBUF, RESOURCE_EXHAUSTED, http_request,
};
use prost::Message;
use serde_json::{Value, json};

use crate::expected::{Expected, stop_and_check};
use crate::export::{
    assert_http_error, assert_http_json_error, http_export_good, http_good_logs, http_good_metrics,
    http_good_traces, http_good_traces_json, http_post,
};
use crate::logs::shop_logs;
use crate::metrics::shop_metrics;
use crate::otlp_json::{span_json, traces_json};
use crate::requests::{gzip, with_zero_padding};
use crate::signal::Sig;
use crate::traces::{
    errors_in, shop_traces, shop_traces_of_at_least, shop_traces_of_at_most, spans_in,
};
use crate::{HTTP_MAX_64_KIB, MAX_RECEIVER_PEAK_RSS_BYTES, memory_of, receiver_with_config};

#[test]
fn http_wrong_content_type_is_415() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 5, false);

    // A valid protobuf body, but labelled text/plain.
    let body = shop_traces(90, 5).encode_to_vec();
    let response = http_post(
        &receiver,
        "/v1/traces",
        "text/plain; charset=utf-8",
        &[],
        &body,
    );
    assert_http_error(&response, 415, None, "text/plain");
    expected.rejected(Sig::Traces);

    http_good_traces(&receiver, &mut expected, 2, 4, false);
    stop_and_check(receiver, &expected, "HTTP wrong content type");
}

#[test]
fn http_malformed_protobuf_is_400_with_google_rpc_status() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 5, false);
    http_good_metrics(&receiver, &mut expected, 1, 4);

    let huge_length = [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f];
    let response = http_post(&receiver, "/v1/traces", PROTOBUF, &[], &huge_length);
    assert_http_error(
        &response,
        400,
        Some(INVALID_ARGUMENT),
        "malformed traces protobuf",
    );
    expected.rejected(Sig::Traces);
    let mut wire_type_7 = shop_metrics(90, 4).encode_to_vec();
    wire_type_7.extend_from_slice(&[0x0f, 0x01]);
    let response = http_post(&receiver, "/v1/metrics", PROTOBUF, &[], &wire_type_7);
    assert_http_error(
        &response,
        400,
        Some(INVALID_ARGUMENT),
        "malformed metrics protobuf",
    );
    expected.rejected(Sig::Metrics);

    http_good_traces(&receiver, &mut expected, 2, 3, false);
    http_good_metrics(&receiver, &mut expected, 2, 2);
    stop_and_check(receiver, &expected, "HTTP malformed protobuf");
}

#[test]
fn http_invalid_json_is_400_with_json_status() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces_json(&receiver, &mut expected, 1, 5);

    // A real OTLP/JSON request cut in the middle.
    let text = traces_json(&shop_traces(90, 5)).to_string();
    let cut = &text.as_bytes()[..text.len() / 2];
    let response = http_post(&receiver, "/v1/traces", JSON, &[], cut);
    assert_http_json_error(
        &response,
        400,
        i64::from(INVALID_ARGUMENT),
        "truncated JSON",
    );
    expected.rejected(Sig::Traces);

    http_good_traces_json(&receiver, &mut expected, 2, 4);
    stop_and_check(receiver, &expected, "HTTP invalid JSON");
}

#[test]
fn http_body_over_max_request_body_size_is_413() {
    let dir = ScratchDir::new("bad-input-config");
    let receiver = receiver_with_config(&dir, HTTP_MAX_64_KIB);
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 20, false);

    let (big, _) = shop_traces_of_at_least(90, 100_000);
    let response = http_post(&receiver, "/v1/traces", PROTOBUF, &[], &big.encode_to_vec());
    assert_http_error(
        &response,
        413,
        Some(RESOURCE_EXHAUSTED),
        "100 KB body, 64 KiB limit",
    );
    expected.rejected(Sig::Traces);

    // A body of at most exactly the limit is accepted.
    let (near, near_traces) = shop_traces_of_at_most(91, 65536);
    let near = near.encode_to_vec();
    assert!(near.len() > 65536 - 2048, "{} bytes", near.len());
    let wire = http_export_good(&receiver, Sig::Traces, &near, false);
    expected.traces_accepted(near_traces, Some(near.len() as u64), wire);

    http_good_traces(&receiver, &mut expected, 2, 20, false);
    stop_and_check(receiver, &expected, "HTTP body over the limit");
}

#[test]
fn http_gzip_bomb_is_413_and_receiver_memory_stays_bounded() {
    let dir = ScratchDir::new("bad-input-config");
    let receiver = receiver_with_config(&dir, HTTP_MAX_64_KIB);
    let pid = receiver.pid();
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 20, true);

    // A valid request padded with 32 MiB of zeros: under the 64 KiB limit on the wire, 500
    // times over it decompressed.
    let bomb = gzip(&with_zero_padding(
        shop_traces(90, 10).encode_to_vec(),
        32 << 20,
    ));
    assert!(
        bomb.len() < 65536,
        "the bomb is {} bytes compressed",
        bomb.len()
    );
    let response = http_post(
        &receiver,
        "/v1/traces",
        PROTOBUF,
        &[("Content-Encoding", "gzip")],
        &bomb,
    );
    assert_http_error(&response, 413, Some(RESOURCE_EXHAUSTED), "gzip bomb");
    expected.rejected(Sig::Traces);

    http_good_traces(&receiver, &mut expected, 2, 20, true);
    let (rss, peak) = memory_of(pid);
    eprintln!(
        "receiver {pid}: VmRSS {} KiB, VmHWM {} KiB",
        rss >> 10,
        peak >> 10
    );
    assert!(
        peak < MAX_RECEIVER_PEAK_RSS_BYTES,
        "receiver memory peaked at {} MiB (now {} MiB) after a 32 MiB gzip bomb",
        peak >> 20,
        rss >> 20
    );
    stop_and_check(receiver, &expected, "HTTP gzip bomb");
}

#[test]
fn http_corrupt_gzip_is_400() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 5, true);

    let compressed = gzip(&shop_traces(90, 20).encode_to_vec());
    // The first half of a gzip stream: the deflate data ends early.
    let response = http_post(
        &receiver,
        "/v1/traces",
        PROTOBUF,
        &[("Content-Encoding", "gzip")],
        &compressed[..compressed.len() / 2],
    );
    assert_http_error(&response, 400, Some(INVALID_ARGUMENT), "truncated gzip");
    expected.rejected(Sig::Traces);
    // Plain protobuf labelled gzip: no gzip header at all.
    let response = http_post(
        &receiver,
        "/v1/traces",
        PROTOBUF,
        &[("Content-Encoding", "gzip")],
        &shop_traces(91, 5).encode_to_vec(),
    );
    assert_http_error(
        &response,
        400,
        Some(INVALID_ARGUMENT),
        "protobuf labelled gzip",
    );
    expected.rejected(Sig::Traces);
    // A complete gzip stream whose CRC does not match its data.
    let mut bad_crc = compressed.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 0xff;
    let response = http_post(
        &receiver,
        "/v1/traces",
        PROTOBUF,
        &[("Content-Encoding", "gzip")],
        &bad_crc,
    );
    assert_http_error(
        &response,
        400,
        Some(INVALID_ARGUMENT),
        "gzip with a wrong CRC",
    );
    expected.rejected(Sig::Traces);

    http_good_traces(&receiver, &mut expected, 2, 5, true);
    stop_and_check(receiver, &expected, "HTTP corrupt gzip");
}

#[test]
fn http_unsupported_content_encoding_is_415() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_logs(&receiver, &mut expected, 1, 4);

    let body = shop_logs(90, 4).encode_to_vec();
    let response = http_post(
        &receiver,
        "/v1/logs",
        PROTOBUF,
        &[("Content-Encoding", "br")],
        &body,
    );
    assert_http_error(&response, 415, None, "Content-Encoding: br");
    expected.rejected(Sig::Logs);

    http_good_logs(&receiver, &mut expected, 2, 3);
    stop_and_check(receiver, &expected, "HTTP unsupported content encoding");
}

#[test]
fn http_json_of_the_wrong_shape_is_400_not_200() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces_json(&receiver, &mut expected, 1, 5);

    for body in [
        json!({ "resourceSpans": 5 }),
        json!({ "resourceSpans": { "scopeSpans": [] } }),
        json!("resourceSpans"),
        json!([{ "resourceSpans": [] }]),
        // Malformed below the top but above the spans: still undecodable.
        json!({ "resourceSpans": [{ "scopeSpans": "checkout" }] }),
        json!({ "resourceSpans": [{ "resource": "checkout", "scopeSpans": [] }] }),
    ] {
        let response = http_post(
            &receiver,
            "/v1/traces",
            JSON,
            &[],
            body.to_string().as_bytes(),
        );
        assert_http_json_error(
            &response,
            400,
            i64::from(INVALID_ARGUMENT),
            &format!("JSON {body}"),
        );
        expected.rejected(Sig::Traces);
    }

    http_good_traces_json(&receiver, &mut expected, 2, 5);
    stop_and_check(receiver, &expected, "HTTP JSON of the wrong shape");
}

#[test]
fn http_json_span_with_31_hex_digit_trace_id_is_partial_success() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces_json(&receiver, &mut expected, 1, 5);

    // Ten good traces plus one `POST /checkout` span whose traceId has 31 hex digits.
    let request = shop_traces(90, 10);
    let mut bad = request.resource_spans[0].scope_spans[0].spans[0].clone();
    bad.span_id = vec![0xee; 8];
    let mut bad_json = span_json(&bad);
    let short_id = hex(&bad.trace_id)[..31].to_owned();
    bad_json["traceId"] = json!(short_id);
    let mut body = traces_json(&request);
    body["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array_mut()
        .unwrap_or_else(|| unreachable!("traces_json writes spans as an array"))
        .push(bad_json);
    let bytes = body.to_string().into_bytes();
    let response = http_post(&receiver, "/v1/traces", JSON, &[], &bytes);
    assert_eq!(
        response.status,
        200,
        "one bad span of 41: {}",
        response.describe()
    );
    let json = response.json();
    assert_eq!(
        json_at(&json, &["partialSuccess", "rejectedSpans"]),
        Some(&json!("1")),
        "partialSuccess.rejectedSpans (an int64, so a string): {json}"
    );
    assert!(
        json_at(&json, &["partialSuccess", "errorMessage"])
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty()),
        "partialSuccess without an errorMessage: {json}"
    );
    expected.accepted(Sig::Traces, spans_in(10), 1, None, bytes.len() as u64);
    expected.traces += 10;
    expected.failed_charges += errors_in(10);

    http_good_traces_json(&receiver, &mut expected, 2, 5);
    stop_and_check(receiver, &expected, "HTTP JSON partial success");
}

#[test]
fn http_get_is_405_and_unknown_path_is_404() {
    let receiver = ReceiverProcess::start(&[]);
    let mut expected = Expected::new();
    http_good_traces(&receiver, &mut expected, 1, 5, false);

    let response = http_request(receiver.http_addr(), "GET", "/v1/traces", &[], &[]);
    assert_eq!(
        response.status,
        405,
        "GET /v1/traces: {}",
        response.describe()
    );
    let body = shop_traces(90, 5).encode_to_vec();
    for path in ["/v1/trace", "/v2/traces", "/v1/traces/extra", "/"] {
        let response = http_post(&receiver, path, PROTOBUF, &[], &body);
        assert_eq!(response.status, 404, "POST {path}: {}", response.describe());
    }

    http_good_traces(&receiver, &mut expected, 2, 5, false);
    // Neither is an export request of any signal: nothing counted, rejections included.
    stop_and_check(receiver, &expected, "HTTP wrong method and path");
}
