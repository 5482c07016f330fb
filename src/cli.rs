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
