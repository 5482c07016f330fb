//! `otel-parity`: the command line. It only parses flags and wires the
//! receiver (and later the analyzer) crates together.

mod cli;
mod lint;

use std::process::ExitCode;

use clap::Parser;
use otel_parity_receiver::config::ReceiverConfig;
use otel_parity_receiver::offline::{FileSummary, fingerprint_file};
use otel_parity_receiver::server::Receiver;
use otel_parity_receiver::{Error, Fingerprinter, snapshot};
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, FingerprintArgs, ReceiveArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Receive(args) => receive(args),
        Command::Fingerprint(args) => fingerprint(args),
        Command::Lint(args) => return lint::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("otel-parity: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn receive(args: ReceiveArgs) -> Result<(), Error> {
    let mut config = match &args.config {
        Some(path) => ReceiverConfig::load(path)?,
        None => ReceiverConfig::default(),
    };
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
    let runtime = tokio::runtime::Runtime::new().map_err(|e| Error::Serve {
        what: "runtime",
        reason: e.to_string(),
    })?;
    runtime.block_on(async {
        let receiver = Receiver::bind(config).await?;
        receiver.serve(shutdown_signal()).await
    })
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

fn fingerprint(args: FingerprintArgs) -> Result<(), Error> {
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
