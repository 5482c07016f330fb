//! `otel-parity demo` as a child process on free loopback ports: prod and staging shop traffic
//! with one planted drift per dimension, served by the analyzer it runs.

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::ports::{free_ports, loopback};
use super::process::{ScratchDir, create_file, stop_child, tail};

/// How long the demo may take to send its traffic and print its report, and how long any
/// later wait on it may take (its evaluations follow on their own schedule).
const WAIT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the demo may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Lines of its output shown when a test fails.
const OUTPUT_TAIL_LINES: usize = 100;
/// The line the demo prints after its report text, once every push is stored.
const REPORT_PRINTED: &str = "Planted in staging:";

/// A running demo whose traffic is all stored: it has printed its report. Dropping it stops it
/// (SIGTERM, then SIGKILL), printing its output if the test is failing.
pub struct DemoProcess {
    child: Child,
    http: SocketAddr,
    push: SocketAddr,
    dir: ScratchDir,
}

impl DemoProcess {
    /// Starts the demo and waits until it has printed its report; tries again on other ports
    /// when it exits first (a port taken meanwhile).
    pub fn start() -> Self {
        const ATTEMPTS: usize = 3;
        let mut last_failure = String::new();
        for _ in 0..ATTEMPTS {
            match Self::try_start() {
                Ok(demo) => return demo,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("the demo did not start in {ATTEMPTS} attempts; last:\n{last_failure}");
    }

    fn try_start() -> Result<Self, String> {
        let dir = ScratchDir::new("demo");
        let [grpc, otlp_http, http, push] = free_ports().map(loopback);
        let child = Command::new(env!("CARGO_BIN_EXE_otel-parity"))
            .arg("demo")
            .args(["--otlp-grpc", &grpc.to_string()])
            .args(["--otlp-http", &otlp_http.to_string()])
            .args(["--listen", &http.to_string()])
            .args(["--push-listen", &push.to_string()])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(create_file(&dir.path().join("stdout")))
            .stderr(create_file(&dir.path().join("stderr")))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start otel-parity demo: {e}"));
        let mut demo = DemoProcess {
            child,
            http,
            push,
            dir,
        };
        let deadline = Instant::now() + WAIT_TIMEOUT;
        while !demo.stdout().contains(REPORT_PRINTED) {
            if let Some(status) = demo.poll_exit() {
                return Err(format!(
                    "otel-parity demo exited ({status}) before it printed its report\n{}",
                    demo.output_tail()
                ));
            }
            // Dropping `demo` while panicking prints its output.
            assert!(
                Instant::now() < deadline,
                "the demo printed no report within {WAIT_TIMEOUT:?}"
            );
            thread::sleep(Duration::from_millis(200));
        }
        Ok(demo)
    }

    /// The analyzer's HTTP API (and UI, and `/metrics`).
    pub fn http(&self) -> SocketAddr {
        self.http
    }

    /// The analyzer's push port.
    pub fn push(&self) -> SocketAddr {
        self.push
    }

    /// `http://127.0.0.1:<port><path>` on the HTTP API.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    /// Polls `done` every 200 ms; panics with the demo's output after 60 s.
    pub fn wait_until(&self, what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        while !done() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what}\n{}",
                self.output_tail()
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Everything the demo has printed to stdout so far.
    pub fn stdout(&self) -> String {
        fs::read_to_string(self.output_path("stdout")).unwrap_or_default()
    }

    /// The end of the demo's stdout and stderr, for failure messages.
    pub fn output_tail(&self) -> String {
        let stderr = fs::read_to_string(self.output_path("stderr")).unwrap_or_default();
        format!(
            "--- otel-parity demo stdout ({}) ---\n{}--- stderr ---\n{}",
            self.dir.path().display(),
            tail(&self.stdout(), OUTPUT_TAIL_LINES),
            tail(&stderr, OUTPUT_TAIL_LINES)
        )
    }

    fn output_path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn poll_exit(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = stop_child(&mut self.child, STOP_TIMEOUT);
        if thread::panicking() {
            eprintln!("{}", self.output_tail());
        }
    }
}
