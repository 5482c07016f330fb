//! The plumbing every otel-parity server and command shares: configuration
//! loading (`config`, `yaml`, `env`, `serde_duration`), listeners (`listen`),
//! orderly shutdown (`shutdown`), OTLP status conventions (`grpc`) and the
//! clock (`time`). Nothing here knows what a fingerprint is.

pub mod config;
pub mod env;
pub mod error;
pub mod grpc;
pub mod listen;
pub mod serde_duration;
pub mod shutdown;
pub mod time;
pub mod yaml;

pub use error::{Error, YamlError};
