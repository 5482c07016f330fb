//! otel-parity's receiver: an OTLP server that turns telemetry into compact,
//! mergeable per-service fingerprints (see `parity.v1.Snapshot`).

pub mod signal;

pub use signal::Signal;
