//! A fleet of receivers, for the analyzer's load tool and benches: one
//! realistic environment window (the shop's traffic run through the real
//! fingerprint engine) and the pushes many sidecars would make of it.

use std::time::Duration;

use otel_parity_proto::v1 as pb;
use otel_parity_receiver::{EngineConfig, Fingerprinter, Signal};
use prost::Message;

use crate::shop::Shop;

/// The push interval of the fleet's receivers.
pub const WINDOW: Duration = Duration::from_secs(10);

/// One window of `shop`'s traffic as a receiver fingerprints it, with the
/// shop deployed `copies` times (namespaces `shop`, `shop-2`, …): a larger
/// environment of the same shape. Two copies are about 15 KB encoded.
pub fn environment_window(shop: &Shop, copies: u64) -> pb::EnvironmentFingerprint {
    let engine = Fingerprinter::new(EngineConfig::default());
    let batch = shop.batch(40, 400, 1);
    let requests = batch
        .traces
        .iter()
        .map(|r| (Signal::Traces, r.encode_to_vec()))
        .chain(
            batch
                .metrics
                .iter()
                .map(|r| (Signal::Metrics, r.encode_to_vec())),
        )
        .chain(batch.logs.iter().map(|r| (Signal::Logs, r.encode_to_vec())));
    for (signal, bytes) in requests {
        if let Err(error) = engine.ingest(signal, &bytes, bytes.len()) {
            panic!("the shop's own traffic does not fingerprint: {error}");
        }
    }
    let window = engine
        .take_window()
        .environments
        .remove(&shop.environment)
        .unwrap_or_else(|| panic!("no fingerprint of {}", shop.environment));
    let mut all = window.clone();
    for copy in 2..=copies {
        for (key, service) in &window.services {
            let mut service = service.clone();
            service.namespace = format!("{}-{copy}", service.namespace);
            all.services.insert(format!("{key}-{copy}"), service);
        }
    }
    all
}

/// `base` as receiver `receiver` saw it in window `window`: counts scaled a
/// little, so that merging does real work and no two pushes are alike.
pub fn vary(
    base: &pb::EnvironmentFingerprint,
    receiver: u64,
    window: u64,
) -> pb::EnvironmentFingerprint {
    let mut fingerprint = base.clone();
    let factor = 1 + (receiver + window) % 3;
    for service in fingerprint.services.values_mut() {
        for operation in &mut service.span_operations {
            operation.spans *= factor;
        }
        for metric in service.metrics.values_mut() {
            metric.data_points *= factor;
        }
        // What counts the same spans and points scales with them, so that the push stays
        // one a receiver could make (the analyzer checks that).
        if let Some(sampling) = &mut service.sampling {
            for threshold in &mut sampling.thresholds {
                threshold.spans *= factor;
            }
            sampling.spans_without_threshold *= factor;
        }
        if let Some(ingestion) = &mut service.ingestion {
            for signal in [&mut ingestion.traces, &mut ingestion.metrics]
                .into_iter()
                .flatten()
            {
                signal.items *= factor;
            }
        }
    }
    fingerprint
}

/// Receiver `receiver`'s push of window number `window`, the windows of each
/// receiver `spacing` apart from `first_window_start` (Unix nanoseconds) and
/// receivers offset from each other by up to 5 s, as sidecars are.
pub fn push(
    base: &pb::EnvironmentFingerprint,
    environment: &str,
    receiver: u64,
    window: u64,
    first_window_start: u64,
    spacing: Duration,
) -> pb::PushRequest {
    let offset = (receiver % 50) * 100_000_000;
    let start = first_window_start + window * spacing.as_nanos() as u64 + offset;
    pb::PushRequest {
        environment: environment.to_owned(),
        receiver_instance: format!("otelcol-sidecar-{receiver:05}"),
        window_start_unix_nano: start,
        window_end_unix_nano: start + WINDOW.as_nanos() as u64,
        sequence: window,
        fingerprint: Some(vary(base, receiver, window)),
    }
}
