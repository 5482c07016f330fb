//! `otel-parity`: the command line. It only parses flags and wires the
//! receiver and analyzer crates together.

mod cli;
mod demo;
mod error;
mod gate;
mod lint;
mod report;
mod security;
mod serve;

use std::process::ExitCode;

use clap::Parser;
use otel_parity_analyzer::config::AnalyzerConfig;
use otel_parity_model::snapshot;
use otel_parity_receiver::Fingerprinter;
use otel_parity_receiver::config::{DEFAULT_TELEMETRY_ENDPOINT, ReceiverConfig};
use otel_parity_receiver::offline::{FileSummary, fingerprint_file};
use otel_parity_receiver::server::Receiver;
use otel_parity_runtime::config;
use tracing_subscriber::EnvFilter;

use crate::cli::{AnalyzeArgs, Cli, Command, DemoArgs, FingerprintArgs, ReceiveArgs, ServeArgs};
pub use crate::error::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let finished = |result: Result<(), CliError>| result.map(|()| ExitCode::SUCCESS);
    let result = match cli.command {
        Command::Receive(args) => finished(receive(args)),
        Command::Fingerprint(args) => finished(fingerprint(args)),
        Command::Lint(args) => lint::run(args).map_err(CliError::from),
        Command::Analyze(args) => finished(analyze(args)),
        Command::Serve(args) => finished(serve(args)),
        Command::Report(args) => report::run(args).map_err(|e| CliError::Report(Box::new(e))),
        Command::Demo(args) => finished(demo(args)),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("otel-parity: error: {error}");
            error.exit_code()
        }
    }
}

fn receive(args: ReceiveArgs) -> Result<(), CliError> {
    let mut config = match &args.config {
        Some(path) => config::load::<ReceiverConfig>(path)?,
        None => ReceiverConfig::default(),
    };
    security::apply_receive_flags(&args, &mut config);
    if let Some(environment) = args.environment {
        config.environment = Some(environment);
    }
    if let Some(addr) = args.otlp_grpc {
        config.otlp.protocols.grpc.endpoint = addr;
    }
    if let Some(addr) = args.otlp_http {
        config.otlp.protocols.http.endpoint = addr;
    }
    if let Some(path) = args.snapshot {
        config.snapshot.path = Some(path);
    }
    if let Some(interval) = args.snapshot_interval.filter(|i| !i.is_zero()) {
        config.snapshot.interval = interval;
    }
    if let Some(analyzer) = args.analyzer {
        config.push.analyzer = Some(analyzer);
    }
    if let Some(interval) = args.push_interval.filter(|i| !i.is_zero()) {
        config.push.interval = interval;
    }
    config.telemetry.endpoint = args
        .telemetry
        .or(config.telemetry.endpoint)
        .or_else(|| Some(DEFAULT_TELEMETRY_ENDPOINT.to_owned()));
    if let Some(dir) = args.state_dir {
        config.state_dir = Some(dir);
    }
    if let Some(grace) = args.shutdown_grace_period.filter(|g| !g.is_zero()) {
        config.shutdown.grace_period = grace;
    }
    config::check(&config)?;
    runtime()?.block_on(async {
        let receiver = Receiver::bind(config).await?;
        receiver.serve(shutdown_signal()).await?;
        Ok(())
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Runtime::new().map_err(CliError::AsyncRuntime)
}

fn analyze(args: AnalyzeArgs) -> Result<(), CliError> {
    let mut config = match &args.config {
        Some(path) => config::load::<AnalyzerConfig>(path)?,
        None => AnalyzerConfig::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(push_listen) = args.push_listen {
        config.push_listen = push_listen;
    }
    if let Some(data_dir) = args.data_dir {
        config.data_dir = data_dir;
    }
    if let Some(store) = args.store {
        config.store = Some(store);
    }
    args.tls.apply_to_analyzer(&mut config, true);
    args.tokens.apply(&mut config);
    runtime()?.block_on(serve::analyze(config, shutdown_signal()))
}

fn serve(args: ServeArgs) -> Result<(), CliError> {
    let (mut receiver, mut analyzer) = serve::load_serve_config(args.config.as_deref())?;
    if let Some(data_dir) = args.data_dir {
        analyzer.data_dir = data_dir;
    }
    if let Some(telemetry) = args.telemetry {
        receiver.telemetry.endpoint = Some(telemetry);
    }
    security::apply_all_in_one_flags(&args.tls, &args.tokens, &mut receiver, &mut analyzer, true);
    runtime()?.block_on(async {
        let server = serve::bind_all_in_one(receiver, analyzer).await?;
        server.serve(shutdown_signal()).await
    })
}

fn demo(args: DemoArgs) -> Result<(), CliError> {
    let options = demo::DemoOptions {
        config: args.config,
        otlp_grpc: args.otlp_grpc,
        otlp_http: args.otlp_http,
        listen: args.listen,
        push_listen: args.push_listen,
        data_dir: args.data_dir,
        telemetry: args.telemetry,
        exit: args.exit,
        format: args.format,
        tls: args.tls,
        tokens: args.tokens,
    };
    runtime()?.block_on(demo::run(options, shutdown_signal()))
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut interrupt), Ok(mut terminate)) => {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn fingerprint(args: FingerprintArgs) -> Result<(), CliError> {
    let config = ReceiverConfig {
        environment: args.environment,
        ..ReceiverConfig::default()
    };
    let engine = Fingerprinter::new(config.engine_config());
    let mut summary = FileSummary::default();
    for input in &args.inputs {
        fingerprint_file(&engine, input, &mut summary)?;
    }
    snapshot::write(&args.output, &engine.snapshot())?;
    let [traces, metrics, logs] = summary.requests;
    eprintln!(
        "otel-parity: fingerprinted {traces} trace, {metrics} metric and {logs} log requests into {}{}",
        args.output.display(),
        if summary.rejected_items > 0 {
            format!(" ({} invalid items left out)", summary.rejected_items)
        } else {
            String::new()
        }
    );
    Ok(())
}
