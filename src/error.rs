//! The CLI's errors: the library crates' errors kept typed to the end, plus
//! the few the commands make themselves. Like Weaver's `ExitDirectives`,
//! each error knows its exit code; `main` prints it as one line.

use std::process::ExitCode;

use otel_parity_analyzer::evaluate::CompareError;
use otel_parity_compare::AcceptedError;
use otel_parity_model::check::SketchError;
use otel_parity_model::snapshot::SnapshotError;

use crate::lint::LintError;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The receiver could not start, serve or fingerprint.
    #[error(transparent)]
    Receiver(#[from] otel_parity_receiver::Error),
    /// The analyzer could not start or serve.
    #[error(transparent)]
    Analyzer(#[from] otel_parity_analyzer::Error),
    /// A config file, a listener or a server failed.
    #[error(transparent)]
    Runtime(#[from] otel_parity_runtime::Error),
    /// A snapshot file could not be read or written.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// The accepted-differences file could not be used.
    #[error(transparent)]
    Accepted(#[from] AcceptedError),
    /// `lint` could not give a verdict (exit 2, unlike every other failure).
    #[error(transparent)]
    Lint(#[from] LintError),
    /// The async runtime could not start.
    #[error("cannot start the runtime: {0}")]
    AsyncRuntime(std::io::Error),
    /// A server task panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
    /// A listener that was bound has no address to tell.
    #[error("{0} port unknown")]
    PortUnknown(&'static str),
    /// `report --analyzer`: no connection to the analyzer.
    #[error("cannot reach the analyzer at {url}: {source}")]
    AnalyzerUnreachable {
        /// The analyzer's URL as given.
        url: String,
        /// Why it could not be reached.
        source: ureq::Error,
    },
    /// `report --analyzer`: the answer broke off.
    #[error("cannot read the analyzer's answer: {0}")]
    AnalyzerAnswer(ureq::Error),
    /// `report --analyzer`: the analyzer refused the request.
    #[error("the analyzer answered {status}: {reason}")]
    AnalyzerRefused {
        /// The HTTP status.
        status: ureq::http::StatusCode,
        /// The analyzer's `error`, or its whole body.
        reason: String,
    },
    /// `report --analyzer`: the answer is not a report.
    #[error("the analyzer's report is not valid JSON: {0}")]
    AnalyzerReport(serde_json::Error),
    /// `report --snapshot --since`: snapshots have their own windows.
    #[error("--since applies to --analyzer; snapshots cover their own windows")]
    SinceWithSnapshots,
    /// `report --snapshot`: an environment no snapshot holds.
    #[error("no snapshot holds environment {0:?}")]
    MissingEnvironment(String),
    /// `report --snapshot`: snapshots of an environment cannot be merged.
    #[error("cannot merge the snapshots of environment {environment:?}: {source}")]
    SnapshotMerge {
        /// The environment.
        environment: String,
        /// The sketch that does not decode.
        source: SketchError,
    },
    /// `report` produced no report, whatever the reason inside (exit 2, so
    /// that a pipeline tells a failed parity gate, exit 1, from no verdict).
    #[error(transparent)]
    Report(Box<CliError>),
    /// A report that could not be rendered as JSON.
    #[error(transparent)]
    Render(serde_json::Error),
    /// `demo`: the receiver refused the demo's own traffic.
    #[error("demo traffic refused: {}", .0.message())]
    DemoTraffic(tonic::Status),
    /// `demo`: the analyzer had no report in time.
    #[error("no report: {0}")]
    NoReport(CompareError),
}

impl CliError {
    /// The process exit code: 2 when `lint` or `report` cannot give a
    /// verdict (bad usage or unreadable input, as clap's usage errors; 1 is
    /// their failed verdict), 1 for every other failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Lint(_) | CliError::Report(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}
