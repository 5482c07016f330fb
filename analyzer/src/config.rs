//! The analyzer's YAML config, read with the runtime's config loader
//! (`otel_parity_runtime::config`): `${env:VAR}` references expand, unknown
//! keys are errors that name the key.

use std::path::PathBuf;
use std::time::Duration;

use otel_parity_model::limits::FingerprintLimits;
use otel_parity_runtime::config::ConfigFile;
use otel_parity_runtime::serve::ConnectionLimits;
use otel_parity_runtime::tls::TlsServerSettings;
use serde::Deserialize;

use crate::store::{Retention, StoreError, StoreLocation};

/// Everything `otel-parity analyze` can be told.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyzerConfig {
    /// HTTP API, UI and `/metrics`.
    pub listen: String,
    /// `parity.v1.ParityService` for receivers' pushes.
    pub push_listen: String,
    /// Where the SQLite store lives (`otel-parity.db`) unless `store` says
    /// otherwise.
    pub data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://USER:PASS@HOST:PORT/DB`; unset: SQLite
    /// under `data_dir`.
    pub store: Option<String>,
    /// Hour rollups older than this are deleted (the longest range a report
    /// can cover).
    #[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]
    pub retention: Duration,
    /// How the store keeps rollups and push keys.
    pub rollups: RollupConfig,
    /// Largest push accepted, in MiB.
    pub max_push_size_mib: usize,
    /// Caps every push's fingerprint is checked against (the receiver's
    /// `limits` keys and defaults that a fingerprint shows).
    pub limits: FingerprintLimits,
    /// What is compared, how often.
    pub evaluation: EvaluationConfig,
    /// Accepted differences (YAML); unset: none.
    pub accepted_differences: Option<PathBuf>,
    /// Ingestion ratios outside [low, high] are findings.
    pub ingestion_band: (f64, f64),
    /// The push listener's TLS and limits.
    pub push: ListenerConfig,
    /// The HTTP listener's TLS and limits.
    pub http: ListenerConfig,
    /// Bearer tokens for pushing, reading the API and UI, and scraping.
    pub auth: AuthConfig,
}

/// One listener's TLS and connection limits.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenerConfig {
    /// TLS (as the Collector's `configtls`); unset: plaintext.
    pub tls: Option<TlsServerSettings>,
    /// Connection limits and timeouts.
    pub connections: ConnectionLimits,
}

/// The token sets (files, one token per line); an unset set lets everyone
/// in. `/healthz` and `/readyz` never ask for a token.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Tokens receivers push with.
    pub push_token_file: Option<PathBuf>,
    /// Tokens that read the API and UI (and `/metrics`).
    pub api_token_file: Option<PathBuf>,
    /// Tokens that may scrape `/metrics` only.
    pub metrics_token_file: Option<PathBuf>,
}

/// How long the finer parts of the store are kept.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollupConfig {
    /// Minute rollups: reports over ranges within this read their edges to
    /// the minute; older edges round to the hour.
    #[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]
    pub minute_retention: Duration,
    /// Push keys: a retried push is recognised (and stored once) for this
    /// long. Keep it above the receivers' retry horizon
    /// (`push.max_pending_windows` × `push.interval`, 1h by default).
    #[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]
    pub idempotency_window: Duration,
}

impl Default for RollupConfig {
    fn default() -> Self {
        let defaults = Retention::default();
        RollupConfig {
            minute_retention: defaults.minute_rollups,
            idempotency_window: defaults.idempotency_window,
        }
    }
}

/// Which environments are compared, how often and over what range.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluationConfig {
    /// The environment others are compared against.
    pub baseline: String,
    /// Environments compared against the baseline; empty: every other one
    /// (except `unknown`).
    pub candidates: Vec<String>,
    /// How often every candidate is compared.
    #[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]
    pub interval: Duration,
    /// The time range each comparison covers, ending now.
    #[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]
    pub since: Duration,
    /// The telemetry parity coverage objective (the SLO's target ratio),
    /// exported for the recording rules and shown by the UI.
    pub coverage_objective: f64,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            listen: "0.0.0.0:8080".into(),
            push_listen: "0.0.0.0:4319".into(),
            data_dir: PathBuf::from("otel-parity-data"),
            store: None,
            retention: Retention::default().rollups,
            rollups: RollupConfig::default(),
            max_push_size_mib: 64,
            limits: FingerprintLimits::default(),
            evaluation: EvaluationConfig::default(),
            accepted_differences: None,
            ingestion_band: (0.5, 2.0),
            push: ListenerConfig::default(),
            http: ListenerConfig::default(),
            auth: AuthConfig::default(),
        }
    }
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        EvaluationConfig {
            baseline: "prod".into(),
            candidates: Vec::new(),
            interval: Duration::from_secs(15),
            since: Duration::from_secs(3600),
            coverage_objective: 0.9,
        }
    }
}

impl AnalyzerConfig {
    /// Where the store is: `store`, else `otel-parity.db` under `data_dir`.
    pub fn store_location(&self) -> Result<StoreLocation, StoreError> {
        match &self.store {
            Some(spec) => StoreLocation::parse(spec),
            None => Ok(StoreLocation::Sqlite(self.data_dir.join("otel-parity.db"))),
        }
    }

    /// How long each part of the store is kept.
    pub fn store_retention(&self) -> Retention {
        Retention {
            rollups: self.retention,
            minute_rollups: self.rollups.minute_retention,
            idempotency_window: self.rollups.idempotency_window,
        }
    }
}

impl ConfigFile for AnalyzerConfig {
    fn validate(&self) -> Result<(), String> {
        if let Some(spec) = &self.store {
            StoreLocation::parse(spec).map_err(|e| format!("store: {e}"))?;
        }
        if self.retention < self.rollups.minute_retention {
            return Err(format!(
                "retention ({}) must be at least rollups.minute_retention ({})",
                humantime::format_duration(self.retention),
                humantime::format_duration(self.rollups.minute_retention)
            ));
        }
        let (low, high) = self.ingestion_band;
        if !(low > 0.0 && low < high) {
            return Err(format!(
                "ingestion_band must be [low, high] with 0 < low < high, got [{low}, {high}]"
            ));
        }
        if self.evaluation.interval.is_zero() || self.evaluation.since.is_zero() {
            return Err("evaluation.interval and evaluation.since must be longer than 0s".into());
        }
        let objective = self.evaluation.coverage_objective;
        if !(objective > 0.0 && objective < 1.0) {
            return Err(format!(
                "evaluation.coverage_objective must be a ratio above 0 and below 1 (e.g. 0.9; \
                 1 would leave no error budget), got {objective}"
            ));
        }
        if self.max_push_size_mib == 0 {
            return Err("max_push_size_mib must be at least 1".into());
        }
        self.push.connections.validate("push.connections")?;
        self.http.connections.validate("http.connections")?;
        if self.auth.metrics_token_file.is_some() && self.auth.api_token_file.is_none() {
            return Err(
                "auth.metrics_token_file needs auth.api_token_file: without api tokens the API is open"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AnalyzerConfig, String> {
        otel_parity_runtime::config::parse(text, "a.yaml", &|name| {
            (name == "DATA").then(|| "/var/lib/parity".to_owned())
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_overrides() {
        let config =
            parse("listen: 127.0.0.1:9090\nevaluation:\n  baseline: production\n  since: 30m\n")
                .unwrap();
        assert_eq!(config.listen, "127.0.0.1:9090");
        assert_eq!(config.push_listen, "0.0.0.0:4319");
        assert_eq!(config.evaluation.baseline, "production");
        assert_eq!(config.evaluation.since, Duration::from_secs(1800));
        assert_eq!(config.evaluation.interval, Duration::from_secs(15));
    }

    #[test]
    fn unknown_keys_bad_types_and_bad_bands_are_named() {
        let error = parse("evaluation:\n  basline: prod\n").unwrap_err();
        assert!(error.contains("basline"), "{error}");
        let error = parse("max_push_size_mib: lots\n").unwrap_err();
        assert!(error.contains("max_push_size_mib"), "{error}");
        let error = parse("ingestion_band: [2.0, 0.5]\n").unwrap_err();
        assert!(error.contains("ingestion_band"), "{error}");
    }

    #[test]
    fn store_defaults_to_sqlite_under_the_data_dir_and_takes_postgres_urls() {
        let config = parse("data_dir: /var/lib/parity\n").unwrap();
        assert_eq!(
            config.store_location().unwrap(),
            StoreLocation::Sqlite("/var/lib/parity/otel-parity.db".into())
        );
        let config = parse(
            "store: postgres://parity:pw@db:5432/parity\nretention: 2d\nrollups:\n  minute_retention: 6h\n  idempotency_window: 2h\n",
        )
        .unwrap();
        assert_eq!(
            config.store_location().unwrap(),
            StoreLocation::Postgres("postgres://parity:pw@db:5432/parity".into())
        );
        let retention = config.store_retention();
        assert_eq!(retention.rollups, Duration::from_secs(2 * 86_400));
        assert_eq!(retention.minute_rollups, Duration::from_secs(6 * 3600));
        assert_eq!(retention.idempotency_window, Duration::from_secs(2 * 3600));
        let error = parse("store: mysql://db/parity\n").unwrap_err();
        assert!(error.contains("store: invalid store"), "{error}");
        let error = parse("retention: 1h\n").unwrap_err();
        assert!(error.contains("rollups.minute_retention"), "{error}");
    }

    #[test]
    fn listeners_take_tls_limits_and_token_files() {
        let config = parse(
            "push:\n  tls:\n    cert_file: /tls/tls.crt\n    key_file: /tls/tls.key\n    client_ca_file: /tls/ca.crt\n\
             http:\n  connections:\n    max: 64\n    read_header_timeout: 5s\n\
             auth:\n  push_token_file: /tokens/push\n  api_token_file: /tokens/api\n",
        )
        .unwrap();
        let push_tls = config.push.tls.as_ref().unwrap();
        assert_eq!(push_tls.client_ca_file, Some(PathBuf::from("/tls/ca.crt")));
        assert_eq!(config.http.tls, None);
        assert_eq!(config.http.connections.max, 64);
        assert_eq!(
            config.http.connections.read_header_timeout,
            Duration::from_secs(5)
        );
        assert_eq!(config.push.connections, ConnectionLimits::default());
        assert_eq!(
            config.auth.push_token_file,
            Some(PathBuf::from("/tokens/push"))
        );
        assert_eq!(config.auth.metrics_token_file, None);
        let error = parse("auth:\n  metrics_token_file: /tokens/metrics\n").unwrap_err();
        assert!(
            error.contains("auth.metrics_token_file needs auth.api_token_file"),
            "{error}"
        );
        let error = parse("auth:\n  push_tokens: /tokens/push\n").unwrap_err();
        assert!(error.contains("push_tokens"), "{error}");
    }

    #[test]
    fn limits_default_to_the_receivers_and_take_its_keys() {
        let config = parse("limits:\n  max_services: 50\n  max_units: 2\n").unwrap();
        assert_eq!(config.limits.max_services, 50);
        assert_eq!(config.limits.max_units, 2);
        assert_eq!(config.limits.max_metrics, 2_000);
        assert_eq!(
            AnalyzerConfig::default().limits,
            FingerprintLimits::default()
        );
        let error = parse("limits:\n  max_servics: 3\n").unwrap_err();
        assert!(error.contains("max_servics"), "{error}");
        // Receiver-only caps bound its memory, not what a push holds.
        let error = parse("limits:\n  span_cache_size: 3\n").unwrap_err();
        assert!(error.contains("span_cache_size"), "{error}");
        // Wrong types: a word for a count, a negative count, a list for the section.
        for (bad, names) in [
            ("limits:\n  max_services: many\n", "limits.max_services"),
            ("limits:\n  max_edges: -1\n", "limits.max_edges"),
            ("limits: [1, 2]\n", "limits"),
        ] {
            let error = parse(bad).unwrap_err();
            assert!(error.contains(names), "{bad}: {error}");
        }
    }

    #[test]
    fn the_coverage_objective_defaults_to_ninety_percent_and_must_leave_a_budget() {
        assert_eq!(AnalyzerConfig::default().evaluation.coverage_objective, 0.9);
        let config = parse("evaluation:\n  coverage_objective: 0.95\n").unwrap();
        assert_eq!(config.evaluation.coverage_objective, 0.95);
        for bad in ["1", "1.5", "0", "-0.2", ".nan", "ninety", "[0.9]"] {
            let error = parse(&format!("evaluation:\n  coverage_objective: {bad}\n")).unwrap_err();
            assert!(
                error.contains("evaluation.coverage_objective"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn env_references_expand() {
        let config = parse("data_dir: ${env:DATA}\nmax_push_size_mib: ${env:MIB:-8}\n").unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/parity"));
        assert_eq!(config.max_push_size_mib, 8);
    }
}
