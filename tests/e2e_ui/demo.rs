//! One `otel-parity demo` on free ports, shared by the tests that run at the same time and
//! stopped (SIGTERM) when the last of them lets go of it.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::http::{HttpResponse, http_request};
use crate::support::{ScratchDir, free_port};

/// How long the demo may take to send its traffic and print its report.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running demo whose traffic is all stored: it has printed its report.
pub struct Demo {
    child: Child,
    http: SocketAddr,
    dir: ScratchDir,
}

static SHARED: Mutex<Weak<Demo>> = Mutex::new(Weak::new());

/// The demo the running tests share, started when none is running.
pub fn shared() -> Arc<Demo> {
    let mut slot = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(demo) = slot.upgrade() {
        return demo;
    }
    let demo = Arc::new(Demo::start());
    *slot = Arc::downgrade(&demo);
    demo
}

fn loopback(port: u16) -> String {
    SocketAddr::from(([127, 0, 0, 1], port)).to_string()
}

impl Demo {
    fn start() -> Demo {
        let dir = ScratchDir::new("ui-demo");
        let stdout = std::fs::File::create(dir.path().join("stdout")).expect("stdout file");
        let stderr = std::fs::File::create(dir.path().join("stderr")).expect("stderr file");
        let http_port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_otel-parity"))
            .arg("demo")
            .args(["--otlp-grpc", &loopback(free_port())])
            .args(["--otlp-http", &loopback(free_port())])
            .args(["--listen", &loopback(http_port)])
            .args(["--push-listen", &loopback(free_port())])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("otel-parity demo starts");
        let demo = Demo {
            child,
            http: SocketAddr::from(([127, 0, 0, 1], http_port)),
            dir,
        };
        // The demo prints its report (text, then the planted drifts) once every push is stored.
        demo.wait_until("the demo printed its report", |demo| {
            demo.output("stdout").contains("Planted in staging:")
        });
        demo
    }

    /// Polls `done` every 200 ms; panics with the demo's output after [`START_TIMEOUT`].
    pub fn wait_until(&self, what: &str, done: impl Fn(&Demo) -> bool) {
        let deadline = Instant::now() + START_TIMEOUT;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.output("stdout"),
                self.output("stderr")
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn output(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// `http://127.0.0.1:<port><path>`, for the browser.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    /// GET `path` on the analyzer's HTTP port.
    pub fn get(&self, path: &str) -> HttpResponse {
        http_request(self.http, "GET", path, &[], &[])
    }

    /// GET `path`, which must answer 200 with JSON.
    pub fn get_json(&self, path: &str) -> Value {
        let response = self.get(path);
        assert_eq!(response.status, 200, "GET {path}: {}", response.describe());
        serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("GET {path} is not JSON ({e}): {}", response.describe()))
    }

    /// The JSON report of staging against prod, as the UI's overview reads it.
    pub fn report(&self) -> Value {
        self.get_json("/api/v1/report?baseline=prod&candidate=staging&format=json")
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
