//! End to end: the `otel-parity` binary's file and config inputs.
//!
//! `otel-parity fingerprint` reads OTLP/JSON files as the Collector's file exporter writes them
//! (one export request per line) and writes the snapshot, or fails naming the file and line and
//! writes nothing. `otel-parity receive` reads a YAML config (`${env:…}` expansion as in the
//! Collector, errors that name the key), accepts requests over axum's and tonic's default size
//! limits when its own limits allow them, and rewrites its snapshot atomically every interval.
//!
//! One module per role: the test data (`file_exporter` writes OTLP/JSON lines, `otlp_requests`
//! builds protobuf requests of a given size), checks of the snapshot (`expect_snapshot`), the
//! tests of each command (`fingerprint_files`, `fingerprint_errors`, `receive_config`,
//! `receive_limits`, `snapshots`, and `report_gate`: `report`'s parity gate on snapshot files); the raw OTLP clients are the test kit's, shared with the
//! `e2e_bad_input` tests.

mod expect_snapshot;
mod file_exporter;
mod fingerprint_errors;
mod fingerprint_files;
mod otlp_requests;
mod receive_config;
mod receive_limits;
mod report_gate;
mod snapshots;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use otel_parity_testkit::e2e::run_with_timeout;
use serde_json::Value;

/// How long a command that should exit on its own may run (a `receive` that should fail at
/// startup included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// What one run of the binary did.
struct Run {
    output: Output,
}

impl Run {
    /// Runs `otel-parity args…` to completion, with `RUST_LOG` unset so that stderr holds only
    /// what the binary prints by default.
    fn new(args: &[&str]) -> Self {
        let output = run_with_timeout(
            Command::new(env!("CARGO_BIN_EXE_otel-parity"))
                .args(args)
                .env_remove("RUST_LOG"),
            COMMAND_TIMEOUT,
            &format!("otel-parity {}", args.join(" ")),
        );
        Run { output }
    }

    /// The exit code (`None` if killed by a signal).
    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Exit status and stderr, for failure messages.
    fn describe(&self) -> String {
        format!("exit {:?}\n--- stderr ---\n{}", self.code(), self.stderr())
    }

    /// Panics unless the run exited 0.
    fn assert_success(&self, what: &str) {
        assert_eq!(self.code(), Some(0), "{what}: {}", self.describe());
    }
}

/// The snapshot JSON at `path`; panics if it is missing or not JSON.
fn read_snapshot(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no snapshot at {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("snapshot {} is not JSON ({e}):\n{text}", path.display()))
}

/// `path` as a command-line argument.
fn arg(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("{} is not UTF-8", path.display()))
}
