//! One `otel-parity demo` on free ports, shared by the tests that run at the same time and
//! stopped (SIGTERM) when the last of them lets go of it.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use serde_json::Value;

use otel_parity_testkit::e2e::DemoProcess;
use otel_parity_testkit::raw::http::{HttpResponse, http_request};

/// A running demo whose traffic is all stored: it has printed its report.
pub struct Demo {
    process: DemoProcess,
}

static SHARED: Mutex<Weak<Demo>> = Mutex::new(Weak::new());

/// The demo the running tests share, started when none is running.
pub fn shared() -> Arc<Demo> {
    let mut slot = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(demo) = slot.upgrade() {
        return demo;
    }
    let demo = Arc::new(Demo {
        process: DemoProcess::start(),
    });
    *slot = Arc::downgrade(&demo);
    demo
}

impl Demo {
    /// A demo of the caller's own, started with more arguments (e.g. `--config FILE`).
    pub fn start_with(args: &[&str]) -> Demo {
        Demo {
            process: DemoProcess::start_with(args),
        }
    }

    /// Polls `done` every 200 ms; panics with the demo's output after 60 s.
    pub fn wait_until(&self, what: &str, done: impl Fn(&Demo) -> bool) {
        self.process.wait_until(what, || done(self));
    }

    /// `http://127.0.0.1:<port><path>`, for the browser.
    pub fn url(&self, path: &str) -> String {
        self.process.url(path)
    }

    /// GET `path` on the analyzer's HTTP port.
    pub fn get(&self, path: &str) -> HttpResponse {
        http_request(self.process.http(), "GET", path, &[], &[])
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
