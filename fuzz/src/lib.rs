//! What the fuzz targets share: an engine with caps small enough that fuzz inputs reach them,
//! the checks every fingerprint and report must pass, and fixed shop fingerprints to compare
//! against. Each check panics with what broke, which libFuzzer reports as a crash.

use std::sync::OnceLock;

use otel_parity_compare::{CompareOptions, Date, Report, compare};
use otel_parity_model::check::check_fingerprint;
use otel_parity_model::limits::FingerprintLimits;
use otel_parity_proto::v1 as pb;
use otel_parity_receiver::{EngineConfig, EnvironmentSource, Fingerprinter, Limits, Signal};
use otel_parity_testkit::shop::Shop;
use prost::Message;

/// Caps a few inputs can exceed, so that every overflow path is reachable; the span cache is
/// small enough that eviction happens too.
pub fn small_limits() -> Limits {
    Limits {
        max_environments: 2,
        max_services: 3,
        max_metrics: 4,
        max_span_operations: 4,
        max_attribute_keys: 4,
        max_event_names: 3,
        max_allowed_values: 2,
        max_bucket_layouts: 2,
        max_units: 2,
        max_scopes: 2,
        max_edges: 4,
        span_cache_size: 8,
        max_request_series: 4,
    }
}

/// An engine that takes environments from the resource, as `serve` does, with `limits`.
pub fn engine(limits: Limits) -> Fingerprinter {
    Fingerprinter::new(EngineConfig {
        environment: Some("fuzz".into()),
        environment_from: EnvironmentSource::Resource,
        limits,
        instance: "fuzz-receiver".into(),
    })
}

/// Feeds `request` to `engine` the way the OTLP servers do, then checks what the engine made
/// of it. Returns whether the request was accepted.
pub fn ingest(engine: &Fingerprinter, signal: Signal, request: &[u8]) -> bool {
    match engine.ingest(signal, request, request.len()) {
        Ok(outcome) => {
            assert!(
                outcome.rejected == 0 || outcome.rejection.is_some(),
                "{} rejected items without a reason",
                outcome.rejected
            );
            true
        }
        Err(_) => false,
    }
}

/// The ingest targets' run: `request` into an engine with small caps, twice (the second time
/// into state the first created), then again into the next window; every snapshot is checked.
/// A refused request must leave no trace but the rejection counters.
pub fn ingest_across_windows(signal: Signal, request: &[u8]) {
    let engine = engine(small_limits());
    if !ingest(&engine, signal, request) {
        let environments = engine.snapshot().environments;
        assert!(
            environments.is_empty(),
            "a refused request was fingerprinted: {environments:?}"
        );
        return;
    }
    assert!(
        ingest(&engine, signal, request),
        "a request accepted once is refused the second time"
    );
    check_snapshot(&engine.take_window());
    ingest(&engine, signal, request);
    check_snapshot(&engine.snapshot());
}

/// Checks a receiver's snapshot as the analyzer and the snapshot writer will read it: it
/// passes the analyzer's check at the door under the default caps (sketches, counts), the
/// push encodes and decodes back,
/// and the proto3 JSON (the snapshot file) reads back.
pub fn check_snapshot(snapshot: &pb::Snapshot) {
    for (name, fingerprint) in &snapshot.environments {
        if let Err(error) = check_fingerprint(fingerprint, &FingerprintLimits::default()) {
            panic!(
                "environment {name:?}: the receiver wrote a fingerprint the analyzer refuses: {error}"
            );
        }
        let push = pb::PushRequest {
            environment: name.clone(),
            receiver_instance: snapshot.receiver_instance.clone(),
            window_start_unix_nano: snapshot.window_start_unix_nano,
            window_end_unix_nano: snapshot.window_end_unix_nano,
            sequence: 1,
            fingerprint: Some(fingerprint.clone()),
        };
        // Compared as bytes: a NaN bucket bound is not equal to itself.
        let encoded = push.encode_to_vec();
        match pb::PushRequest::decode(encoded.as_slice()) {
            Ok(decoded) => assert!(
                decoded.encode_to_vec() == encoded,
                "a push does not survive its encoding"
            ),
            Err(error) => panic!("a push the receiver would send does not decode: {error}"),
        }
    }
    let json = serde_json::to_vec(snapshot).expect("a snapshot serializes to JSON");
    if let Err(error) = serde_json::from_slice::<pb::Snapshot>(&json) {
        panic!("a snapshot the receiver wrote does not read back: {error}");
    }
}

/// The first `N` parts of `data` separated by NUL bytes (which neither JSON nor YAML text
/// holds), missing parts empty: how targets that read several files take one input.
pub fn parts<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut parts = [&data[..0]; N];
    for (slot, part) in parts.iter_mut().zip(data.splitn(N, |b| *b == 0)) {
        *slot = part;
    }
    parts
}

/// The environment `${env:…}` references read in fuzzed config: a few names with values of
/// every shape a reference can be retyped into (number, list, map, duration, text).
pub fn env_lookup(name: &str) -> Option<String> {
    let value = match name {
        "N" => "42",
        "NEG" => "-1",
        "LIST" => "[1, 2]",
        "MAP" => "{a: b}",
        "DUR" => "5s",
        "ENV" => "staging",
        "REF" => "${env:N}",
        "EMPTY" => "",
        _ => return None,
    };
    Some(value.to_owned())
}

/// The day comparisons are judged on: fixed, so that a crash reproduces on any day.
pub fn today() -> Date {
    Date::new(2026, 11, 15).expect("a valid date")
}

/// The shop's prod and staging fingerprints (staging with every drift), fingerprinted once
/// per process: realistic fingerprints to compare fuzzed options against.
pub fn shop_fingerprints() -> &'static (pb::EnvironmentFingerprint, pb::EnvironmentFingerprint) {
    static FINGERPRINTS: OnceLock<(pb::EnvironmentFingerprint, pb::EnvironmentFingerprint)> =
        OnceLock::new();
    FINGERPRINTS.get_or_init(|| {
        (
            shop_fingerprint(&Shop::prod()),
            shop_fingerprint(&Shop::staging()),
        )
    })
}

/// One batch of `shop`'s traffic as OTLP/protobuf export requests, one per service instance
/// and signal.
pub fn shop_requests(shop: &Shop) -> Vec<(Signal, Vec<u8>)> {
    let batch = shop.batch(4, 4, 1);
    let traces = batch
        .traces
        .iter()
        .map(|r| (Signal::Traces, r.encode_to_vec()));
    let metrics = batch
        .metrics
        .iter()
        .map(|r| (Signal::Metrics, r.encode_to_vec()));
    let logs = batch.logs.iter().map(|r| (Signal::Logs, r.encode_to_vec()));
    traces.chain(metrics).chain(logs).collect()
}

/// One batch of `shop`'s traffic through `engine`, then the fingerprint of the shop's
/// environment in the window it ends.
pub fn shop_fingerprint_with(engine: &Fingerprinter, shop: &Shop) -> pb::EnvironmentFingerprint {
    for (signal, request) in shop_requests(shop) {
        assert!(
            ingest(engine, signal, &request),
            "the shop's {signal} are valid"
        );
    }
    engine
        .take_window()
        .environments
        .remove(&shop.environment)
        .unwrap_or_default()
}

/// One batch of `shop`'s traffic through an engine with the default caps.
pub fn shop_fingerprint(shop: &Shop) -> pb::EnvironmentFingerprint {
    shop_fingerprint_with(&engine(Limits::default()), shop)
}

/// Compares two fingerprints and renders the report in every format, checking that the JSON
/// form reads back as the report it came from.
pub fn compare_and_render(
    baseline: &pb::EnvironmentFingerprint,
    candidate: &pb::EnvironmentFingerprint,
    options: &CompareOptions,
) -> Report {
    let report = compare("prod", baseline, "staging", candidate, options);
    render(&report);
    report
}

/// Renders `report` as the CLI and the HTTP API do: JSON, text with and without colour,
/// markdown.
pub fn render(report: &Report) {
    let json = serde_json::to_string_pretty(report).expect("a report serializes to JSON");
    if let Err(error) = serde_json::from_str::<Report>(&json) {
        panic!("a report's JSON does not read back: {error}\n{json}");
    }
    let _ = report.render_text(true);
    let _ = report.render_text(false);
    let _ = report.render_markdown();
}
