//! The receiver's YAML config: everything the `receive` flags set, plus the
//! limits. `${env:VAR}` (and `${env:VAR:-default}`) expand as in the
//! OpenTelemetry Collector; unknown keys are errors that name the key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use serde_yaml_ng::Value;

use crate::error::Error;
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
    pub otlp: OtlpConfig,
    pub snapshot: SnapshotConfig,
    pub push: PushConfig,
    pub limits: Limits,
}

/// The OTLP listeners, named as in the Collector's `otlp` receiver.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpConfig {
    pub protocols: Protocols,
}

/// gRPC and HTTP settings.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Protocols {
    pub grpc: GrpcConfig,
    pub http: HttpConfig,
}

/// OTLP/gRPC listener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcConfig {
    pub endpoint: String,
    /// Largest message accepted, after decompression, in MiB.
    pub max_recv_msg_size_mib: usize,
}

/// OTLP/HTTP listener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub endpoint: String,
    /// Largest body accepted, before and after decompression, in bytes.
    pub max_request_body_size: usize,
}

/// Where and how often the fingerprint is written as JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnapshotConfig {
    pub path: Option<PathBuf>,
    #[serde(deserialize_with = "duration")]
    pub interval: Duration,
}

/// Pushing fingerprints to the analyzer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushConfig {
    /// The analyzer's push endpoint, e.g. `http://analyzer:4319`; unset: no pushes.
    pub analyzer: Option<String>,
    /// How long a window lasts before it is pushed.
    #[serde(deserialize_with = "duration")]
    pub interval: Duration,
    /// Pushes kept while the analyzer is away; the oldest go first past it.
    pub max_pending_windows: usize,
    /// Connect and request timeout of one push.
    #[serde(deserialize_with = "duration")]
    pub timeout: Duration,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            analyzer: None,
            interval: Duration::from_secs(10),
            max_pending_windows: 360,
            timeout: Duration::from_secs(10),
        }
    }
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            endpoint: "0.0.0.0:4317".into(),
            max_recv_msg_size_mib: 4,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: "0.0.0.0:4318".into(),
            max_request_body_size: 20 * 1024 * 1024,
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

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text)
        .map_err(|e| serde::de::Error::custom(format!("invalid duration {text:?}: {e}")))
}

impl ReceiverConfig {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string(), |name| {
            std::env::var(name).ok()
        })
    }

    /// Parses config text, expanding `${env:VAR}` with `env`; `origin` names
    /// the source in errors.
    pub fn parse(
        text: &str,
        origin: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let error = |message: String| Error::Config {
            path: origin.to_owned(),
            message,
        };
        let mut value: Value = serde_yaml_ng::from_str(text).map_err(|e| error(e.to_string()))?;
        if value.is_null() {
            return Ok(ReceiverConfig::default());
        }
        let mut whole = Vec::new();
        expand_env(&mut value, "", &env, &mut whole).map_err(error)?;
        let config = deserialize_expanded(value, &whole).map_err(error)?;
        config.validate().map_err(error)?;
        Ok(config)
    }

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
        Ok(())
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

/// Expands `${env:VAR}` in every string of the document, recording where a
/// string was exactly one reference (its path, as serde_path_to_error writes
/// paths) so that a field that needs a number can take the value as YAML.
fn expand_env(
    value: &mut Value,
    path: &str,
    env: &impl Fn(&str) -> Option<String>,
    whole: &mut Vec<String>,
) -> Result<(), String> {
    match value {
        Value::String(text) => {
            if let Some(name) = whole_reference(text) {
                let (name, default) = split_default(name);
                *text = env(name).or(default.map(str::to_owned)).unwrap_or_default();
                whole.push(path.to_owned());
            } else {
                *text = expand_text(text, env)?;
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_env(item, &format!("{path}[{i}]"), env, whole)?;
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                let key = key.as_str().unwrap_or("?");
                let child = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                };
                expand_env(item, &child, env, whole)?;
            }
        }
        Value::Tagged(tagged) => expand_env(&mut tagged.value, path, env, whole)?,
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// The value at a serde_path_to_error path (`a.b[2].c`), if any.
fn value_at<'v>(value: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut current = value;
    for segment in path.split('.') {
        let (key, indexes) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !key.is_empty() {
            current = current.as_mapping_mut()?.get_mut(key)?;
        }
        for index in indexes.split(['[', ']']).filter(|i| !i.is_empty()) {
            current = current
                .as_sequence_mut()?
                .get_mut(index.parse::<usize>().ok()?)?;
        }
    }
    Some(current)
}

/// Deserializes the expanded document. An env reference is a string first,
/// as in the Collector (so `environment: ${env:ENV}` with ENV=2024 is the
/// string "2024"); where a field refuses the string, the value is read as
/// YAML instead (so `max_recv_msg_size_mib: ${env:SIZE}` is a number).
fn deserialize_expanded(mut value: Value, whole: &[String]) -> Result<ReceiverConfig, String> {
    let mut retyped = Vec::new();
    loop {
        match serde_path_to_error::deserialize::<_, ReceiverConfig>(value.clone()) {
            Ok(config) => return Ok(config),
            Err(error) => {
                let path = error.path().to_string();
                let message = format!("{path}: {}", error.inner());
                if !whole.contains(&path) || retyped.contains(&path) {
                    return Err(message);
                }
                let Some(field) = value_at(&mut value, &path) else {
                    return Err(message);
                };
                if let Value::String(raw) = field {
                    *field = serde_yaml_ng::from_str(raw).map_err(|_| message.clone())?;
                }
                retyped.push(path);
            }
        }
    }
}

fn whole_reference(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("${env:")?.strip_suffix('}')?;
    (!inner.contains('}') && !inner.contains('$')).then_some(inner)
}

fn split_default(reference: &str) -> (&str, Option<&str>) {
    match reference.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (reference, None),
    }
}

fn expand_text(text: &str, env: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${env:") {
            let end = after
                .find('}')
                .ok_or_else(|| format!("unterminated ${{env:…}} in {text:?}"))?;
            let (name, default) = split_default(&after[..end]);
            out.push_str(&env(name).or(default.map(str::to_owned)).unwrap_or_default());
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ReceiverConfig, Error> {
        ReceiverConfig::parse(text, "test.yaml", |name| match name {
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
        assert!(parse("environment: [unclosed\n").is_err());
    }
}
