//! The processes these tests run: `otel-parity demo` (the shared
//! `e2e::DemoProcess`, once it has evaluated), `otel-parity analyze` and
//! `receive` as the manifests run them, and a real Prometheus (the test
//! kit's); each stopped
//! (SIGTERM, then SIGKILL) when dropped, also when a test panics, with its
//! log printed then.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use otel_parity_testkit::e2e::{ChildOutput, ChildProcess, DemoProcess, free_port};
pub use otel_parity_testkit::e2e::{Prometheus, encode_query_component};

/// How long a process may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one HTTP exchange may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// A loopback address on a port that was free a moment ago.
pub fn loopback() -> SocketAddr {
    otel_parity_testkit::e2e::loopback(free_port())
}

/// GET `url`: the body of a 2xx answer, else what went wrong.
pub fn http_get(url: &str) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(HTTP_TIMEOUT))
        .build()
        .into();
    let mut response = agent
        .get(url)
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?;
    response
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("GET {url}: reading the body: {e}"))
}

/// Starts `command`, called `name`, with stdout and stderr in `log`; stopped (SIGTERM, then
/// SIGKILL) when dropped.
pub fn spawn(name: &str, command: &mut Command, log: &Path) -> ChildProcess {
    ChildProcess::spawn(name, command, ChildOutput::Log(log))
        .stop_timeout(STOP_TIMEOUT)
        .stopped_on_drop()
}

/// `otel-parity demo` serving on free loopback ports after its report: prod
/// and staging shop traffic with one planted drift per dimension, among them
/// shop/payment sending traces in prod and none in staging.
pub struct Demo {
    /// Stopped when the demo is dropped.
    _process: DemoProcess,
    pub http: SocketAddr,
    /// The built-in receiver's telemetry listener (`/metrics`, `/healthz`, `/readyz`).
    pub telemetry: SocketAddr,
}

impl Demo {
    /// Starts the demo and waits until its first evaluation is in `/metrics`.
    pub fn start() -> Demo {
        Demo::start_with(&[])
    }

    /// [`Demo::start`] with more arguments (e.g. `--config FILE`).
    pub fn start_with(args: &[&str]) -> Demo {
        let process = DemoProcess::start_with(args);
        let metrics = process.url("/metrics");
        process.wait_until("evaluated (coverage in /metrics)", || {
            http_get(&metrics).is_ok_and(|text| text.contains("otel_parity_coverage_ratio{"))
        });
        Demo {
            http: process.http(),
            telemetry: process.telemetry(),
            _process: process,
        }
    }

    /// The demo analyzer's `/metrics` text.
    pub fn metrics(&self) -> String {
        http_get(&format!("http://{}/metrics", self.http)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The demo receiver's own `/metrics` text.
    pub fn receiver_metrics(&self) -> String {
        http_get(&format!("http://{}/metrics", self.telemetry)).unwrap_or_else(|e| panic!("{e}"))
    }
}
