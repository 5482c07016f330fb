//! What can stop a lint run, in its users' terms, with the offending file named.

use std::path::PathBuf;

/// Everything that makes `otel-parity lint` unable to give a verdict (exit 2): a rules
/// file or baseline that cannot be read or does not parse, or a baseline that cannot be
/// written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The rules file could not be read.
    #[error("cannot read rules file {path}: {source}")]
    RulesRead {
        /// The rules file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The rules file is not valid YAML, or a key is unknown or of the wrong type.
    #[error("invalid rules file {path}: {source}")]
    RulesYaml {
        /// The rules file (or a label for text given directly).
        path: String,
        /// What is wrong, naming the key.
        source: otel_parity_runtime::YamlError,
    },
    /// The rules file names an unknown rule ID or sets a bad value.
    #[error("invalid rules file {path}: {message}")]
    Rules {
        /// The rules file (or a label for text given directly).
        path: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// The baseline could not be read.
    #[error("cannot read baseline {path}: {source}")]
    BaselineRead {
        /// The baseline file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The baseline is not valid YAML, or a key is unknown or of the wrong type.
    #[error("invalid baseline {path}: {source}")]
    BaselineYaml {
        /// The baseline file (or a label for text given directly).
        path: String,
        /// What is wrong, naming the key.
        source: otel_parity_runtime::YamlError,
    },
    /// The baseline is not a valid otel-parity baseline (empty, a newer
    /// version, an unknown type or kind).
    #[error("invalid baseline {path}: {message}")]
    Baseline {
        /// The baseline file (or a label for text given directly).
        path: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// The baseline could not be written.
    #[error("cannot write baseline {path}: {source}")]
    BaselineWrite {
        /// The baseline file.
        path: PathBuf,
        /// Why it could not be written.
        source: std::io::Error,
    },
    /// Two inputs hold the same service and a sketch of one of them does not
    /// decode, so they cannot be merged.
    #[error("cannot merge the inputs: {0}")]
    Merge(#[from] otel_parity_model::check::SketchError),
}
