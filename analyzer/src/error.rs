//! The analyzer's errors, in its users' terms.

use std::path::PathBuf;

/// Everything that can stop the analyzer from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config, a listener or a server failed (see the runtime crate).
    #[error(transparent)]
    Runtime(#[from] otel_parity_runtime::Error),
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The data directory.
        path: PathBuf,
        /// Why it could not be created.
        source: std::io::Error,
    },
    /// The store could not be opened or read.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The accepted-differences file could not be used.
    #[error(transparent)]
    Accepted(#[from] otel_parity_compare::accepted::AcceptedError),
}
