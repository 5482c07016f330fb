//! `otel-parity demo` as a child process on free loopback ports: prod and staging shop traffic
//! with one planted drift per dimension, served by the analyzer it runs.

use std::fs;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use super::child::{ChildOutput, ChildProcess};
use super::ports::{free_ports, loopback};
use super::process::ScratchDir;
use super::{otel_parity_binary, poll_until};

/// How long the demo may take to send its traffic and print its report, and how long any
/// later wait on it may take (its evaluations follow on their own schedule).
const WAIT_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a wait polls.
const POLL: Duration = Duration::from_millis(200);
/// How long the demo may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// The line the demo prints after its report text, once every push is stored.
const REPORT_PRINTED: &str = "Planted in staging:";

/// A running demo whose traffic is all stored: it has printed its report. Dropping it stops it
/// (SIGTERM, then SIGKILL), printing its output if the test is failing.
pub struct DemoProcess {
    process: ChildProcess,
    http: SocketAddr,
    push: SocketAddr,
    telemetry: SocketAddr,
    _dir: ScratchDir,
}

impl DemoProcess {
    /// Starts the demo and waits until it has printed its report; tries again on other ports
    /// when it exits first (a port taken meanwhile).
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// [`DemoProcess::start`] with more arguments (e.g. `--api-token-file FILE`).
    pub fn start_with(args: &[&str]) -> Self {
        const ATTEMPTS: usize = 3;
        let mut last_failure = String::new();
        for _ in 0..ATTEMPTS {
            match Self::try_start(args) {
                Ok(demo) => return demo,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("the demo did not start in {ATTEMPTS} attempts; last:\n{last_failure}");
    }

    fn try_start(args: &[&str]) -> Result<Self, String> {
        let dir = ScratchDir::new("demo");
        let [grpc, otlp_http, http, push, telemetry] = free_ports().map(loopback);
        let mut command = Command::new(otel_parity_binary());
        command
            .arg("demo")
            .args(["--otlp-grpc", &grpc.to_string()])
            .args(["--otlp-http", &otlp_http.to_string()])
            .args(["--listen", &http.to_string()])
            .args(["--push-listen", &push.to_string()])
            .args(["--telemetry", &telemetry.to_string()])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(args)
            .env("RUST_BACKTRACE", "1");
        let stdout_path = dir.path().join("stdout");
        let output = ChildOutput::Separate {
            stdout: &stdout_path,
            stderr: &dir.path().join("stderr"),
        };
        let mut process = ChildProcess::spawn("otel-parity demo", &mut command, output)
            .stop_timeout(STOP_TIMEOUT)
            .stopped_on_drop();
        process.wait_for(WAIT_TIMEOUT, "printed its report", || {
            fs::read_to_string(&stdout_path).is_ok_and(|out| out.contains(REPORT_PRINTED))
        })?;
        Ok(DemoProcess {
            process,
            http,
            push,
            telemetry,
            _dir: dir,
        })
    }

    /// The analyzer's HTTP API (and UI, and `/metrics`).
    pub fn http(&self) -> SocketAddr {
        self.http
    }

    /// The analyzer's push port.
    pub fn push(&self) -> SocketAddr {
        self.push
    }

    /// The built-in receiver's telemetry listener (`/metrics`, `/healthz`, `/readyz`).
    pub fn telemetry(&self) -> SocketAddr {
        self.telemetry
    }

    /// `http://127.0.0.1:<port><path>` on the HTTP API.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    /// Polls `done` every 200 ms; panics with the demo's output after 60 s.
    pub fn wait_until(&self, what: &str, done: impl FnMut() -> bool) {
        assert!(
            poll_until(WAIT_TIMEOUT, POLL, done),
            "timed out waiting until {what}\n{}",
            self.output_tail()
        );
    }

    /// Everything the demo has printed to stdout so far.
    pub fn stdout(&self) -> String {
        self.process.stdout()
    }

    /// Everything the demo has logged to stderr so far.
    pub fn stderr(&self) -> String {
        self.process.stderr()
    }

    /// The end of the demo's stdout and stderr, for failure messages.
    pub fn output_tail(&self) -> String {
        self.process.output_tail()
    }
}
