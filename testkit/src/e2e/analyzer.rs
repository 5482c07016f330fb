//! The analyzer under test: `otel-parity analyze` as a child process, on loopback ports and a
//! data directory that stay the same across restarts (so that a test can kill it with SIGKILL
//! and start it again where it was), its stderr captured for failure messages.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::child::{ChildOutput, ChildProcess};
use super::http_client::HttpClient;
use super::otel_parity_binary;
use super::ports::{free_ports, loopback, port_accepts};
use super::process::ScratchDir;

/// How long the analyzer may take to listen on both ports and answer `/readyz`.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the analyzer may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// Where an analyzer listens, keeps its store and reads its config; the same for every
/// (re)start.
#[derive(Debug, Clone)]
pub struct AnalyzerSite {
    /// The HTTP API's address (`--listen`).
    pub http: SocketAddr,
    /// The push port's address (`--push-listen`).
    pub push: SocketAddr,
    /// The data directory (`--data-dir`).
    pub data_dir: PathBuf,
    /// The analyzer YAML passed with `--config`, if any.
    pub config: Option<PathBuf>,
    /// The store passed with `--store` (e.g. a PostgreSQL URL); none: SQLite
    /// under the data directory.
    pub store: Option<String>,
    /// More arguments for `otel-parity analyze` (TLS and token flags).
    pub args: Vec<String>,
    /// Whether both listeners serve TLS (URLs are then `https://localhost:PORT`).
    pub https: bool,
    /// How the tests (and the readiness check) reach the HTTP API.
    pub client: HttpClient,
}

impl AnalyzerSite {
    /// Two free loopback ports and `data_dir`, no config file.
    pub fn new(data_dir: &Path) -> Self {
        let [http, push] = free_ports();
        AnalyzerSite {
            http: loopback(http),
            push: loopback(push),
            data_dir: data_dir.to_owned(),
            config: None,
            store: None,
            args: Vec::new(),
            https: false,
            client: HttpClient::new(),
        }
    }

    /// Two free loopback ports, `dir/data`, and `config` written to `dir/analyzer.yaml`.
    pub fn with_config(dir: &Path, config: &str) -> Self {
        let config_path = dir.join("analyzer.yaml");
        fs::write(&config_path, config)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));
        AnalyzerSite {
            config: Some(config_path),
            ..AnalyzerSite::new(&dir.join("data"))
        }
    }

    /// The HTTP API's base URL: `http://127.0.0.1:PORT` (`https://localhost:PORT` with TLS).
    pub fn http_url(&self) -> String {
        self.url(self.http)
    }

    /// The push endpoint as receivers take it (`--analyzer`): `http://127.0.0.1:PORT`
    /// (`https://localhost:PORT` with TLS).
    pub fn push_url(&self) -> String {
        self.url(self.push)
    }

    fn url(&self, addr: SocketAddr) -> String {
        match self.https {
            true => format!("https://localhost:{}", addr.port()),
            false => format!("http://{addr}"),
        }
    }

    /// The store file the analyzer keeps under its data directory.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("otel-parity.db")
    }
}

/// A running `otel-parity analyze`; dropping it kills the process (printing its stderr if the
/// test is failing).
pub struct AnalyzerProcess {
    process: ChildProcess,
    site: AnalyzerSite,
    /// Which start at this site this is (1 for the first), to name its stderr file.
    generation: u32,
    /// The directory of an analyzer started with [`AnalyzerProcess::start`].
    _scratch: Option<ScratchDir>,
}

impl AnalyzerProcess {
    /// Starts the analyzer with `config` (analyzer YAML) on free ports, its store in a scratch
    /// directory, and waits until it is ready. Retries with new ports when the process exits
    /// before it is ready (a port taken meanwhile).
    pub fn start(config: &str) -> Self {
        Self::start_secured(config, &[], false, HttpClient::new())
    }

    /// [`AnalyzerProcess::start`] with more arguments (`args`: TLS and token flags), `https`
    /// when they put both listeners on TLS, and the `client` that reaches the API.
    pub fn start_secured(config: &str, args: &[String], https: bool, client: HttpClient) -> Self {
        const ATTEMPTS: usize = 3;
        let mut last_failure = String::new();
        for _ in 0..ATTEMPTS {
            let scratch = ScratchDir::new("analyzer");
            let mut site = AnalyzerSite::with_config(scratch.path(), config);
            site.args = args.to_vec();
            site.https = https;
            site.client = client.clone();
            match Self::try_start_at(&site, 1, 200) {
                Ok(mut analyzer) => {
                    analyzer._scratch = Some(scratch);
                    return analyzer;
                }
                Err(failure) => last_failure = failure,
            }
        }
        panic!("the analyzer did not start in {ATTEMPTS} attempts; last:\n{last_failure}");
    }

    /// Starts the analyzer at `site` and waits until both ports accept connections and
    /// `/readyz` answers. `generation` numbers the start (its stderr goes to its own file next
    /// to the data directory).
    pub fn start_at(site: &AnalyzerSite, generation: u32) -> Self {
        Self::try_start_at(site, generation, 200).unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// [`start_at`](Self::start_at) a store that cannot take writes: returns once `/readyz`
    /// says 503.
    pub fn start_unready_at(site: &AnalyzerSite, generation: u32) -> Self {
        Self::try_start_at(site, generation, 503).unwrap_or_else(|failure| panic!("{failure}"))
    }

    fn try_start_at(
        site: &AnalyzerSite,
        generation: u32,
        readyz_status: u16,
    ) -> Result<Self, String> {
        fs::create_dir_all(&site.data_dir)
            .unwrap_or_else(|e| panic!("cannot create data dir {}: {e}", site.data_dir.display()));
        let stderr_path = site
            .data_dir
            .with_file_name(format!("analyzer-{generation}.stderr"));
        let mut command = Command::new(otel_parity_binary());
        command.arg("analyze");
        if let Some(config) = &site.config {
            command.arg("--config").arg(config);
        }
        command
            .args(["--listen", &site.http.to_string()])
            .args(["--push-listen", &site.push.to_string()])
            .arg("--data-dir")
            .arg(&site.data_dir)
            .args(&site.args)
            .env("RUST_BACKTRACE", "1");
        if let Some(store) = &site.store {
            command.args(["--store", store]);
        }
        let name = format!(
            "analyzer start {generation} (data in {})",
            site.data_dir.display()
        );
        let mut process =
            ChildProcess::spawn(&name, &mut command, ChildOutput::Stderr(&stderr_path))
                .stop_timeout(STOP_TIMEOUT);
        let readyz = format!("{}/readyz", site.http_url());
        process.wait_for(START_TIMEOUT, &format!("/readyz {readyz_status}"), || {
            port_accepts(site.push)
                && port_accepts(site.http)
                && site
                    .client
                    .get(&readyz)
                    .is_ok_and(|(status, _)| status == readyz_status)
        })?;
        Ok(AnalyzerProcess {
            process,
            site: site.clone(),
            generation,
            _scratch: None,
        })
    }

    /// Where this analyzer listens and keeps its store.
    pub fn site(&self) -> &AnalyzerSite {
        &self.site
    }

    /// The HTTP API's address.
    pub fn http(&self) -> SocketAddr {
        self.site.http
    }

    /// The push port's address.
    pub fn push(&self) -> SocketAddr {
        self.site.push
    }

    /// The HTTP API's base URL (see [`AnalyzerSite::http_url`]).
    pub fn http_url(&self) -> String {
        self.site.http_url()
    }

    /// The push endpoint as receivers take it (see [`AnalyzerSite::push_url`]).
    pub fn push_url(&self) -> String {
        self.site.push_url()
    }

    /// GET `path` on the HTTP API: status and body.
    pub fn get(&self, path: &str) -> Result<(u16, String), String> {
        self.site.client.get(&format!("{}{path}", self.http_url()))
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
            self.process.exited().is_none(),
            "analyzer start {} exited before it was killed\n{}",
            self.generation,
            self.stderr_tail()
        );
        self.process.kill();
    }

    /// SIGTERM, then waits for a clean exit (status 0); SIGKILL and a panic after a bounded
    /// wait.
    pub fn terminate(&mut self) {
        let Some(status) = self.process.stop() else {
            panic!("analyzer did not exit within {STOP_TIMEOUT:?} of SIGTERM; killed");
        };
        assert!(
            status.success(),
            "analyzer exited with {status} after SIGTERM\n{}",
            self.stderr_tail()
        );
    }

    /// The end of this start's stderr, for failure messages.
    pub fn stderr_tail(&self) -> String {
        self.process.output_tail()
    }
}
