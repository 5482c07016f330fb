//! End to end: bad input sent to a real `otel-parity receive` process over real sockets, over
//! OTLP/gRPC (a tonic client that sends raw, possibly malformed, message bytes) and OTLP/HTTP
//! (handwritten HTTP/1.1 on a TCP stream). Every bad request must get the protocol's own
//! error (DESIGN.md, "Ports and endpoints"), and the receiver must keep serving: a good request
//! before and one after the bad one succeed, and the snapshot written at SIGTERM counts exactly
//! the good items (per service and operation) and the rejected requests, nothing more.
//!
//! One module per role: the test data (`requests` and the per-signal `traces`, `metrics`,
//! `logs`, `otlp_json`), exports with their expected outcomes
//! (`export`), the bookkeeping and final snapshot check (`expected`), and the tests themselves
//! (`grpc_tests`, `http_tests`). The raw clients are the test kit's (`raw::grpc`, `raw::http`).

mod expected;
mod export;
mod grpc_tests;
mod http_tests;
mod logs;
mod metrics;
mod otlp_json;
mod requests;
mod signal;
mod traces;

use std::path::PathBuf;

use otel_parity_testkit::e2e::{ReceiverProcess, ScratchDir};

/// The `deployment.environment.name` of all the test telemetry.
const ENVIRONMENT: &str = "production";
/// The service keys of the test telemetry in the snapshot.
const CHECKOUT: &str = "shop/checkout";
const PAYMENT: &str = "shop/payment";
/// Receiver memory high-water mark allowed after a decompression bomb.
const MAX_RECEIVER_PEAK_RSS_BYTES: u64 = 200 * 1024 * 1024;

/// A receiver started with a config file of `yaml` (kept in `dir` for the test's lifetime).
fn receiver_with_config(dir: &ScratchDir, yaml: &str) -> ReceiverProcess {
    let path: PathBuf = dir.path().join("receiver.yaml");
    std::fs::write(&path, yaml).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    let path = path.display().to_string();
    ReceiverProcess::start(&["--config", &path])
}

/// A config that limits gRPC messages to 1 MiB.
const GRPC_MAX_1_MIB: &str = "otlp:\n  protocols:\n    grpc:\n      max_recv_msg_size_mib: 1\n";
/// A config that limits HTTP bodies to 64 KiB.
const HTTP_MAX_64_KIB: &str =
    "otlp:\n  protocols:\n    http:\n      max_request_body_size: 65536\n";

/// (VmRSS, VmHWM) of process `pid`, in bytes.
fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kb| kb.trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status:\n{status}"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}
