//! `otel-parity demo`: the all-in-one server on its usual ports, fed with
//! built-in prod and staging traffic through the real OTLP port; prints the
//! parity report, then keeps serving until Ctrl-C (or stops with `--exit`). The traffic is
//! the test kit's shop: prod as designed, staging with one planted drift per dimension.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use otel_parity_receiver::EnvironmentSource;
use otel_parity_runtime::shutdown::ShutdownTrigger;
use otel_parity_testkit::shop::{self, Shop};

use crate::CliError;
use crate::cli::{AnalyzerTokenArgs, TlsArgs};
use crate::security::apply_all_in_one_flags;
use crate::serve::{bind_all_in_one, load_serve_config};

/// How the demo runs.
pub struct DemoOptions {
    /// `serve`'s config file, which the options below override.
    pub config: Option<PathBuf>,
    pub otlp_grpc: String,
    pub otlp_http: String,
    pub listen: String,
    pub push_listen: String,
    pub data_dir: Option<PathBuf>,
    /// The built-in receiver's telemetry listener, if any.
    pub telemetry: Option<String>,
    /// Stop after printing the report.
    pub exit: bool,
    /// Report format: text, json or markdown.
    pub format: String,
    /// TLS for the analyzer's HTTP listener (the UI and API).
    pub tls: TlsArgs,
    /// The analyzer's token files.
    pub tokens: AnalyzerTokenArgs,
}

/// Batches of traffic per environment, and requests per instance per batch.
const ROUNDS: u64 = 6;
const PROD_REQUESTS: u64 = 40;
const STAGING_REQUESTS: u64 = 12;
/// The receiver's push interval in the demo: short, so the report is quick.
const PUSH_INTERVAL: Duration = Duration::from_millis(500);

/// Runs the demo until Ctrl-C (or after the report with `exit`).
pub async fn run(
    options: DemoOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CliError> {
    let data_dir = options.data_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("otel-parity-demo-{}", std::process::id()))
    });
    let (mut receiver, mut analyzer) = load_serve_config(options.config.as_deref())?;
    // The built-in traffic says which environment each resource is in.
    receiver.environment_from = EnvironmentSource::Resource;
    receiver.otlp.protocols.grpc.endpoint = options.otlp_grpc.clone();
    receiver.otlp.protocols.http.endpoint = options.otlp_http.clone();
    receiver.push.interval = PUSH_INTERVAL;
    receiver.telemetry.endpoint = options.telemetry.clone();
    analyzer.listen = options.listen.clone();
    analyzer.push_listen = options.push_listen.clone();
    analyzer.data_dir = data_dir.clone();
    analyzer.store = None;
    analyzer.evaluation.interval = Duration::from_secs(2);
    apply_all_in_one_flags(
        &options.tls,
        &options.tokens,
        &mut receiver,
        &mut analyzer,
        false,
    );
    let server = bind_all_in_one(receiver, analyzer).await?;
    let (grpc, _) = server.receiver.local_addrs();
    let (http, _) = server.analyzer.local_addrs();
    let evaluator = server.analyzer.evaluator();
    let store_probe = evaluator.clone();
    let stop = ShutdownTrigger::new();
    let serving = tokio::spawn(server.serve(stop.token()));

    let grpc = grpc.ok_or(CliError::PortUnknown("OTLP/gRPC"))?;
    let endpoint = format!("http://127.0.0.1:{}", grpc.port());
    eprintln!("otel-parity demo: sending prod and staging traffic to {endpoint}");
    let (prod, staging) = (Shop::prod(), Shop::staging());
    for round in 1..=ROUNDS {
        for (env, requests) in [(&prod, PROD_REQUESTS), (&staging, STAGING_REQUESTS)] {
            let batch = env.batch(requests, requests * round, round);
            shop::send(&endpoint, batch)
                .await
                .map_err(CliError::DemoTraffic)?;
        }
    }
    // Wait until the last windows are pushed and stored.
    let sent_at = Instant::now();
    tokio::time::sleep(PUSH_INTERVAL * 3).await;
    let report = loop {
        let result = store_probe
            .report("prod", "staging", Duration::from_secs(3600))
            .await;
        match result {
            Ok(report) => break report,
            Err(_) if sent_at.elapsed() < Duration::from_secs(20) => {
                tokio::time::sleep(PUSH_INTERVAL).await
            }
            Err(error) => return Err(CliError::NoReport(error)),
        }
    };
    let rendered = match options.format.as_str() {
        "json" => serde_json::to_string_pretty(&report).map_err(CliError::Render)?,
        "markdown" => report.render_markdown(),
        _ => report.render_text(std::io::stdout().is_terminal()),
    };
    println!("{rendered}");
    if options.format == "text" {
        println!("Planted in staging:");
        for drift in &staging.drifts {
            println!("  - {drift}");
        }
    }
    if !options.exit {
        if let Some(http) = http {
            let scheme = if options.tls.tls_cert_file.is_some() {
                "https"
            } else {
                "http"
            };
            eprintln!(
                "otel-parity demo: serving; report at {scheme}://{http}/api/v1/report?baseline=prod&candidate=staging&format=text, metrics at {scheme}://{http}/metrics; Ctrl-C to stop"
            );
        }
        shutdown.await;
    }
    stop.trigger();
    serving.await??;
    if options.data_dir.is_none() {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    Ok(())
}
