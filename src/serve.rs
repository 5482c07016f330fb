//! `otel-parity serve` and `analyze`: the analyzer alone, or all-in-one with
//! a receiver that pushes to it over the real push port.

use std::future::IntoFuture;
use std::path::Path;

use otel_parity_analyzer::config::AnalyzerConfig;
use otel_parity_analyzer::server::Analyzer;
use otel_parity_model::limits::FingerprintLimits;
use otel_parity_receiver::EnvironmentSource;
use otel_parity_receiver::config::ReceiverConfig;
use otel_parity_receiver::server::Receiver;
use otel_parity_runtime::env::process_env;
use otel_parity_runtime::shutdown::ShutdownTrigger;
use otel_parity_runtime::{config, yaml};
use serde::Deserialize;

use crate::CliError;

/// The all-in-one config: a receiver section and an analyzer section, each
/// read (and its `${env:…}` references expanded) as its own config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// The receiver's config, as in `receive --config`.
    pub receiver: Option<serde_yaml_ng::Value>,
    /// The analyzer's config, as in `analyze --config`.
    pub analyzer: Option<serde_yaml_ng::Value>,
}

/// Reads `serve`'s config: both sections are optional and validated by their
/// own crates, with the receiver taking environments from the resource.
pub fn load_serve_config(
    path: Option<&Path>,
) -> Result<(ReceiverConfig, AnalyzerConfig), CliError> {
    let Some(path) = path else {
        return Ok((serve_receiver_defaults(), AnalyzerConfig::default()));
    };
    let origin = path.display().to_string();
    let text = config::read(path)?;
    // The sections' references expand when each is read, so the top level is
    // read as data.
    let sections = yaml::from_yaml::<ServeConfig>(&text)
        .map_err(|source| otel_parity_runtime::Error::Config {
            origin: origin.clone(),
            source,
        })?
        .unwrap_or_default();
    let receiver = match sections.receiver {
        Some(section) => {
            config::from_value(section, &format!("{origin} (receiver)"), &process_env)?
        }
        None => serve_receiver_defaults(),
    };
    let analyzer = match sections.analyzer {
        Some(section) => {
            config::from_value(section, &format!("{origin} (analyzer)"), &process_env)?
        }
        None => AnalyzerConfig::default(),
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
    shutdown: impl IntoFuture<Output = (), IntoFuture: Send> + Send + 'static,
) -> Result<(), CliError> {
    let analyzer = Analyzer::bind(config).await?;
    analyzer.serve(shutdown).await?;
    Ok(())
}

/// A bound all-in-one server.
pub struct AllInOne {
    /// The analyzer, listening.
    pub analyzer: Analyzer,
    /// The receiver, listening and set to push to the analyzer.
    pub receiver: Receiver,
}

/// Binds the analyzer, then a receiver pushing to it on loopback.
pub async fn bind_all_in_one(
    mut receiver: ReceiverConfig,
    mut analyzer: AnalyzerConfig,
) -> Result<AllInOne, CliError> {
    // The built-in receiver's pushes must pass the analyzer's checks
    // whatever caps the receiver section raised.
    let caps = &receiver.limits;
    analyzer.limits = analyzer.limits.at_least(&FingerprintLimits {
        max_services: caps.max_services,
        max_metrics: caps.max_metrics,
        max_span_operations: caps.max_span_operations,
        max_attribute_keys: caps.max_attribute_keys,
        max_event_names: caps.max_event_names,
        max_allowed_values: caps.max_allowed_values,
        max_bucket_layouts: caps.max_bucket_layouts,
        max_units: caps.max_units,
        max_scopes: caps.max_scopes,
        max_edges: caps.max_edges,
    });
    let analyzer = Analyzer::bind(analyzer).await?;
    let (_, push) = analyzer.local_addrs();
    let port = push
        .map(|a| a.port())
        .ok_or(CliError::PortUnknown("analyzer push"))?;
    receiver.push.analyzer = Some(format!("http://127.0.0.1:{port}"));
    let receiver = Receiver::bind(receiver).await?;
    Ok(AllInOne { analyzer, receiver })
}

impl AllInOne {
    /// Serves both until `shutdown`; the receiver stops first so that its
    /// last window reaches the analyzer.
    pub async fn serve(
        self,
        shutdown: impl IntoFuture<Output = (), IntoFuture: Send> + Send + 'static,
    ) -> Result<(), CliError> {
        let stop_receiver = ShutdownTrigger::new();
        let stop_analyzer = ShutdownTrigger::new();
        let receiver = tokio::spawn(self.receiver.serve(stop_receiver.token()));
        let analyzer = tokio::spawn(self.analyzer.serve(stop_analyzer.token()));
        shutdown.await;
        stop_receiver.trigger();
        let receiver_result = receiver.await;
        stop_analyzer.trigger();
        let analyzer_result = analyzer.await;
        receiver_result??;
        analyzer_result??;
        Ok(())
    }
}
