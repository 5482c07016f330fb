//! `otel-parity demo` and `otel-parity analyze` (the test kit's processes) seen through
//! this crate's raw HTTP client.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use otel_parity_testkit::e2e::{AnalyzerProcess, DemoProcess, wait_for_port};
use otel_parity_testkit::raw::http::{HttpResponse, http_request};

/// A running otel-parity process, stopped when dropped.
pub struct Running {
    pub http: SocketAddr,
    pub push: SocketAddr,
    /// Whichever of the two runs; stopped when dropped.
    _demo: Option<DemoProcess>,
    _analyzer: Option<AnalyzerProcess>,
}

impl Running {
    /// `otel-parity demo` on free ports, once it has printed its report
    /// (all its traffic is stored by then) and serves it.
    pub fn demo() -> Running {
        let demo = DemoProcess::start();
        let running = Running {
            http: demo.http(),
            push: demo.push(),
            _demo: Some(demo),
            _analyzer: None,
        };
        running.wait_for(|r| {
            r.get("/api/v1/report?baseline=prod&candidate=staging")
                .status
                == 200
        });
        running
    }

    /// `otel-parity analyze` with `config` (YAML) on free ports, once `/readyz` answers.
    pub fn analyzer(config: &str) -> Running {
        let analyzer = AnalyzerProcess::start(config);
        Running {
            http: analyzer.http(),
            push: analyzer.push(),
            _demo: None,
            _analyzer: Some(analyzer),
        }
    }

    /// GET `path` on the HTTP API.
    pub fn get(&self, path: &str) -> HttpResponse {
        self.get_with(path, &[])
    }

    /// GET `path` with extra headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        http_request(self.http, "GET", path, headers, &[])
    }

    /// Polls until `ready` holds (at most 60 s: the demo builds its traffic first).
    pub fn wait_for(&self, ready: impl Fn(&Running) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !(wait_for_port(self.http, Duration::from_millis(200)) && ready(self)) {
            assert!(
                Instant::now() < deadline,
                "otel-parity did not become ready"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
