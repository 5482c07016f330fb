//! The analyzer under test: `otel-parity analyze` as a child process on fixed loopback ports and
//! a data directory, so that it can be killed (SIGKILL) and started again on the same ones.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use otel_parity_analyzer::store::Store;
use serde_json::Value;

use crate::support::{free_port, port_accepts};

/// How long the analyzer may take to listen on both ports.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the analyzer may take to exit after SIGTERM or SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one API request may take.
const API_TIMEOUT: Duration = Duration::from_secs(10);

/// Where an analyzer listens and keeps its store; the same for every (re)start.
#[derive(Debug, Clone)]
pub struct AnalyzerSite {
    pub http: SocketAddr,
    pub push: SocketAddr,
    pub data_dir: PathBuf,
}

impl AnalyzerSite {
    /// Two free loopback ports and `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        let http = free_port();
        let push = std::iter::repeat_with(free_port)
            .find(|port| *port != http)
            .unwrap_or_else(|| unreachable!("repeat_with never ends"));
        AnalyzerSite {
            http: SocketAddr::from((Ipv4Addr::LOCALHOST, http)),
            push: SocketAddr::from((Ipv4Addr::LOCALHOST, push)),
            data_dir: data_dir.to_owned(),
        }
    }

    /// The push endpoint as receivers take it: `http://127.0.0.1:PORT`.
    pub fn push_url(&self) -> String {
        format!("http://{}", self.push)
    }

    /// The store file the analyzer keeps under its data directory.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("otel-parity.db")
    }

    /// Opens the store directly; only while no analyzer runs on it.
    pub fn open_store(&self) -> Store {
        Store::open(&self.store_path()).unwrap_or_else(|e| {
            panic!(
                "the store {} does not open after the analyzer stopped: {e}",
                self.store_path().display()
            )
        })
    }
}

/// A running `otel-parity analyze`; dropping it kills the process (printing its stderr if the
/// test is failing).
pub struct AnalyzerProcess {
    child: Child,
    exit: Option<ExitStatus>,
    site: AnalyzerSite,
    stderr_path: PathBuf,
    /// Which start this is (1 for the first), to name its stderr file.
    generation: u32,
}

impl AnalyzerProcess {
    /// Starts the analyzer at `site` and waits until both ports accept connections and
    /// `/readyz` answers. `generation` numbers the start (its stderr goes to its own file).
    pub fn start(site: &AnalyzerSite, generation: u32) -> Self {
        fs::create_dir_all(&site.data_dir)
            .unwrap_or_else(|e| panic!("cannot create data dir {}: {e}", site.data_dir.display()));
        let stderr_path = site
            .data_dir
            .with_file_name(format!("analyzer-{generation}.stderr"));
        let stderr = fs::File::create(&stderr_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", stderr_path.display()));
        let child = Command::new(env!("CARGO_BIN_EXE_otel-parity"))
            .args(["analyze", "--listen", &site.http.to_string()])
            .args(["--push-listen", &site.push.to_string()])
            .arg("--data-dir")
            .arg(&site.data_dir)
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start otel-parity analyze: {e}"));
        let mut analyzer = AnalyzerProcess {
            child,
            exit: None,
            site: site.clone(),
            stderr_path,
            generation,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if port_accepts(site.push) && port_accepts(site.http) && analyzer.ready() {
                return analyzer;
            }
            if let Some(status) = analyzer.poll_exit() {
                panic!(
                    "analyzer start {generation} exited before listening ({status})\n{}",
                    analyzer.stderr_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "analyzer start {generation} did not listen on {} and {} within {START_TIMEOUT:?}",
                site.http,
                site.push
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn ready(&self) -> bool {
        self.get("/readyz").is_ok_and(|(status, _)| status == 200)
    }

    /// GET `path` on the HTTP API: status and body.
    pub fn get(&self, path: &str) -> Result<(u16, String), String> {
        let url = format!("http://{}{path}", self.site.http);
        let mut response = ureq::get(&url)
            .config()
            .http_status_as_error(false)
            .timeout_global(Some(API_TIMEOUT))
            .build()
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("GET {url}: reading the body: {e}"))?;
        Ok((status, body))
    }

    /// `GET /api/v1/environments`: environment name → its summary.
    pub fn environments(&self) -> Value {
        let (status, body) = self
            .get("/api/v1/environments")
            .unwrap_or_else(|e| panic!("{e}\n{}", self.stderr_tail()));
        assert_eq!(status, 200, "GET /api/v1/environments: {body}");
        let list: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("/api/v1/environments is not JSON ({e}): {body}"));
        let entries = list
            .as_array()
            .unwrap_or_else(|| panic!("/api/v1/environments is not a list: {body}"));
        let mut by_name = serde_json::Map::new();
        for entry in entries {
            let name = entry["name"]
                .as_str()
                .unwrap_or_else(|| panic!("environment without a name: {body}"));
            by_name.insert(name.to_owned(), entry.clone());
        }
        Value::Object(by_name)
    }

    /// The `/metrics` exposition text.
    pub fn metrics(&self) -> String {
        let (status, body) = self
            .get("/metrics")
            .unwrap_or_else(|e| panic!("{e}\n{}", self.stderr_tail()));
        assert_eq!(status, 200, "GET /metrics: {body}");
        body
    }

    /// SIGKILL: the process dies at once, mid-write or not. Waits until it is reaped.
    pub fn kill_9(&mut self) {
        assert!(
            self.poll_exit().is_none(),
            "analyzer start {} exited before it was killed\n{}",
            self.generation,
            self.stderr_tail()
        );
        // Child::kill sends SIGKILL on Unix.
        self.child
            .kill()
            .unwrap_or_else(|e| panic!("cannot SIGKILL the analyzer: {e}"));
        let status = self
            .child
            .wait()
            .unwrap_or_else(|e| panic!("cannot reap the analyzer: {e}"));
        self.exit = Some(status);
    }

    /// SIGTERM, then waits for a clean exit (status 0).
    pub fn terminate(&mut self) {
        if self.poll_exit().is_none() {
            let pid = self.child.id().to_string();
            let sent = Command::new("kill").args(["-TERM", &pid]).status();
            assert!(
                sent.is_ok_and(|s| s.success()) || self.poll_exit().is_some(),
                "cannot SIGTERM the analyzer"
            );
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            if let Some(status) = self.poll_exit() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "analyzer did not exit within {STOP_TIMEOUT:?} of SIGTERM; killed\n{}",
                    self.stderr_tail()
                );
            }
            thread::sleep(Duration::from_millis(20));
        };
        assert!(
            status.success(),
            "analyzer exited with {status} after SIGTERM\n{}",
            self.stderr_tail()
        );
    }

    /// The end of this start's stderr, for failure messages.
    pub fn stderr_tail(&self) -> String {
        let text = fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(60)..].join("\n");
        format!(
            "--- analyzer start {} stderr ({}) ---\n{tail}",
            self.generation,
            self.stderr_path.display()
        )
    }

    fn poll_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }
}

impl Drop for AnalyzerProcess {
    fn drop(&mut self) {
        if self.poll_exit().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if thread::panicking() {
            eprintln!("{}", self.stderr_tail());
        }
    }
}

/// The value of the sample `name` (with its labels, exactly as exposed, e.g.
/// `otel_parity_pushes_total{result="stored"}`) in exposition `text`; 0 when absent.
pub fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            (series == name).then(|| value.parse::<f64>().ok())?
        })
        .unwrap_or(0.0)
}
