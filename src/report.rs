//! `otel-parity report`: a candidate environment against a baseline, from a
//! running analyzer or from snapshot files, and the parity gate on it.

use std::io::IsTerminal;
use std::process::ExitCode;

use otel_parity_compare::Date;
use otel_parity_compare::Report;
use otel_parity_compare::accepted::load_accepted;
use otel_parity_compare::{CompareOptions, compare};
use otel_parity_model::merge::merge_environment;
use otel_parity_model::snapshot;
use otel_parity_proto::v1 as pb;

use crate::CliError;
use crate::cli::ReportArgs;
use crate::gate::Gate;

/// Prints the report in the asked format, then judges the parity gate, if
/// any, on stderr: exit 1 when it fails.
pub fn run(args: ReportArgs) -> Result<ExitCode, CliError> {
    let report = match &args.analyzer {
        Some(url) => fetch(url, &args)?,
        None => from_snapshots(&args)?,
    };
    let rendered = match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&report).map_err(CliError::Render)?,
        "markdown" => report.render_markdown(),
        _ => report.render_text(std::io::stdout().is_terminal()),
    };
    println!("{rendered}");
    let gate = Gate {
        min_coverage: args.fail_under_coverage,
        fail_on: args.fail_on,
    };
    if !gate.is_set() {
        return Ok(ExitCode::SUCCESS);
    }
    let verdict = gate.judge(&report);
    let pair = format!("{} against {}", report.candidate, report.baseline);
    for line in &verdict.passed {
        eprintln!("otel-parity: parity gate ({pair}) passed: {line}");
    }
    for line in &verdict.failed {
        eprintln!("otel-parity: parity gate ({pair}) failed: {line}");
    }
    Ok(if verdict.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Asks a running analyzer for the JSON report.
fn fetch(url: &str, args: &ReportArgs) -> Result<Report, CliError> {
    let mut query = vec![
        ("baseline", args.baseline.as_str()),
        ("candidate", args.candidate.as_str()),
        ("format", "json"),
    ];
    if let Some(since) = &args.since {
        query.push(("since", since));
    }
    let endpoint = format!("{}/api/v1/report", url.trim_end_matches('/'));
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(path) = &args.analyzer_ca_file {
        let roots = otel_parity_runtime::tls::read_certificates(path)?
            .into_iter()
            .map(|cert| ureq::tls::Certificate::from_der(cert.as_ref()).to_owned())
            .collect::<Vec<_>>();
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&roots));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls.build())
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.get(&endpoint);
    if let Some(path) = &args.analyzer_token_file {
        let token = otel_parity_runtime::auth::ClientToken::from_file(path.clone())?;
        request = request.header("authorization", token.authorization());
    }
    for (name, value) in query {
        request = request.query(name, value);
    }
    let mut response = request
        .call()
        .map_err(|source| CliError::AnalyzerUnreachable {
            url: url.to_owned(),
            source,
        })?;
    let status = response.status();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(CliError::AnalyzerAnswer)?;
    if !status.is_success() {
        let reason = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or(body);
        return Err(CliError::AnalyzerRefused { status, reason });
    }
    serde_json::from_str(&body).map_err(CliError::AnalyzerReport)
}

/// Merges each environment over all the snapshot files, then compares.
fn from_snapshots(args: &ReportArgs) -> Result<Report, CliError> {
    if args.since.is_some() {
        return Err(CliError::SinceWithSnapshots);
    }
    let mut baseline = None::<pb::EnvironmentFingerprint>;
    let mut candidate = None::<pb::EnvironmentFingerprint>;
    for path in &args.snapshot {
        let snapshot = snapshot::read(path)?;
        for (name, fingerprint) in &snapshot.environments {
            let slot = if *name == args.baseline {
                &mut baseline
            } else if *name == args.candidate {
                &mut candidate
            } else {
                continue;
            };
            match slot {
                Some(merged) => merge_environment(merged, fingerprint).map_err(|source| {
                    CliError::SnapshotMerge {
                        environment: name.clone(),
                        source,
                    }
                })?,
                None => *slot = Some(fingerprint.clone()),
            }
        }
    }
    let missing = |name: &str| CliError::MissingEnvironment(name.to_owned());
    let baseline_fp = baseline.ok_or_else(|| missing(&args.baseline))?;
    let candidate_fp = candidate.ok_or_else(|| missing(&args.candidate))?;
    let mut options = CompareOptions::new(Date::today_utc());
    if let Some(path) = &args.accepted {
        options.accepted = load_accepted(path)?;
    }
    Ok(compare(
        &args.baseline,
        &baseline_fp,
        &args.candidate,
        &candidate_fp,
        &options,
    ))
}
