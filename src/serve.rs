//! `otel-parity serve` and `analyze`: the analyzer alone, or all-in-one with
//! a receiver that pushes to it over the real push port.

use std::path::Path;

use otel_parity_analyzer::config::AnalyzerConfig;
use otel_parity_analyzer::server::Analyzer;
use otel_parity_receiver::EnvironmentSource;
use otel_parity_receiver::config::ReceiverConfig;
use otel_parity_receiver::server::Receiver;
use serde::Deserialize;
use tokio::sync::watch;

use crate::CliError;

/// The all-in-one config: a receiver section and an analyzer section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    pub receiver: Option<serde_yaml_ng::Value>,
    pub analyzer: Option<serde_yaml_ng::Value>,
}

/// Reads `serve`'s config: both sections are optional and validated by their
/// own crates, with the receiver taking environments from the resource.
pub fn load_serve_config(
    path: Option<&Path>,
) -> Result<(ReceiverConfig, AnalyzerConfig), CliError> {
    let (receiver, analyzer) = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError(format!("cannot read config file {}: {e}", path.display()))
            })?;
            let origin = path.display().to_string();
            let config: ServeConfig = serde_yaml_ng::from_str(&text)
                .map_err(|e| CliError(format!("invalid config {origin}: {e}")))?;
            let section = |value: Option<serde_yaml_ng::Value>| {
                value.map(|v| serde_yaml_ng::to_string(&v)).transpose()
            };
            let receiver = section(config.receiver).map_err(|e| CliError(e.to_string()))?;
            let analyzer = section(config.analyzer).map_err(|e| CliError(e.to_string()))?;
            let receiver = match receiver {
                Some(text) => {
                    ReceiverConfig::parse(&text, &format!("{origin} (receiver)"), |name| {
                        std::env::var(name).ok()
                    })?
                }
                None => serve_receiver_defaults(),
            };
            let analyzer = match analyzer {
                Some(text) => AnalyzerConfig::parse(&text, &format!("{origin} (analyzer)"))
                    .map_err(CliError)?,
                None => AnalyzerConfig::default(),
            };
            (receiver, analyzer)
        }
        None => (serve_receiver_defaults(), AnalyzerConfig::default()),
    };
    Ok((receiver, analyzer))
}

fn serve_receiver_defaults() -> ReceiverConfig {
    ReceiverConfig {
        environment_from: EnvironmentSource::Resource,
        ..ReceiverConfig::default()
    }
}

/// Runs the analyzer until `shutdown`.
pub async fn analyze(
    config: AnalyzerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CliError> {
    let analyzer = Analyzer::bind(config)
        .await
        .map_err(CliError::from_display)?;
    analyzer
        .serve(shutdown)
        .await
        .map_err(CliError::from_display)
}

/// A bound all-in-one server.
pub struct AllInOne {
    pub analyzer: Analyzer,
    pub receiver: Receiver,
}

/// Binds the analyzer, then a receiver pushing to it on loopback.
pub async fn bind_all_in_one(
    mut receiver: ReceiverConfig,
    analyzer: AnalyzerConfig,
) -> Result<AllInOne, CliError> {
    let analyzer = Analyzer::bind(analyzer)
        .await
        .map_err(CliError::from_display)?;
    let (_, push) = analyzer.local_addrs();
    let port = push
        .map(|a| a.port())
        .ok_or_else(|| CliError("analyzer push port unknown".into()))?;
    receiver.push.analyzer = Some(format!("http://127.0.0.1:{port}"));
    let receiver = Receiver::bind(receiver).await?;
    Ok(AllInOne { analyzer, receiver })
}

impl AllInOne {
    /// Serves both until `shutdown`; the receiver stops first so that its
    /// last window reaches the analyzer.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), CliError> {
        let (stop_receiver, receiver_stopped) = watch::channel(false);
        let (stop_analyzer, analyzer_stopped) = watch::channel(false);
        let wait = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let receiver = tokio::spawn(self.receiver.serve(wait(receiver_stopped)));
        let analyzer = tokio::spawn(self.analyzer.serve(wait(analyzer_stopped)));
        shutdown.await;
        let _ = stop_receiver.send(true);
        let receiver_result = receiver.await;
        let _ = stop_analyzer.send(true);
        let analyzer_result = analyzer.await;
        receiver_result.map_err(CliError::from_display)??;
        analyzer_result
            .map_err(CliError::from_display)?
            .map_err(CliError::from_display)
    }
}
