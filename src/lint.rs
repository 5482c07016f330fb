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

/// Runs the lint subcommand and returns its exit code.
pub fn run(args: LintArgs) -> ExitCode {
    match lint(&args) {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(1),
        Err(message) => {
            eprintln!("otel-parity: error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Lints the inputs; `Ok(true)` when the run fails at `--fail-on`.
fn lint(args: &LintArgs) -> Result<bool, String> {
    let format: Format = args.format.parse()?;
    let fail_on: Level = args.fail_on.parse()?;
    let config = match &args.rules {
        Some(path) => LintConfig::load(path).map_err(|e| e.to_string())?,
        None => LintConfig::default(),
    };
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let snapshots = read_inputs(&args.inputs)?;
    let telemetry = Telemetry::from_snapshots(&snapshots);
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
        Baseline::from_telemetry(&telemetry)
            .write(path)
            .map_err(|e| e.to_string())?;
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
fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input)
                .map_err(|e| format!("cannot read directory {}: {e}", input.display()))?;
            let mut found: Vec<PathBuf> = Vec::new();
            for entry in entries {
                let path = entry
                    .map_err(|e| format!("cannot read directory {}: {e}", input.display()))?
                    .path();
                let is_json = path
                    .extension()
                    .is_some_and(|ext| ext == "json" || ext == "jsonl");
                if is_json && path.is_file() {
                    found.push(path);
                }
            }
            if found.is_empty() {
                return Err(format!(
                    "{}: no *.json or *.jsonl files in the directory",
                    input.display()
                ));
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
fn is_snapshot(path: &Path, data: &[u8]) -> Result<bool, String> {
    let mut documents = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
    let keys = match documents.next() {
        None => return Err(format!("{}: empty input: no JSON document", path.display())),
        Some(Err(e)) => {
            return Err(format!(
                "{}:{}: invalid JSON (truncated?): {e}",
                path.display(),
                e.line()
            ));
        }
        Some(Ok(Value::Object(keys))) => keys,
        Some(Ok(other)) => {
            return Err(format!(
                "{}: expected a JSON object (a snapshot or an OTLP/JSON export request), found {}",
                path.display(),
                match other {
                    Value::Array(_) => "an array",
                    Value::String(_) => "a string",
                    Value::Number(_) => "a number",
                    Value::Bool(_) => "a boolean",
                    _ => "null",
                }
            ));
        }
    };
    if keys.keys().any(|k| OTLP_KEYS.contains(&k.as_str())) {
        Ok(false)
    } else if keys.keys().any(|k| SNAPSHOT_KEYS.contains(&k.as_str())) {
        Ok(true)
    } else {
        let found: Vec<&str> = keys.keys().map(String::as_str).collect();
        Err(format!(
            "{}: neither a parity.v1 snapshot (environments, receiverInstance, received) nor OTLP/JSON (resourceSpans, resourceMetrics, resourceLogs); top-level keys: {}",
            path.display(),
            if found.is_empty() {
                "none".to_owned()
            } else {
                found.join(", ")
            }
        ))
    }
}

/// Reads every input into snapshots; OTLP/JSON files are fingerprinted together into one.
fn read_inputs(inputs: &[PathBuf]) -> Result<Vec<pb::Snapshot>, String> {
    let engine = Fingerprinter::new(ReceiverConfig::default().engine_config());
    let mut summary = FileSummary::default();
    let mut otlp_files = 0;
    let mut snapshots = Vec::new();
    for path in expand_inputs(inputs)? {
        let data =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if is_snapshot(&path, &data)? {
            snapshots.push(snapshot::read(&path).map_err(|e| e.to_string())?);
        } else {
            fingerprint_file(&engine, &path, &mut summary).map_err(|e| e.to_string())?;
            otlp_files += 1;
        }
    }
    if otlp_files > 0 {
        snapshots.push(engine.snapshot());
    }
    Ok(snapshots)
}
