//! OTLP/JSON (HTTP `application/json` bodies, Collector file-exporter lines) through the
//! transcoder: whatever it converts must be protobuf that prost decodes and the engine
//! accepts whole, and every item it leaves out must be counted with a reason.

#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use otel_parity_fuzz::{engine, ingest, small_limits};
use otel_parity_receiver::Signal;
use otel_parity_receiver::otlp::json;
use prost::Message;

fuzz_target!(|body: &[u8]| {
    // The file exporter's path detects the signal; HTTP knows it from the URL, so every
    // signal is tried too.
    let detected = json::detect_signal(body);
    let engine = engine(small_limits());
    for signal in Signal::ALL {
        let Ok(transcoded) = json::transcode(signal, body) else {
            continue;
        };
        if let Ok(Some(detected)) = detected {
            assert!(
                detected == signal || transcoded.protobuf.is_empty(),
                "detected as {detected}, but also converts to a non-empty {signal} request"
            );
        }
        assert_eq!(
            transcoded.rejected_items > 0,
            transcoded.first_rejection.is_some(),
            "rejected items and their reason disagree: {transcoded:?}"
        );
        let protobuf = transcoded.protobuf.as_slice();
        let decoded = match signal {
            Signal::Traces => ExportTraceServiceRequest::decode(protobuf).map(drop),
            Signal::Metrics => ExportMetricsServiceRequest::decode(protobuf).map(drop),
            Signal::Logs => ExportLogsServiceRequest::decode(protobuf).map(drop),
        };
        if let Err(error) = decoded {
            panic!("transcoded {signal} do not decode with prost: {error}");
        }
        assert!(
            ingest(&engine, signal, protobuf),
            "the engine refuses transcoded {signal}: {:?}",
            engine.ingest(signal, protobuf, protobuf.len())
        );
    }
});
