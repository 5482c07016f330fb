//! The receiver's YAML config: everything the `receive` flags set, plus the
//! limits. Read with the runtime's config loader (`otel_parity_runtime::config`):
//! `${env:VAR}` (and `${env:VAR:-default}`) expand as in the OpenTelemetry
//! Collector; unknown keys are errors that name the key.

use std::path::PathBuf;
use std::time::Duration;

use otel_parity_runtime::auth::TokenAuthSettings;
use otel_parity_runtime::config::ConfigFile;
use otel_parity_runtime::serve::ConnectionLimits;
use otel_parity_runtime::tls::TlsServerSettings;
use serde::Deserialize;

use crate::fingerprint::{EngineConfig, EnvironmentSource};
use crate::limits::Limits;

/// The whole receiver config.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiverConfig {
    /// The environment this receiver's telemetry belongs to.
    pub environment: Option<String>,
    /// Whether `environment` or the resource's `deployment.environment.name` wins.
    pub environment_from: EnvironmentSource,
    /// Names this receiver in snapshots and pushes (default: host name and pid).
    pub instance_id: Option<String>,
    /// The OTLP listeners.
    pub otlp: OtlpConfig,
    /// Periodic snapshot files.
    pub snapshot: SnapshotConfig,
    /// Pushes to the analyzer.
    pub push: PushConfig,
    /// Caps per environment and service.
    pub limits: Limits,
    /// The budget of request bytes in flight, and how refusals ask to retry.
    pub admission: AdmissionConfig,
    /// The receiver's own `/metrics`, `/healthz` and `/readyz`.
    pub telemetry: TelemetryConfig,
    /// How long a stop may take.
    pub shutdown: ShutdownConfig,
    /// Where pushes not yet acknowledged and the current window's progress
    /// are kept across restarts; unset: in memory only.
    pub state_dir: Option<PathBuf>,
}

/// Admission control: requests are refused with OTLP's retryable answers,
/// before their bodies are read where their size is declared, while the
/// request bytes in flight (decompressed) would exceed the budget.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdmissionConfig {
    /// Request bytes in flight across both listeners, in MiB; unset: 64, or
    /// twice the largest request allowed if that is more.
    pub max_inflight_mib: Option<usize>,
    /// The delay a refusal asks clients to wait (gRPC `RetryInfo`, HTTP
    /// `Retry-After`, whole seconds there).
    #[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]
    pub retry_after: Duration,
    /// gRPC calls in flight across every connection; past it a call is
    /// refused with UNAVAILABLE and `RetryInfo` before its message is read.
    pub max_grpc_streams: usize,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        AdmissionConfig {
            max_inflight_mib: None,
            retry_after: Duration::from_secs(1),
            max_grpc_streams: 1024,
        }
    }
}

/// The default budget of request bytes in flight, in MiB.
pub const DEFAULT_MAX_INFLIGHT_MIB: usize = 64;

/// The telemetry listener's address when `receive` is given none: clear of
/// the Collector's own ports in the same pod (8888 metrics, 13133 health).
pub const DEFAULT_TELEMETRY_ENDPOINT: &str = "0.0.0.0:8890";

/// The receiver's self-telemetry listener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Listen address of `/metrics`, `/healthz`, `/readyz`; unset: `receive`
    /// uses [`DEFAULT_TELEMETRY_ENDPOINT`], `serve` and `demo` none; an empty
    /// string turns it off.
    pub endpoint: Option<String>,
    /// `/readyz` answers 503 once pushes have failed for longer than this;
    /// `0s`: pushes never make the receiver unready.
    #[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]
    pub not_ready_after: Duration,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            endpoint: None,
            not_ready_after: Duration::from_secs(300),
        }
    }
}

/// The stop on SIGTERM.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownConfig {
    /// From the signal to the exit: the first half for requests in flight,
    /// the rest for pushing the last window and what is queued. Keep it under
    /// the pod's `terminationGracePeriodSeconds` (30 s by default).
    #[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]
    pub grace_period: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            grace_period: Duration::from_secs(20),
        }
    }
}

/// The OTLP listeners, named as in the Collector's `otlp` receiver.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpConfig {
    /// The gRPC and HTTP listeners.
    pub protocols: Protocols,
}

/// gRPC and HTTP settings.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Protocols {
    /// OTLP/gRPC (4317).
    pub grpc: GrpcConfig,
    /// OTLP/HTTP (4318).
    pub http: HttpConfig,
}

/// OTLP/gRPC listener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcConfig {
    /// Listen address, `host:port`.
    pub endpoint: String,
    /// Largest message accepted, after decompression, in MiB.
    pub max_recv_msg_size_mib: usize,
    /// TLS (as the Collector's `configtls`); unset: plaintext.
    pub tls: Option<TlsServerSettings>,
    /// Bearer tokens required of exporters; unset: none.
    pub auth: Option<TokenAuthSettings>,
    /// Connection limits and timeouts.
    pub connections: ConnectionLimits,
}

/// OTLP/HTTP listener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Listen address, `host:port`.
    pub endpoint: String,
    /// Largest body accepted, before and after decompression, in bytes.
    pub max_request_body_size: usize,
    /// TLS (as the Collector's `configtls`); unset: plaintext.
    pub tls: Option<TlsServerSettings>,
    /// Bearer tokens required of exporters; unset: none.
    pub auth: Option<TokenAuthSettings>,
    /// Connection limits and timeouts.
    pub connections: ConnectionLimits,
}

/// Where and how often the fingerprint is written as JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnapshotConfig {
    /// The snapshot file; unset: no snapshots.
    pub path: Option<PathBuf>,
    /// How often the file is rewritten.
    #[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]
    pub interval: Duration,
}

/// Pushing fingerprints to the analyzer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushConfig {
    /// The analyzer's push endpoint, e.g. `http://analyzer:4319`; unset: no pushes.
    pub analyzer: Option<String>,
    /// How long a window lasts before it is pushed.
    #[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]
    pub interval: Duration,
    /// Pushes kept while the analyzer is away; the oldest go first past it.
    pub max_pending_windows: usize,
    /// Connect and request timeout of one push.
    #[serde(deserialize_with = "otel_parity_runtime::serde_duration::deserialize")]
    pub timeout: Duration,
    /// TLS towards an `https://` analyzer.
    pub tls: PushTlsConfig,
    /// The bearer token sent with every push (the file's first token).
    pub bearer_token_file: Option<PathBuf>,
}

/// How the pusher checks the analyzer and shows itself (`https://` URLs).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushTlsConfig {
    /// CA certificates (PEM) the analyzer's certificate must come from;
    /// unset: the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for an analyzer that asks for one (mTLS).
    pub cert_file: Option<PathBuf>,
    /// The client certificate's key (PEM).
    pub key_file: Option<PathBuf>,
    /// The name the analyzer's certificate must hold; unset: the URL's host.
    pub server_name: Option<String>,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            analyzer: None,
            interval: Duration::from_secs(10),
            max_pending_windows: 360,
            timeout: Duration::from_secs(10),
            tls: PushTlsConfig::default(),
            bearer_token_file: None,
        }
    }
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            endpoint: "0.0.0.0:4317".into(),
            max_recv_msg_size_mib: 4,
            tls: None,
            auth: None,
            connections: ConnectionLimits::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: "0.0.0.0:4318".into(),
            max_request_body_size: 20 * 1024 * 1024,
            tls: None,
            auth: None,
            connections: ConnectionLimits::default(),
        }
    }
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        SnapshotConfig {
            path: None,
            interval: Duration::from_secs(30),
        }
    }
}

impl ConfigFile for ReceiverConfig {
    fn validate(&self) -> Result<(), String> {
        if self.otlp.protocols.grpc.max_recv_msg_size_mib == 0 {
            return Err("otlp.protocols.grpc.max_recv_msg_size_mib must be at least 1".into());
        }
        if self.otlp.protocols.http.max_request_body_size == 0 {
            return Err("otlp.protocols.http.max_request_body_size must be at least 1".into());
        }
        if self.snapshot.interval.is_zero() {
            return Err("snapshot.interval must be longer than 0s".into());
        }
        if self.push.interval.is_zero() || self.push.timeout.is_zero() {
            return Err("push.interval and push.timeout must be longer than 0s".into());
        }
        if self.push.max_pending_windows == 0 {
            return Err("push.max_pending_windows must be at least 1".into());
        }
        if self.push.tls.cert_file.is_some() != self.push.tls.key_file.is_some() {
            return Err("push.tls.cert_file and push.tls.key_file go together".into());
        }
        let protocols = &self.otlp.protocols;
        protocols
            .grpc
            .connections
            .validate("otlp.protocols.grpc.connections")?;
        protocols
            .http
            .connections
            .validate("otlp.protocols.http.connections")?;
        if let Some(mib) = self.admission.max_inflight_mib {
            let needed = self.largest_request_bytes().saturating_mul(2);
            if mib.saturating_mul(1 << 20) < needed {
                return Err(format!(
                    "admission.max_inflight_mib ({mib}) must hold the largest request twice \
                     (compressed and decompressed): at least {} MiB",
                    needed.div_ceil(1 << 20)
                ));
            }
        }
        if self.admission.max_grpc_streams == 0 {
            return Err("admission.max_grpc_streams must be at least 1".into());
        }
        if self.admission.retry_after.is_zero() {
            return Err("admission.retry_after must be longer than 0s".into());
        }
        if self.shutdown.grace_period.is_zero() {
            return Err("shutdown.grace_period must be longer than 0s".into());
        }
        if self.state_dir.is_some() && self.push.analyzer.is_none() {
            return Err("state_dir keeps pushes across restarts: it needs push.analyzer".into());
        }
        Ok(())
    }
}

impl ReceiverConfig {
    /// The largest request either listener takes, decompressed, in bytes.
    pub fn largest_request_bytes(&self) -> usize {
        let protocols = &self.otlp.protocols;
        protocols
            .grpc
            .max_recv_msg_size_mib
            .saturating_mul(1 << 20)
            .max(protocols.http.max_request_body_size)
    }

    /// The budget of request bytes in flight: as configured, else 64 MiB or
    /// twice the largest request, whichever is more.
    pub fn max_inflight_bytes(&self) -> usize {
        match self.admission.max_inflight_mib {
            Some(mib) => mib.saturating_mul(1 << 20),
            None => (DEFAULT_MAX_INFLIGHT_MIB << 20).max(self.largest_request_bytes() * 2),
        }
    }

    /// The engine's part of the config.
    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            environment: self.environment.clone(),
            environment_from: self.environment_from,
            limits: self.limits.clone(),
            instance: self.instance_id.clone().unwrap_or_else(default_instance_id),
        }
    }
}

/// `<host name>-<pid>`: unique per receiver process on a fleet.
pub fn default_instance_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "receiver".into());
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ReceiverConfig, otel_parity_runtime::Error> {
        otel_parity_runtime::config::parse(text, "test.yaml", &|name| match name {
            "ENVIRONMENT" => Some("staging".into()),
            "YEAR" => Some("2024".into()),
            "SIZE" => Some("16".into()),
            _ => None,
        })
    }

    #[test]
    fn empty_file_gives_collector_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config.otlp.protocols.grpc.endpoint, "0.0.0.0:4317");
        assert_eq!(config.otlp.protocols.grpc.max_recv_msg_size_mib, 4);
        assert_eq!(
            config.otlp.protocols.http.max_request_body_size,
            20 * 1024 * 1024
        );
        assert_eq!(config.snapshot.interval, Duration::from_secs(30));
    }

    #[test]
    fn env_references_expand_and_whole_references_keep_their_type() {
        let config = parse(
            "environment: ${env:ENVIRONMENT}\ninstance_id: rx-${env:MISSING:-a}-$$1\n\
             otlp:\n  protocols:\n    grpc:\n      max_recv_msg_size_mib: ${env:SIZE}\n\
             snapshot:\n  interval: 5s\nlimits:\n  max_services: 10\n",
        )
        .unwrap();
        assert_eq!(config.environment.as_deref(), Some("staging"));
        assert_eq!(config.instance_id.as_deref(), Some("rx-a-$1"));
        assert_eq!(config.otlp.protocols.grpc.max_recv_msg_size_mib, 16);
        assert_eq!(config.snapshot.interval, Duration::from_secs(5));
        assert_eq!(config.limits.max_services, 10);
        assert_eq!(config.limits.max_metrics, Limits::default().max_metrics);
    }

    #[test]
    fn env_reference_stays_a_string_where_the_field_is_a_string() {
        let config = parse("environment: ${env:YEAR}\ninstance_id: ${env:YEAR}\nlimits:\n  max_services: ${env:YEAR}\n").unwrap();
        assert_eq!(config.environment.as_deref(), Some("2024"));
        assert_eq!(config.instance_id.as_deref(), Some("2024"));
        assert_eq!(config.limits.max_services, 2024);
        let message = parse("limits:\n  max_services: ${env:ENVIRONMENT}\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("limits.max_services"), "{message}");
    }

    #[test]
    fn tls_tokens_and_limits_read_as_in_the_collector() {
        let config = parse(
            "otlp:\n  protocols:\n    grpc:\n      tls:\n        cert_file: /tls/tls.crt\n        key_file: /tls/tls.key\n\
             \x20       client_ca_file: /tls/ca.crt\n        min_version: \"1.3\"\n        reload_interval: 1m\n\
             \x20     auth:\n        token_file: /tokens/otlp\n      connections:\n        max: 16\n        idle_timeout: 30s\n\
             push:\n  analyzer: https://analyzer:4319\n  bearer_token_file: /tokens/push\n  tls:\n    ca_file: /tls/ca.crt\n    server_name: analyzer.example\n",
        )
        .unwrap();
        let grpc = &config.otlp.protocols.grpc;
        let tls = grpc.tls.as_ref().unwrap();
        assert_eq!(tls.cert_file, PathBuf::from("/tls/tls.crt"));
        assert_eq!(tls.client_ca_file, Some(PathBuf::from("/tls/ca.crt")));
        assert_eq!(tls.min_version, otel_parity_runtime::tls::TlsVersion::Tls13);
        assert_eq!(tls.reload_interval, Duration::from_secs(60));
        assert_eq!(
            grpc.auth.as_ref().unwrap().token_file,
            PathBuf::from("/tokens/otlp")
        );
        assert_eq!(grpc.connections.max, 16);
        assert_eq!(grpc.connections.idle_timeout, Duration::from_secs(30));
        assert_eq!(grpc.connections.max_concurrent_streams, 100);
        assert_eq!(config.otlp.protocols.http.tls, None);
        assert_eq!(
            config.push.bearer_token_file,
            Some(PathBuf::from("/tokens/push"))
        );
        assert_eq!(
            config.push.tls.server_name.as_deref(),
            Some("analyzer.example")
        );
    }

    #[test]
    fn unknown_key_is_an_error_that_names_it() {
        let message = parse("limits:\n  max_servics: 3\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("test.yaml"), "{message}");
        assert!(message.contains("max_servics"), "{message}");
    }

    #[test]
    fn wrong_types_and_bad_durations_are_errors() {
        let message = parse("limits:\n  max_services: many\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("limits.max_services"), "{message}");
        let message = parse("snapshot:\n  interval: soon\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("invalid duration"), "{message}");
        let message = parse("environment_from: collector\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("environment_from"), "{message}");
        assert!(parse("otlp: [1, 2]\n").is_err());
        let message = parse("push:\n  tls:\n    cert_file: c.pem\n")
            .unwrap_err()
            .to_string();
        assert!(
            message.ends_with("push.tls.cert_file and push.tls.key_file go together"),
            "{message}"
        );
        let message = parse("otlp:\n  protocols:\n    http:\n      connections:\n        max: 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("otlp.protocols.http.connections.max must be"),
            "{message}"
        );
        assert!(parse("environment: [unclosed\n").is_err());
    }

    #[test]
    fn the_shipped_config_parses_to_the_defaults_it_documents() {
        let shipped = parse(include_str!("../../config/receiver.yaml")).unwrap();
        let defaults = parse("").unwrap();
        assert_eq!(shipped.admission, defaults.admission);
        assert_eq!(shipped.telemetry, defaults.telemetry);
        assert_eq!(shipped.shutdown, defaults.shutdown);
        assert_eq!(shipped.state_dir, None);
        assert_eq!(shipped.max_inflight_bytes(), 64 << 20);
        assert_eq!(shipped.telemetry.not_ready_after, Duration::from_secs(300));
        assert_eq!(shipped.admission.retry_after, Duration::from_secs(1));
    }

    #[test]
    fn the_inflight_budget_holds_the_largest_request_twice() {
        let config = parse("").unwrap();
        assert_eq!(config.max_inflight_bytes(), 64 << 20);
        assert_eq!(config.telemetry.endpoint, None);
        assert_eq!(config.shutdown.grace_period, Duration::from_secs(20));
        let big =
            parse("otlp:\n  protocols:\n    grpc:\n      max_recv_msg_size_mib: 48\n").unwrap();
        assert_eq!(big.max_inflight_bytes(), 96 << 20);
        let set = parse("admission:\n  max_inflight_mib: 40\n  retry_after: 2s\n").unwrap();
        assert_eq!(set.max_inflight_bytes(), 40 << 20);
        assert_eq!(set.admission.retry_after, Duration::from_secs(2));
        let message = parse("admission:\n  max_inflight_mib: 39\n")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("admission.max_inflight_mib (39) must hold the largest request twice")
                && message.contains("at least 40 MiB"),
            "{message}"
        );
        let message = parse("state_dir: /var/lib/otel-parity\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("state_dir"), "{message}");
    }
}
