//! The processes these tests run: `otel-parity demo` (the shared
//! `support::DemoProcess`, once it has evaluated), `otel-parity analyze` and
//! `receive` as the manifests run them, and a real Prometheus; each stopped
//! (SIGTERM, then SIGKILL) when dropped, also when a test panics, with its
//! log printed then.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{DemoProcess, free_port, port_accepts, stop_child};

/// How long a process may take to answer after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a process may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one HTTP exchange may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// A loopback address on a port that was free a moment ago.
pub fn loopback() -> SocketAddr {
    crate::support::loopback(free_port())
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

/// A child process with its output in a log file, stopped when dropped.
pub struct Running {
    name: String,
    child: Child,
    log: PathBuf,
    exit: Option<ExitStatus>,
}

impl Running {
    /// Starts `command` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, command: &mut Command, log: &Path) -> Running {
        let out = fs::File::create(log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot share {}: {e}", log.display()));
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        Running {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
            exit: None,
        }
    }

    /// The exit status, if the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }

    /// The process's output so far (its last 100 lines).
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(100);
        format!(
            "--- {} log ({}) ---\n{}",
            self.name,
            self.log.display(),
            lines[start..].join("\n")
        )
    }

    /// Polls `ready` every 100 ms until it holds; panics with the log when the
    /// process exits first or `timeout` passes.
    pub fn wait_until(&mut self, timeout: Duration, what: &str, ready: impl Fn() -> bool) {
        if let Err(failure) = self.wait_for(timeout, what, ready) {
            panic!("{failure}");
        }
    }

    /// Polls `ready` every 100 ms until it holds; an error (with the log) when
    /// the process exits first or `timeout` passes.
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        what: &str,
        ready: impl Fn() -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if ready() {
                return Ok(());
            }
            if let Some(status) = self.exited() {
                return Err(format!(
                    "{} exited ({status}) before {what}\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} not {what} within {timeout:?}\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then waits; SIGKILL after [`STOP_TIMEOUT`]. The exit status,
    /// or `None` when it had to be killed.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        self.exit = stop_child(&mut self.child, STOP_TIMEOUT);
        self.exit
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop();
        if thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
    }
}

/// `otel-parity demo` serving on free loopback ports after its report: prod
/// and staging shop traffic with one planted drift per dimension, among them
/// shop/payment sending traces in prod and none in staging.
pub struct Demo {
    /// Stopped when the demo is dropped.
    _process: DemoProcess,
    pub http: SocketAddr,
}

impl Demo {
    /// Starts the demo and waits until its first evaluation is in `/metrics`.
    pub fn start() -> Demo {
        let process = DemoProcess::start();
        let metrics = process.url("/metrics");
        process.wait_until("evaluated (coverage in /metrics)", || {
            http_get(&metrics).is_ok_and(|text| text.contains("otel_parity_coverage_ratio{"))
        });
        Demo {
            http: process.http(),
            _process: process,
        }
    }

    /// The demo analyzer's `/metrics` text.
    pub fn metrics(&self) -> String {
        http_get(&format!("http://{}/metrics", self.http)).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// A real Prometheus (`/usr/bin/prometheus`, Debian package `prometheus`)
/// with its TSDB in a scratch directory.
pub struct Prometheus {
    /// Stopped when Prometheus is dropped.
    _process: Running,
    pub addr: SocketAddr,
}

impl Prometheus {
    /// Starts Prometheus with `config` and waits until it is ready.
    pub fn start(config: &Path, dir: &Path) -> Prometheus {
        let addr = loopback();
        let mut command = Command::new("prometheus");
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn");
        let mut process = Running::spawn("prometheus", &mut command, &dir.join("prometheus.log"));
        let ready = format!("http://{addr}/-/ready");
        process.wait_until(START_TIMEOUT, "ready", || {
            port_accepts(addr) && http_get(&ready).is_ok()
        });
        Prometheus {
            _process: process,
            addr,
        }
    }

    /// GET an API path (e.g. `/api/v1/alerts`) as JSON; panics on failure.
    pub fn api(&self, path_and_query: &str) -> serde_json::Value {
        let url = format!("http://{}{path_and_query}", self.addr);
        let body = http_get(&url).unwrap_or_else(|e| panic!("{e}"));
        let value: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{url} is not JSON ({e}): {body}"));
        assert_eq!(value["status"], "success", "{url}: {body}");
        value
    }

    /// An instant query's result vector.
    pub fn query(&self, promql: &str) -> Vec<serde_json::Value> {
        let url = format!("/api/v1/query?query={}", encode_query_component(promql));
        let answer = self.api(&url);
        answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// Percent-encodes a URL query component (RFC 3986 unreserved kept).
pub fn encode_query_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
