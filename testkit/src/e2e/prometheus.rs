//! A real Prometheus (`/usr/bin/prometheus`, Debian package `prometheus`) as a child process:
//! started with a config, ready when `/-/ready` answers, queried through its HTTP API.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::child::{ChildOutput, ChildProcess};
use super::http_client::HttpClient;
use super::ports::{free_port, loopback, port_accepts};

/// How long Prometheus may take to answer after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long Prometheus may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

fn http_get(url: &str) -> Result<(u16, String), String> {
    HttpClient::new().get(url)
}

/// A real Prometheus (`/usr/bin/prometheus`, Debian package `prometheus`)
/// with its TSDB in a scratch directory.
pub struct Prometheus {
    /// Stopped when Prometheus is dropped.
    _process: ChildProcess,
    /// Where Prometheus serves its API.
    pub addr: SocketAddr,
}

impl Prometheus {
    /// Starts Prometheus with `config` and waits until it is ready.
    pub fn start(config: &Path, dir: &Path) -> Prometheus {
        let addr = loopback(free_port());
        let mut command = Command::new("prometheus");
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn");
        let mut process = ChildProcess::spawn(
            "prometheus",
            &mut command,
            ChildOutput::Log(&dir.join("prometheus.log")),
        )
        .stop_timeout(STOP_TIMEOUT)
        .stopped_on_drop();
        let ready = format!("http://{addr}/-/ready");
        process.wait_until(START_TIMEOUT, "ready", || {
            port_accepts(addr) && http_get(&ready).is_ok_and(|(status, _)| status == 200)
        });
        Prometheus {
            _process: process,
            addr,
        }
    }

    /// GET an API path (e.g. `/api/v1/alerts`) as JSON; panics on failure.
    pub fn api(&self, path_and_query: &str) -> serde_json::Value {
        let url = format!("http://{}{path_and_query}", self.addr);
        let (status, body) = http_get(&url).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status, 200, "{url}: {body}");
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
