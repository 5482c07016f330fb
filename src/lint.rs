//! `otel-parity lint`: turns each input into a `parity.v1.Snapshot` (snapshot files as they
//! are, OTLP/JSON files through the receiver's fingerprint engine), lints them with the
//! analyzer, prints the report, and maps the verdict to an exit code: 0 clean, 1 findings at
//! or above `--fail-on`, 2 unreadable input, rules file or baseline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use otel_parity_lint::{self as lint, Baseline, Format, Level, LintConfig, Report, Telemetry};
use otel_parity_model::snapshot;
use otel_parity_proto::v1 as pb;
use otel_parity_receiver::Fingerprinter;
use otel_parity_receiver::config::ReceiverConfig;
use otel_parity_receiver::offline::{FileSummary, fingerprint_file};
use serde_json::Value;

use crate::cli::LintArgs;

/// Why `lint` cannot give a verdict: bad usage, or an input, rules file or
/// baseline that cannot be read (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    /// The rules file or baseline is unusable, or the baseline cannot be written.
    #[error(transparent)]
    Lint(#[from] lint::Error),
    /// A snapshot input is not a snapshot.
    #[error(transparent)]
    Snapshot(#[from] snapshot::SnapshotError),
    /// An OTLP/JSON input could not be fingerprinted.
    #[error(transparent)]
    Fingerprint(#[from] otel_parity_receiver::Error),
    /// `--format` or `--fail-on` names no known value.
    #[error("{0}")]
    Usage(String),
    /// A directory given as input could not be listed.
    #[error("cannot read directory {}: {source}", path.display())]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why it could not be listed.
        source: std::io::Error,
    },
    /// A directory given as input holds no input files.
    #[error("{}: no *.json or *.jsonl files in the directory", path.display())]
    EmptyDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// An input file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The input file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// An input file holds no JSON document.
    #[error("{}: empty input: no JSON document", path.display())]
    Empty {
        /// The input file.
        path: PathBuf,
    },
    /// An input file's first document is not JSON.
    #[error("{}:{}: invalid JSON (truncated?): {source}", path.display(), source.line())]
    Json {
        /// The input file.
        path: PathBuf,
        /// Where and why parsing stopped.
        source: serde_json::Error,
    },
    /// An input file's first document is not a JSON object.
    #[error(
        "{}: expected a JSON object (a snapshot or an OTLP/JSON export request), found {found}",
        path.display()
    )]
    NotAnObject {
        /// The input file.
        path: PathBuf,
        /// What it is instead ("an array").
        found: &'static str,
    },
    /// An input file is JSON but neither a snapshot nor OTLP/JSON.
    #[error(
        "{}: neither a parity.v1 snapshot (environments, receiverInstance, received) nor OTLP/JSON (resourceSpans, resourceMetrics, resourceLogs); top-level keys: {keys}",
        path.display()
    )]
    Foreign {
        /// The input file.
        path: PathBuf,
        /// Its top-level keys, comma-separated ("none" when empty).
        keys: String,
    },
}

/// Top-level keys of a snapshot (`parity.v1.Snapshot` in proto3 JSON).
const SNAPSHOT_KEYS: &[&str] = &[
    "environments",
    "receiverInstance",
    "received",
    "windowStartUnixNano",
    "windowEndUnixNano",
    "overflow",
];
/// Top-level keys of an OTLP/JSON export request.
const OTLP_KEYS: &[&str] = &["resourceSpans", "resourceMetrics", "resourceLogs"];

/// Runs the lint subcommand: exit 0 clean, 1 findings at or above
/// `--fail-on`; an error (exit 2) when it cannot give a verdict.
pub fn run(args: LintArgs) -> Result<ExitCode, LintError> {
    let fails = lint(&args)?;
    Ok(if fails {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Lints the inputs; `Ok(true)` when the run fails at `--fail-on`.
fn lint(args: &LintArgs) -> Result<bool, LintError> {
    let format: Format = args.format.parse().map_err(LintError::Usage)?;
    let fail_on: Level = args.fail_on.parse().map_err(LintError::Usage)?;
    let config = match &args.rules {
        Some(path) => LintConfig::load(path)?,
        None => LintConfig::default(),
    };
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };
    let snapshots = read_inputs(&args.inputs)?;
    let telemetry = Telemetry::from_snapshots(&snapshots)?;
    let findings = lint::lint(&telemetry, &config, baseline.as_ref());
    let mut services: Vec<String> = telemetry.services.keys().cloned().collect();
    if let Some(baseline) = &baseline {
        services.extend(baseline.services.keys().cloned());
    }
    services.sort();
    services.dedup();
    let report = Report {
        findings: &findings,
        config: &config,
        fail_on,
        services,
        inputs: args
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        baseline: args.baseline.as_ref().map(|p| p.display().to_string()),
    };
    print!("{}", report.render(format));
    if let Some(path) = &args.write_baseline {
        Baseline::from_telemetry(&telemetry).write(path)?;
        eprintln!(
            "otel-parity: wrote the baseline of {} service(s) to {}",
            telemetry.services.len(),
            path.display()
        );
    }
    Ok(report.fails())
}

/// Every input file: files as given, directories as their `*.json` and `*.jsonl` files,
/// sorted by name.
fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, LintError> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let unlisted = |source| LintError::Directory {
                path: input.clone(),
                source,
            };
            let entries = std::fs::read_dir(input).map_err(unlisted)?;
            let mut found: Vec<PathBuf> = Vec::new();
            for entry in entries {
                let path = entry.map_err(unlisted)?.path();
                let is_json = path
                    .extension()
                    .is_some_and(|ext| ext == "json" || ext == "jsonl");
                if is_json && path.is_file() {
                    found.push(path);
                }
            }
            if found.is_empty() {
                return Err(LintError::EmptyDirectory {
                    path: input.clone(),
                });
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// Whether a file is a snapshot or OTLP/JSON, judged by the first document's top-level keys.
fn is_snapshot(path: &Path, data: &[u8]) -> Result<bool, LintError> {
    let mut documents = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
    let keys = match documents.next() {
        None => return Err(LintError::Empty { path: path.into() }),
        Some(Err(source)) => {
            return Err(LintError::Json {
                path: path.into(),
                source,
            });
        }
        Some(Ok(Value::Object(keys))) => keys,
        Some(Ok(other)) => {
            return Err(LintError::NotAnObject {
                path: path.into(),
                found: match other {
                    Value::Array(_) => "an array",
                    Value::String(_) => "a string",
                    Value::Number(_) => "a number",
                    Value::Bool(_) => "a boolean",
                    _ => "null",
                },
            });
        }
    };
    if keys.keys().any(|k| OTLP_KEYS.contains(&k.as_str())) {
        Ok(false)
    } else if keys.keys().any(|k| SNAPSHOT_KEYS.contains(&k.as_str())) {
        Ok(true)
    } else {
        let found: Vec<&str> = keys.keys().map(String::as_str).collect();
        Err(LintError::Foreign {
            path: path.into(),
            keys: if found.is_empty() {
                "none".to_owned()
            } else {
                found.join(", ")
            },
        })
    }
}

/// Reads every input into snapshots; OTLP/JSON files are fingerprinted together into one.
fn read_inputs(inputs: &[PathBuf]) -> Result<Vec<pb::Snapshot>, LintError> {
    let engine = Fingerprinter::new(ReceiverConfig::default().engine_config());
    let mut summary = FileSummary::default();
    let mut otlp_files = 0;
    let mut snapshots = Vec::new();
    for path in expand_inputs(inputs)? {
        let data = std::fs::read(&path).map_err(|source| LintError::Read {
            path: path.clone(),
            source,
        })?;
        if is_snapshot(&path, &data)? {
            snapshots.push(snapshot::read(&path)?);
        } else {
            fingerprint_file(&engine, &path, &mut summary)?;
            otlp_files += 1;
        }
    }
    if otlp_files > 0 {
        snapshots.push(engine.snapshot());
    }
    Ok(snapshots)
}
