//! A two-environment deployment of real processes: one analyzer, a receiver per environment
//! pushing its windows to it, and tests/apps/parity_shop.py (the Python OpenTelemetry SDK)
//! feeding each receiver, prod over OTLP/gRPC and staging over OTLP/HTTP.

use std::fmt::Write as _;
use std::thread;

use serde_json::Value;

use otel_parity_testkit::e2e::{self, AnalyzerProcess, ReceiverProcess, run_with_timeout};

/// The analyzer's config: prod is the baseline, evaluated every second over the last hour
/// (the whole test).
pub const ANALYZER_CONFIG: &str = "evaluation:\n  baseline: prod\n  interval: 1s\n  since: 1h\n";

/// How often receivers end a window and push it: several windows per run, so that the
/// analyzer merges windows as it does in production.
pub const PUSH_INTERVAL: &str = "500ms";

/// How long `otel-parity report` may take.
const REPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// One run of parity_shop.py: its command-line options.
#[derive(Debug, Clone)]
pub struct Shop {
    pub requests: u64,
    pub instances: u64,
    /// Consistent probability sampling threshold (`th`): "c" keeps 25%, "0" everything.
    pub threshold: &'static str,
    pub logs_per_request: u64,
    pub drifts: Vec<&'static str>,
    /// Seed of trace and span ids: which traces the sampler keeps is the same every run.
    pub seed: u64,
    /// Export every request's spans when it completes (see `run`).
    pub flush_per_request: bool,
    /// How often each instance exports its metrics.
    pub metric_interval_ms: u64,
    /// Pause between requests, so that a run spans export intervals and push windows.
    pub request_pause_ms: u64,
    /// Services left out of the run (`--skip-service`).
    pub skip: Vec<&'static str>,
    /// Hosts are `ip-10-<subnet>-0-<instance>.internal`.
    pub host_subnet: u8,
}

impl Shop {
    /// `requests` requests on `instances` instances with threshold `threshold`, logging once
    /// per request, ids seeded with `seed`, no drift, metrics every 500 ms, no pauses.
    pub fn new(requests: u64, instances: u64, threshold: &'static str, seed: u64) -> Self {
        Shop {
            requests,
            instances,
            threshold,
            logs_per_request: 1,
            drifts: Vec::new(),
            seed,
            flush_per_request: false,
            metric_interval_ms: 500,
            request_pause_ms: 0,
            skip: Vec::new(),
            host_subnet: 1,
        }
    }
}

impl Shop {
    fn args(&self, environment: &str, receiver: &ReceiverProcess) -> Vec<String> {
        let protocol = if environment == "prod" {
            "grpc"
        } else {
            "http"
        };
        let mut args: Vec<String> = [
            "--protocol",
            protocol,
            "--endpoint-grpc",
            &receiver.grpc_endpoint(),
            "--endpoint-http",
            &receiver.http_endpoint(),
            "--environment",
            environment,
        ]
        .iter()
        .map(|arg| (*arg).to_owned())
        .collect();
        for (flag, value) in [
            ("--requests", self.requests.to_string()),
            ("--instances", self.instances.to_string()),
            ("--sampling-threshold", self.threshold.to_owned()),
            ("--logs-per-request", self.logs_per_request.to_string()),
            ("--seed", self.seed.to_string()),
            ("--metric-interval-ms", self.metric_interval_ms.to_string()),
            ("--request-pause-ms", self.request_pause_ms.to_string()),
            ("--host-subnet", self.host_subnet.to_string()),
        ] {
            args.push(flag.to_owned());
            args.push(value);
        }
        for drift in &self.drifts {
            args.push("--drift".to_owned());
            args.push((*drift).to_owned());
        }
        if self.flush_per_request {
            args.push("--flush-per-request".to_owned());
        }
        for service in &self.skip {
            args.push("--skip-service".to_owned());
            args.push((*service).to_owned());
        }
        args
    }
}

/// What parity_shop.py printed at exit.
#[derive(Debug, Clone)]
pub struct ShopSummary(pub Value);

impl ShopSummary {
    /// A counter of service `name`'s summary at `path`, 0 when absent.
    pub fn count(&self, name: &str, path: &[&str]) -> u64 {
        let mut value = &self.0["services"][name];
        for segment in path {
            value = &value[*segment];
        }
        value.as_u64().unwrap_or(0)
    }

    /// Services that failed to export anything, with what failed.
    pub fn export_failures(&self) -> Vec<String> {
        let Some(services) = self.0["services"].as_object() else {
            return vec!["the summary has no services".to_owned()];
        };
        services
            .iter()
            .filter(|(_, s)| s["failed"].as_object().is_some_and(|f| !f.is_empty()))
            .map(|(name, s)| format!("{name}: {}", s["failed"]))
            .collect()
    }
}

/// The analyzer and the receivers of prod and staging.
pub struct Deployment {
    pub analyzer: AnalyzerProcess,
    prod: ReceiverProcess,
    staging: ReceiverProcess,
    /// What each receiver wrote to stderr, kept once they stopped.
    receiver_logs: String,
}

impl Deployment {
    /// Starts the analyzer, then a receiver per environment pushing to it.
    pub fn start() -> Self {
        Self::start_with(ANALYZER_CONFIG, PUSH_INTERVAL)
    }

    /// Starts the analyzer with `config`, then a receiver per environment pushing to it
    /// every `push_interval`.
    pub fn start_with(config: &str, push_interval: &str) -> Self {
        Self::start_with_intervals(config, push_interval, push_interval)
    }

    /// Starts the analyzer with `config`, then prod's receiver pushing every
    /// `prod_interval` and staging's every `staging_interval`.
    pub fn start_with_intervals(config: &str, prod_interval: &str, staging_interval: &str) -> Self {
        // Build (or find) the venv first: on a new machine that takes a while.
        e2e::python_venv();
        let analyzer = AnalyzerProcess::start(config);
        let push_url = analyzer.push_url();
        let receiver = |environment: &str, push_interval: &str| {
            ReceiverProcess::start(&[
                "--environment",
                environment,
                "--analyzer",
                &push_url,
                "--push-interval",
                push_interval,
            ])
        };
        let prod = receiver("prod", prod_interval);
        let staging = receiver("staging", staging_interval);
        Deployment {
            analyzer,
            prod,
            staging,
            receiver_logs: String::new(),
        }
    }

    /// Runs the shop against both receivers at once, then stops the receivers (SIGTERM: each
    /// pushes its last window and exits once the analyzer acknowledged it). Returns the
    /// shop's summaries (prod, staging).
    pub fn run(&mut self, prod: &Shop, staging: &Shop) -> (ShopSummary, ShopSummary) {
        let prod_args = prod.args("prod", &self.prod);
        let staging_args = staging.args("staging", &self.staging);
        let (prod_summary, staging_summary) = thread::scope(|scope| {
            let prod = scope.spawn(|| run_shop(&prod_args));
            let staging = scope.spawn(|| run_shop(&staging_args));
            let join = |handle: thread::ScopedJoinHandle<'_, ShopSummary>| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            };
            (join(prod), join(staging))
        });
        for receiver in [&mut self.prod, &mut self.staging] {
            let status = receiver.stop();
            let stderr = receiver.stderr_tail();
            assert!(
                status.success(),
                "a receiver exited with {status}\n{stderr}"
            );
            // A receiver that could not deliver its windows says so (receiver/src/push.rs).
            assert!(
                !["not delivered", "window dropped", "refused a push"]
                    .iter()
                    .any(|warning| stderr.contains(warning)),
                "a receiver did not deliver every window to the analyzer\n{stderr}"
            );
            self.receiver_logs.push_str(&stderr);
        }
        (prod_summary, staging_summary)
    }

    /// [`run`](Self::run), asserting that the shop exported everything it made.
    pub fn run_exporting_all(&mut self, prod: &Shop, staging: &Shop) -> (ShopSummary, ShopSummary) {
        let (prod_summary, staging_summary) = self.run(prod, staging);
        for summary in [&prod_summary, &staging_summary] {
            let failures = summary.export_failures();
            assert!(
                failures.is_empty(),
                "the shop failed to export: {failures:?}"
            );
        }
        (prod_summary, staging_summary)
    }

    /// The report as `otel-parity report --analyzer URL --format json` prints it.
    pub fn report_via_cli(&self) -> Value {
        let output = run_with_timeout(
            std::process::Command::new(env!("CARGO_BIN_EXE_otel-parity")).args([
                "report",
                "--baseline",
                "prod",
                "--candidate",
                "staging",
                "--analyzer",
                &self.analyzer.http_url(),
                "--format",
                "json",
            ]),
            REPORT_TIMEOUT,
            "otel-parity report",
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "otel-parity report failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            self.diagnostics()
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!("otel-parity report --format json printed no JSON ({e}):\n{stdout}")
        })
    }

    /// The report from `GET /api/v1/report?baseline=prod&candidate=staging&format=json`.
    pub fn report_via_api(&self) -> Value {
        let (status, body) = self
            .analyzer
            .get("/api/v1/report?baseline=prod&candidate=staging&format=json")
            .unwrap_or_else(|e| panic!("{e}\n{}", self.diagnostics()));
        assert_eq!(
            status,
            200,
            "GET /api/v1/report answered {status}: {body}\n{}",
            self.diagnostics()
        );
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("the report API answered no JSON ({e}):\n{body}"))
    }

    /// Service `key`'s fingerprint on `side` ("baseline": prod, "candidate": staging) over
    /// the run (all windows merged), as the analyzer's API answers it (proto3 JSON of
    /// `parity.v1.ServiceFingerprint`: lowerCamelCase, 64-bit counts as strings).
    pub fn service_fingerprint(&self, key: &str, side: &str) -> Value {
        let path = format!("/api/v1/services/{key}?baseline=prod&candidate=staging&since=1h");
        let (status, body) = self
            .analyzer
            .get(&path)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.diagnostics()));
        assert_eq!(status, 200, "GET {path} answered {status}: {body}");
        let value: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {path} answered no JSON ({e}): {body}"));
        value[side]["fingerprint"].clone()
    }

    /// The analyzer's and receivers' stderr, for failure messages.
    pub fn diagnostics(&self) -> String {
        let mut text = self.analyzer.stderr_tail();
        let _ = write!(text, "\n{}", self.receiver_logs);
        text
    }
}

/// Runs parity_shop.py with `args` and parses the summary it prints.
fn run_shop(args: &[String]) -> ShopSummary {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = e2e::run_python(&e2e::app_path("parity_shop.py"), &args, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "parity_shop.py printed no JSON summary ({e})\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    ShopSummary(summary)
}
