//! The receiver's errors, in its users' terms.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can stop the receiver or an offline fingerprint.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read config file {path}: {source}")]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {message}")]
    Config { path: String, message: String },
    #[error("cannot listen on {addr} for {what}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid {what} address {value:?}: {reason}")]
    Address {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("{what} server failed: {reason}")]
    Serve { what: &'static str, reason: String },
    #[error(transparent)]
    Snapshot(#[from] otel_parity_model::snapshot::SnapshotError),
    #[error("cannot read {path}: {source}")]
    InputRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Input {
        path: PathBuf,
        line: usize,
        message: String,
    },
}
