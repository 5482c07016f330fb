//! Shared helpers for the end-to-end tests: the Python virtualenv with the OpenTelemetry SDK,
//! free loopback ports, the `otel-parity` binary as a child process (receiver, analyzer, demo),
//! and reading and checking the snapshot JSON it writes (the proto3 JSON mapping of
//! `parity.v1.Snapshot`).
//!
//! One file per role: `process` (scratch directories, children with time limits, stopping
//! them), `venv` (the Python SDK), `ports`, `receiver`, `analyzer` and `demo` (the binary under
//! test), `snapshot` (reading proto3 JSON) and `expect` (collecting failed expectations);
//! everything is re-exported here.
//!
//! Each test file includes this with `mod support;`; not every file uses every helper.
#![allow(dead_code)]

mod analyzer;
mod demo;
mod expect;
mod ports;
mod process;
mod receiver;
mod snapshot;
mod venv;

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

// Each test binary uses only some of these; the others would warn as unused imports.
#[allow(unused_imports)]
pub use self::{
    analyzer::{AnalyzerProcess, AnalyzerSite},
    demo::DemoProcess,
    expect::Expectations,
    ports::{free_port, free_ports, loopback, port_accepts, wait_for_port},
    process::{ScratchDir, run_with_timeout, stop_child},
    receiver::ReceiverProcess,
    snapshot::{
        excerpt, is_snapshot_map, json_at, object_key_orders, object_keys, proto_f64, proto_u64,
        unsorted_snapshot_maps,
    },
    venv::{python_venv, run_python},
};

/// The workspace root: where Cargo.toml, tests/ and target/ are.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Path of an app under tests/apps/, e.g. `app_path("shop.py")`.
pub fn app_path(name: &str) -> PathBuf {
    workspace_root().join("tests").join("apps").join(name)
}

/// Nanoseconds since the Unix epoch, the unit of the snapshot's window timestamps.
pub fn unix_nanos_now() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_else(|e| panic!("system clock before 1970: {e}"));
    u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX)
}
