//! The analyzer under test: `otel-parity analyze` as a child process on free loopback ports,
//! with its store in a scratch directory and its stderr captured for failure messages.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{ScratchDir, free_port, port_accepts};

/// How long the analyzer may take to listen on both ports and answer `/readyz`.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one API request may take.
const API_TIMEOUT: Duration = Duration::from_secs(20);
/// Lines of stderr shown when a test fails.
const STDERR_TAIL_LINES: usize = 100;

/// `otel-parity analyze --config … --listen … --push-listen … --data-dir …`.
///
/// Dropping it kills the process; if the test is panicking, its stderr is printed first.
pub struct AnalyzerProcess {
    child: Child,
    exited: bool,
    http: SocketAddr,
    push: SocketAddr,
    stderr_path: PathBuf,
    scratch: ScratchDir,
}

impl AnalyzerProcess {
    /// Starts the analyzer with `config` (analyzer YAML) and waits until it is ready. Retries
    /// with new ports when the process exits before it is ready (a port taken meanwhile).
    pub fn start(config: &str) -> Self {
        const ATTEMPTS: usize = 3;
        let mut last_failure = String::new();
        for _ in 0..ATTEMPTS {
            match Self::try_start(config) {
                Ok(analyzer) => return analyzer,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("the analyzer did not start in {ATTEMPTS} attempts; last:\n{last_failure}");
    }

    fn try_start(config: &str) -> Result<Self, String> {
        let scratch = ScratchDir::new("parity-analyzer");
        let config_path = scratch.path().join("analyzer.yaml");
        fs::write(&config_path, config)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));
        let http_port = free_port();
        let push_port = std::iter::repeat_with(free_port)
            .find(|port| *port != http_port)
            .unwrap_or_else(|| unreachable!("repeat_with never ends"));
        let http = SocketAddr::from((Ipv4Addr::LOCALHOST, http_port));
        let push = SocketAddr::from((Ipv4Addr::LOCALHOST, push_port));
        let stderr_path = scratch.path().join("analyzer.stderr");
        let stderr = fs::File::create(&stderr_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", stderr_path.display()));
        let child = Command::new(env!("CARGO_BIN_EXE_otel-parity"))
            .arg("analyze")
            .arg("--config")
            .arg(&config_path)
            .args(["--listen", &http.to_string()])
            .args(["--push-listen", &push.to_string()])
            .arg("--data-dir")
            .arg(scratch.path().join("data"))
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start otel-parity analyze: {e}"));
        let mut analyzer = AnalyzerProcess {
            child,
            exited: false,
            http,
            push,
            stderr_path,
            scratch,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if port_accepts(push) && port_accepts(http) && analyzer.get("/readyz").0 == 200 {
                return Ok(analyzer);
            }
            if let Ok(Some(status)) = analyzer.child.try_wait() {
                analyzer.exited = true;
                return Err(format!(
                    "otel-parity analyze exited before it was ready ({status})\n{}",
                    analyzer.stderr_tail()
                ));
            }
            if Instant::now() >= deadline {
                // Dropping `analyzer` while panicking prints its stderr.
                panic!("otel-parity analyze was not ready on {http} within {START_TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The HTTP API's base URL: `http://127.0.0.1:PORT`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// The push endpoint as receivers take it (`--analyzer`): `http://127.0.0.1:PORT`.
    pub fn push_url(&self) -> String {
        format!("http://{}", self.push)
    }

    /// GETs `path_and_query` from the HTTP API: (status, body). Panics only when the analyzer
    /// cannot be reached at all.
    pub fn get(&self, path_and_query: &str) -> (u16, String) {
        let url = format!("{}{path_and_query}", self.http_url());
        let response = ureq::get(&url)
            .config()
            .http_status_as_error(false)
            .timeout_global(Some(API_TIMEOUT))
            .build()
            .call();
        match response {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let body = response
                    .body_mut()
                    .read_to_string()
                    .unwrap_or_else(|e| panic!("cannot read the answer to GET {url}: {e}"));
                (status, body)
            }
            // Only while starting is an unreachable analyzer expected.
            Err(e) if !port_accepts(self.http) => (0, e.to_string()),
            Err(e) => panic!("GET {url} failed: {e}\n{}", self.stderr_tail()),
        }
    }

    /// The end of the analyzer's stderr, for failure messages.
    pub fn stderr_tail(&self) -> String {
        let text = fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(STDERR_TAIL_LINES);
        format!(
            "--- otel-parity analyze stderr ({}, data in {}) ---\n{}",
            self.stderr_path.display(),
            self.scratch.path().display(),
            lines[start..].join("\n")
        )
    }
}

impl Drop for AnalyzerProcess {
    fn drop(&mut self) {
        if !self.exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if thread::panicking() {
            eprintln!("{}", self.stderr_tail());
        }
    }
}
