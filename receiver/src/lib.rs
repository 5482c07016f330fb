//! otel-parity's receiver: an OTLP server that turns telemetry into compact,
//! mergeable per-service fingerprints (see `parity.v1.Snapshot`).

pub mod fingerprint;
pub mod limits;
pub mod otlp;
pub mod signal;
pub mod wire;

pub use fingerprint::{EngineConfig, EnvironmentSource, Fingerprinter, IngestOutcome};
pub use limits::Limits;
pub use signal::Signal;
