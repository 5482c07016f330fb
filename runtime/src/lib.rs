//! The plumbing every otel-parity server and command shares: configuration
//! loading (`config`, `yaml`, `env`, `serde_duration`), listeners (`listen`)
//! and serving on them (`serve`, over `connection`) with TLS (`tls`) and
//! bearer tokens (`auth`), files read again when they change (`reload`),
//! orderly shutdown (`shutdown`), OTLP status conventions (`grpc`), the
//! Prometheus exposition formats (`exposition`) and the clock (`time`). Nothing here knows what a fingerprint is.

pub mod auth;
pub mod config;
pub mod connection;
pub mod env;
pub mod error;
pub mod exposition;
pub mod grpc;
pub mod listen;
pub mod reload;
pub mod serde_duration;
pub mod serve;
pub mod shutdown;
pub mod time;
pub mod tls;
pub mod yaml;

pub use error::{Error, YamlError};
