//! Command-line interface definitions.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Tells observability teams where their environments' telemetry differs.
#[derive(Debug, Parser)]
#[command(name = "otel-parity", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve OTLP (gRPC and HTTP) and fingerprint what arrives, until SIGINT/SIGTERM.
    Receive(ReceiveArgs),
    /// Fingerprint OTLP/JSON files offline (Collector file exporter format).
    Fingerprint(FingerprintArgs),
    /// Lint captured telemetry against naming rules and a baseline (exit 0 clean, 1 findings, 2 bad input).
    Lint(LintArgs),
    /// Run the central analyzer: push service, store, comparisons, HTTP API and /metrics.
    Analyze(AnalyzeArgs),
    /// All-in-one for one machine: OTLP receiver (environment from the resource) and analyzer.
    Serve(ServeArgs),
    /// Compare a candidate environment against a baseline and print the report; with a parity
    /// gate, exit 1 when it fails (0 passes, 2 no report).
    Report(ReportArgs),
    /// Start `serve`, drive built-in prod and staging traffic, print the parity report, keep serving.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Analyzer config file (YAML); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// HTTP API, UI and /metrics listen address [default: 0.0.0.0:8080].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Push service listen address [default: 0.0.0.0:4319].
    #[arg(long, value_name = "ADDR")]
    pub push_listen: Option<String>,
    /// Where the store lives [default: ./otel-parity-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The store: `sqlite:PATH` or `postgres://USER:PASS@HOST:PORT/DB`
    /// [default: SQLite under --data-dir].
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub tokens: AnalyzerTokenArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// All-in-one config (YAML with `receiver:` and `analyzer:` sections).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the store lives [default: ./otel-parity-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Serve the built-in receiver's /metrics, /healthz and /readyz here [default: none].
    #[arg(long, value_name = "ADDR")]
    pub telemetry: Option<String>,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub tokens: AnalyzerTokenArgs,
}

/// TLS on the command's listeners (config: each listener's `tls:`).
#[derive(Debug, Args, Default)]
pub struct TlsArgs {
    /// Serve TLS with this certificate chain (PEM); needs --tls-key-file.
    #[arg(long, value_name = "FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,
    /// Refuse clients without a certificate from these CAs (mTLS).
    #[arg(long, value_name = "FILE", requires = "tls_cert_file")]
    pub tls_client_ca_file: Option<PathBuf>,
}

/// The analyzer's token files (config: `auth:`), one token per line.
#[derive(Debug, Args, Default)]
pub struct AnalyzerTokenArgs {
    /// Tokens receivers must push with.
    #[arg(long, value_name = "FILE")]
    pub push_token_file: Option<PathBuf>,
    /// Tokens that read the API and UI (and /metrics).
    #[arg(long, value_name = "FILE")]
    pub api_token_file: Option<PathBuf>,
    /// Tokens that may scrape /metrics only; needs --api-token-file.
    #[arg(long, value_name = "FILE", requires = "api_token_file")]
    pub metrics_token_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The reference environment, e.g. prod.
    #[arg(long, value_name = "ENV")]
    pub baseline: String,
    /// The environment compared against it, e.g. staging.
    #[arg(long, value_name = "ENV")]
    pub candidate: String,
    /// Ask a running analyzer, e.g. http://localhost:8080.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "snapshot",
        required_unless_present = "snapshot"
    )]
    pub analyzer: Option<String>,
    /// Check an https:// analyzer against these CAs (PEM) [default: the system's roots].
    #[arg(long, value_name = "FILE", requires = "analyzer")]
    pub analyzer_ca_file: Option<PathBuf>,
    /// Read the API with the first token of this file (the analyzer's api tokens).
    #[arg(long, value_name = "FILE", requires = "analyzer")]
    pub analyzer_token_file: Option<PathBuf>,
    /// Compare snapshot files (from `receive --snapshot` or `fingerprint`) instead.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub snapshot: Vec<PathBuf>,
    /// The time range, ending now [default: the analyzer's, 1h].
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Accepted differences (YAML), for --snapshot.
    #[arg(long, value_name = "FILE")]
    pub accepted: Option<PathBuf>,
    /// text (for people), json (the full report) or markdown.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "markdown"])]
    pub format: String,
    /// Parity gate: exit 1 when telemetry parity coverage is below this ratio (e.g. 0.9).
    #[arg(long, value_name = "RATIO", value_parser = crate::gate::parse_ratio)]
    pub fail_under_coverage: Option<f64>,
    /// Parity gate: exit 1 when an open finding is at or above this severity
    /// (critical, high, medium, low, info); accepted findings do not count.
    #[arg(long, value_name = "SEVERITY", value_parser = crate::gate::parse_severity)]
    pub fail_on: Option<otel_parity_compare::report::Severity>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// All-in-one config as for `serve` (e.g. `analyzer: {evaluation: {coverage_objective: 0.95}}`);
    /// the demo's flags and ports override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Stop after printing the report.
    #[arg(long)]
    pub exit: bool,
    /// text, json or markdown.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "markdown"])]
    pub format: String,
    /// OTLP/gRPC listen address.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:4317")]
    pub otlp_grpc: String,
    /// OTLP/HTTP listen address.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:4318")]
    pub otlp_http: String,
    /// Analyzer HTTP listen address.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080")]
    pub listen: String,
    /// Analyzer push listen address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4319")]
    pub push_listen: String,
    /// Keep the demo's store here [default: a temporary directory, removed at exit].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Serve the built-in receiver's /metrics, /healthz and /readyz here [default: none].
    #[arg(long, value_name = "ADDR")]
    pub telemetry: Option<String>,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub tokens: AnalyzerTokenArgs,
}

#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Receiver config file (YAML); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Environment of the telemetry (wins over deployment.environment.name
    /// unless the config says `environment_from: resource`).
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
    /// OTLP/gRPC listen address [default: 0.0.0.0:4317].
    #[arg(long, value_name = "ADDR")]
    pub otlp_grpc: Option<String>,
    /// OTLP/HTTP listen address [default: 0.0.0.0:4318].
    #[arg(long, value_name = "ADDR")]
    pub otlp_http: Option<String>,
    /// Write the fingerprint as JSON to FILE every interval and at shutdown.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// How often to write the snapshot, e.g. 10s or 1m [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub snapshot_interval: Option<Duration>,
    /// Push fingerprints to this analyzer, e.g. http://analyzer:4319.
    #[arg(long, value_name = "URL")]
    pub analyzer: Option<String>,
    /// How long a window lasts before it is pushed [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub push_interval: Option<Duration>,
    /// Serve the receiver's /metrics, /healthz and /readyz here; "" turns it off
    /// [default: 0.0.0.0:8890].
    #[arg(long, value_name = "ADDR")]
    pub telemetry: Option<String>,
    /// Keep unacknowledged pushes and the current window's progress here, so a
    /// restart loses only the window it had not ended (needs --analyzer).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// From SIGTERM to exit: half for requests in flight, the rest for the last
    /// push [default: 20s].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub shutdown_grace_period: Option<Duration>,
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Require a bearer token from this file (one per line) on both OTLP listeners.
    #[arg(long, value_name = "FILE")]
    pub otlp_token_file: Option<PathBuf>,
    /// Check an https:// analyzer against these CAs (PEM) [default: the system's roots].
    #[arg(long, value_name = "FILE")]
    pub analyzer_ca_file: Option<PathBuf>,
    /// Present this client certificate (PEM) to the analyzer (mTLS); needs --analyzer-key-file.
    #[arg(long, value_name = "FILE", requires = "analyzer_key_file")]
    pub analyzer_cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "analyzer_cert_file")]
    pub analyzer_key_file: Option<PathBuf>,
    /// Push with the first token of this file (read again when it changes).
    #[arg(long, value_name = "FILE")]
    pub analyzer_token_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FingerprintArgs {
    /// Environment of the telemetry (wins over deployment.environment.name).
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
    /// Where to write the snapshot JSON.
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// OTLP/JSON files: one export request per line, or one JSON document.
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Compare against this baseline (YAML written by --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the baseline of the inputs (what each service promises) to FILE.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Rules file (YAML): rule levels, disabled rules, thresholds.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = ["text", "json", "sarif", "junit", "github"])]
    pub format: String,
    /// Fail (exit 1) on findings at or above this level.
    #[arg(long, default_value = "error", value_parser = ["error", "warning", "info"])]
    pub fail_on: String,
    /// Snapshot files, OTLP/JSON files (Collector file exporter), or directories of them.
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<PathBuf>,
}
