//! The receiver's errors, in its users' terms.

use std::path::PathBuf;

/// Everything that can stop the receiver or an offline fingerprint.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config, a listener or a server failed (see the runtime crate).
    #[error(transparent)]
    Runtime(#[from] otel_parity_runtime::Error),
    /// A snapshot could not be written.
    #[error(transparent)]
    Snapshot(#[from] otel_parity_model::snapshot::SnapshotError),
    /// The state directory (pending pushes, window checkpoint) is unusable.
    #[error("cannot use the state directory {path}: {source}")]
    State {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An OTLP/JSON input file could not be read.
    #[error("cannot read {path}: {source}")]
    InputRead {
        /// The input file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// A line of an OTLP/JSON input file is not an export request.
    #[error("{path}:{line}: {message}")]
    Input {
        /// The input file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}
