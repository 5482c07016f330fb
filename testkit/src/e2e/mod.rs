//! Helpers for the end-to-end tests: the Python virtualenv with the OpenTelemetry SDK, free
//! loopback ports, the `otel-parity` binary as a child process (receiver, analyzer, demo),
//! and reading and checking the snapshot JSON it writes (the proto3 JSON mapping of
//! `parity.v1.Snapshot`).
//!
//! One file per role: `process` (scratch directories, children run to completion within a time
//! limit), `child` (the one helper for long-running children: output files, readiness,
//! stopping), `venv` (the Python SDK), `ports`, `receiver`, `analyzer` and `demo` (the binary
//! under test), `prometheus` (a real Prometheus), `snapshot` (reading proto3 JSON) and `expect` (collecting failed expectations), `http_client` (the API over HTTP or
//! HTTPS, with or without a token);
//! everything is re-exported here.

mod analyzer;
mod balancer;
mod child;
mod demo;
mod expect;
mod http_client;
mod ports;
mod process;
mod prometheus;
mod receiver;
mod snapshot;
mod venv;

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use self::analyzer::{AnalyzerProcess, AnalyzerSite};
pub use self::balancer::Balancer;
pub use self::child::{ChildOutput, ChildProcess};
pub use self::demo::DemoProcess;
pub use self::expect::Expectations;
pub use self::http_client::{HttpAnswer, HttpClient};
pub use self::ports::{free_port, free_ports, loopback, port_accepts, wait_for_port};
pub use self::process::{ScratchDir, run_with_timeout};
pub use self::prometheus::{Prometheus, encode_query_component};
pub use self::receiver::ReceiverProcess;
pub use self::snapshot::{
    excerpt, is_snapshot_map, json_at, object_key_orders, object_keys, proto_f64, proto_u64,
    unsorted_snapshot_maps,
};
pub use self::venv::{python_venv, run_python};

/// The workspace root: where Cargo.toml, tests/ and target/ are (the test kit's parent).
pub fn workspace_root() -> PathBuf {
    let testkit = Path::new(env!("CARGO_MANIFEST_DIR"));
    testkit
        .parent()
        .unwrap_or_else(|| panic!("the test kit at {} has no parent", testkit.display()))
        .to_owned()
}

/// Path of an app under tests/apps/, e.g. `app_path("shop.py")`.
pub fn app_path(name: &str) -> PathBuf {
    workspace_root().join("tests").join("apps").join(name)
}

/// The `otel-parity` binary under test: as Cargo names it to the running test
/// (`CARGO_BIN_EXE_otel-parity`), else beside the test executable's `deps/` directory, where
/// Cargo builds it for integration tests.
pub fn otel_parity_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CARGO_BIN_EXE_otel-parity") {
        return PathBuf::from(path);
    }
    let test = std::env::current_exe()
        .unwrap_or_else(|e| panic!("cannot tell where the test executable is: {e}"));
    let profile_dir = test
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not under target/<profile>/deps", test.display()));
    profile_dir.join(format!("otel-parity{}", std::env::consts::EXE_SUFFIX))
}

/// Polls `done` every `every` until it holds; false if it did not within `timeout`.
pub fn poll_until(timeout: Duration, every: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(every);
    }
}

/// Nanoseconds since the Unix epoch, the unit of the snapshot's window timestamps.
pub fn unix_nanos_now() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_else(|e| panic!("system clock before 1970: {e}"));
    u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX)
}
