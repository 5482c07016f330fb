//! The CLI's error: one line for the user, exit code 1.

use std::fmt;

/// A failed command, already phrased for the user.
#[derive(Debug)]
pub struct CliError(pub String);

impl CliError {
    /// Wraps any error's message.
    pub fn from_display(error: impl fmt::Display) -> Self {
        CliError(error.to_string())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<otel_parity_receiver::Error> for CliError {
    fn from(error: otel_parity_receiver::Error) -> Self {
        CliError(error.to_string())
    }
}

impl From<otel_parity_model::snapshot::SnapshotError> for CliError {
    fn from(error: otel_parity_model::snapshot::SnapshotError) -> Self {
        CliError(error.to_string())
    }
}
