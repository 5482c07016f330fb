//! Starting `otel-parity demo` and `otel-parity analyze` on free ports.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::{HttpResponse, http_request};
use crate::support::{ScratchDir, free_port, wait_for_port};

/// A running otel-parity process, stopped with SIGTERM when dropped.
pub struct Running {
    child: Child,
    pub http: SocketAddr,
    pub push: SocketAddr,
    _dir: ScratchDir,
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

impl Running {
    /// `otel-parity demo` on free ports, once it has printed its report
    /// (all its traffic is stored by then).
    pub fn demo() -> Running {
        let dir = ScratchDir::new("demo");
        let (grpc, otlp_http, http, push) = (free_port(), free_port(), free_port(), free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_otel-parity"))
            .args([
                "demo",
                "--otlp-grpc",
                &addr(grpc).to_string(),
                "--otlp-http",
                &addr(otlp_http).to_string(),
            ])
            .args([
                "--listen",
                &addr(http).to_string(),
                "--push-listen",
                &addr(push).to_string(),
            ])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("demo starts");
        let mut child = child;
        let stdout = child.stdout.take().expect("demo stdout");
        let (reported_tx, reported) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line.starts_with("Planted in staging:") {
                    let _ = reported_tx.send(());
                }
            }
        });
        let printed = reported.recv_timeout(Duration::from_secs(60));
        let running = Running {
            child,
            http: addr(http),
            push: addr(push),
            _dir: dir,
        };
        assert!(printed.is_ok(), "the demo printed no report within 60 s");
        running.wait_for(|r| {
            r.get("/api/v1/report?baseline=prod&candidate=staging")
                .status
                == 200
        });
        running
    }

    /// `otel-parity analyze` with `config` (YAML) on free ports.
    pub fn analyzer(config: &str) -> Running {
        let dir = ScratchDir::new("analyzer");
        let config_path = dir.path().join("analyzer.yaml");
        std::fs::write(&config_path, config).expect("config written");
        let (http, push) = (free_port(), free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_otel-parity"))
            .arg("analyze")
            .arg("--config")
            .arg(&config_path)
            .args([
                "--listen",
                &addr(http).to_string(),
                "--push-listen",
                &addr(push).to_string(),
            ])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("analyzer starts");
        let running = Running {
            child,
            http: addr(http),
            push: addr(push),
            _dir: dir,
        };
        assert!(
            wait_for_port(running.push, Duration::from_secs(20)),
            "push port never opened"
        );
        running.wait_for(|r| r.get("/readyz").status == 200);
        running
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

impl Drop for Running {
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
