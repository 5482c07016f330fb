//! The receiver under test: `otel-parity receive` as a child process.

use std::fs;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::child::{ChildOutput, ChildProcess};
use super::http_client::HttpClient;
use super::otel_parity_binary;
use super::ports::{free_ports, loopback, port_accepts};
use super::process::ScratchDir;

/// How long the receiver may take to listen on both ports.
const RECEIVER_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the receiver may take to exit after SIGTERM (it writes a final snapshot first).
const RECEIVER_STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// `otel-parity receive` running as a child process on free loopback ports, writing its
/// snapshot every second into a scratch directory, its stderr captured to a file there.
///
/// Dropping it kills the process; if the test is panicking, its stderr is printed first.
pub struct ReceiverProcess {
    process: ChildProcess,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    telemetry_addr: SocketAddr,
    snapshot_path: PathBuf,
    _scratch: ScratchDir,
}

impl ReceiverProcess {
    /// Starts `otel-parity receive --otlp-grpc … --otlp-http … --telemetry … --snapshot …
    /// --snapshot-interval 1s` followed by `extra_args`, and waits until its three ports accept
    /// connections. Retries with new ports when the process exits before it is ready (a port
    /// taken meanwhile).
    pub fn start(extra_args: &[&str]) -> Self {
        Self::start_with(extra_args, &[], "1s")
    }

    /// [`ReceiverProcess::start`] with `env` set in the child's environment (e.g. for
    /// `${env:…}` references in a config file) and a snapshot every `snapshot_interval`.
    pub fn start_with(extra_args: &[&str], env: &[(&str, &str)], snapshot_interval: &str) -> Self {
        const ATTEMPTS: usize = 3;
        let mut last_failure = String::new();
        for _ in 0..ATTEMPTS {
            match Self::try_start(extra_args, env, snapshot_interval) {
                Ok(receiver) => return receiver,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("the receiver did not start in {ATTEMPTS} attempts; last:\n{last_failure}");
    }

    fn try_start(
        extra_args: &[&str],
        env: &[(&str, &str)],
        snapshot_interval: &str,
    ) -> Result<Self, String> {
        let scratch = ScratchDir::new("receiver");
        let [grpc_addr, http_addr, telemetry_addr] = free_ports().map(loopback);
        let snapshot_path = scratch.path().join("snapshot.json");
        let mut args = vec![
            "receive".to_owned(),
            "--otlp-grpc".to_owned(),
            grpc_addr.to_string(),
            "--otlp-http".to_owned(),
            http_addr.to_string(),
            "--telemetry".to_owned(),
            telemetry_addr.to_string(),
            "--snapshot".to_owned(),
            snapshot_path.display().to_string(),
            "--snapshot-interval".to_owned(),
            snapshot_interval.to_owned(),
        ];
        args.extend(extra_args.iter().map(|arg| (*arg).to_owned()));
        let mut command = Command::new(otel_parity_binary());
        command
            .args(&args)
            .env("RUST_BACKTRACE", "1")
            .envs(env.iter().copied());
        let output = ChildOutput::Separate {
            stdout: &scratch.path().join("receiver.stdout"),
            stderr: &scratch.path().join("receiver.stderr"),
        };
        let name = format!("otel-parity {}", args.join(" "));
        let mut process =
            ChildProcess::spawn(&name, &mut command, output).stop_timeout(RECEIVER_STOP_TIMEOUT);
        process.wait_for(RECEIVER_START_TIMEOUT, "listening", || {
            port_accepts(grpc_addr) && port_accepts(http_addr) && port_accepts(telemetry_addr)
        })?;
        Ok(Self {
            process,
            grpc_addr,
            http_addr,
            telemetry_addr,
            snapshot_path,
            _scratch: scratch,
        })
    }

    /// The receiver's process id, e.g. to read its memory use from `/proc/<pid>/status`.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The OTLP/gRPC endpoint as SDK exporters take it: `http://127.0.0.1:PORT`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// The OTLP/HTTP base URL (without `/v1/…`): `http://127.0.0.1:PORT`.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The OTLP/gRPC listen address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The OTLP/HTTP listen address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The telemetry listener's address (`/metrics`, `/healthz`, `/readyz`).
    pub fn telemetry_addr(&self) -> SocketAddr {
        self.telemetry_addr
    }

    /// GET `path` on the telemetry listener: status and body; panics when it does not answer.
    pub fn telemetry_get(&self, path: &str) -> (u16, String) {
        let url = format!("http://{}{path}", self.telemetry_addr);
        HttpClient::new()
            .get(&url)
            .unwrap_or_else(|e| panic!("{url}: {e}\n{}", self.stderr_tail()))
    }

    /// The receiver's `/metrics` text (Prometheus text format).
    pub fn metrics(&self) -> String {
        let (status, body) = self.telemetry_get("/metrics");
        assert_eq!(status, 200, "/metrics answered {status}: {body}");
        body
    }

    /// SIGKILL: the receiver dies at once, as in an OOM kill or a lost node.
    pub fn kill_9(&mut self) -> ExitStatus {
        self.process.kill()
    }

    /// Where the receiver writes its snapshot.
    pub fn snapshot_path(&self) -> &Path {
        &self.snapshot_path
    }

    /// Everything the receiver has written to stderr so far.
    pub fn stderr(&self) -> String {
        self.process.stderr()
    }

    /// The end of the receiver's output, headed by its command line, for failure messages.
    pub fn stderr_tail(&self) -> String {
        self.process.output_tail()
    }

    /// The snapshot file's text as last written, or `None` before the first write.
    pub fn read_snapshot_text(&self) -> Option<String> {
        match fs::read_to_string(&self.snapshot_path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => panic!("cannot read {}: {e}", self.snapshot_path.display()),
        }
    }

    /// The snapshot as last written, or `None` before the first write. The receiver writes
    /// atomically, so a file that is not valid JSON is a bug and panics.
    pub fn read_snapshot(&self) -> Option<Value> {
        let text = self.read_snapshot_text()?;
        match serde_json::from_str(&text) {
            Ok(value) => Some(value),
            Err(e) => panic!(
                "snapshot {} is not valid JSON ({e}); snapshots must be written atomically\n\
                 --- first 2000 characters ---\n{}",
                self.snapshot_path.display(),
                text.chars().take(2000).collect::<String>()
            ),
        }
    }

    /// Polls the periodic snapshot until `ready` accepts it and returns it, or returns `None`
    /// after `timeout` (the caller decides whether that fails the test).
    pub fn wait_for_snapshot(
        &mut self,
        timeout: Duration,
        ready: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(snapshot) = self.read_snapshot().filter(|s| ready(s)) {
                return Some(snapshot);
            }
            if Instant::now() >= deadline || self.process.exited().is_some() {
                return None;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and waits for the process to exit; it should write a final snapshot and
    /// exit on its own. Panics (after SIGKILL) if it is still running after a bounded wait.
    pub fn stop(&mut self) -> ExitStatus {
        self.process.stop().unwrap_or_else(|| {
            panic!("otel-parity did not exit within {RECEIVER_STOP_TIMEOUT:?} of SIGTERM; killed")
        })
    }
}
