//! otel-parity's receiver: an OTLP server that turns telemetry into compact,
//! mergeable per-service fingerprints (see `parity.v1.Snapshot`).

pub mod admission;
pub mod config;
pub mod error;
pub mod fingerprint;
pub mod limits;
pub mod offline;
pub mod otlp;
pub mod push;
pub mod server;
pub mod signal;
pub mod telemetry;
pub mod wire;

pub use config::ReceiverConfig;
pub use error::Error;
pub use fingerprint::{EngineConfig, EnvironmentSource, Fingerprinter, IngestOutcome};
pub use limits::Limits;
pub use signal::Signal;
