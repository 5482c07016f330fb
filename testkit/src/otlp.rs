//! OTLP builders with opentelemetry-proto's own types: attributes, the resource an SDK
//! describes its service with, instrumentation scopes, and trace and span ids.

use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;

/// An `AnyValue` holding `value`: an attribute's value, an array element, a log body.
pub fn any(value: any_value::Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

/// A string `AnyValue`, as most log bodies are.
pub fn string_value(value: impl Into<String>) -> AnyValue {
    any(any_value::Value::StringValue(value.into()))
}

/// An attribute `key` = `value`.
pub fn attribute(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(any(value)),
        ..Default::default()
    }
}

/// A string attribute.
pub fn string(key: &str, value: impl Into<String>) -> KeyValue {
    attribute(key, any_value::Value::StringValue(value.into()))
}

/// An int attribute.
pub fn int(key: &str, value: i64) -> KeyValue {
    attribute(key, any_value::Value::IntValue(value))
}

/// A double attribute.
pub fn double(key: &str, value: f64) -> KeyValue {
    attribute(key, any_value::Value::DoubleValue(value))
}

/// An instrumentation scope `name` at `version`.
pub fn scope(name: &str, version: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: name.into(),
        version: version.into(),
        ..Default::default()
    })
}

/// The resource an OpenTelemetry SDK describes its service with. [`ServiceResource::build`]
/// writes the attributes in the order SDKs do: service, environment, SDK, runtime, host, then
/// any others.
#[derive(Debug, Clone, Default)]
pub struct ServiceResource {
    name: String,
    namespace: Option<String>,
    version: Option<String>,
    instance: Option<String>,
    environment: Option<String>,
    sdk_name: Option<String>,
    sdk_language: Option<String>,
    sdk_version: Option<String>,
    runtime: Option<(String, String)>,
    host: Option<String>,
    others: Vec<KeyValue>,
}

impl ServiceResource {
    /// The resource of service `name` (`service.name`).
    pub fn new(name: &str) -> Self {
        ServiceResource {
            name: name.into(),
            ..Default::default()
        }
    }

    /// `service.namespace`.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// `service.version`.
    pub fn version(mut self, version: &str) -> Self {
        self.version = Some(version.into());
        self
    }

    /// `service.instance.id`.
    pub fn instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// `deployment.environment.name`.
    pub fn environment(mut self, environment: &str) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// The OpenTelemetry SDK for `language` at `version` (`telemetry.sdk.*`).
    pub fn sdk(mut self, language: &str, version: &str) -> Self {
        self.sdk_name = Some("opentelemetry".into());
        self.sdk_version = Some(version.into());
        self.sdk_language(language)
    }

    /// Only `telemetry.sdk.language`, as a hand-rolled exporter may say.
    pub fn sdk_language(mut self, language: &str) -> Self {
        self.sdk_language = Some(language.into());
        self
    }

    /// `process.runtime.name` and `process.runtime.version`.
    pub fn runtime(mut self, name: &str, version: &str) -> Self {
        self.runtime = Some((name.into(), version.into()));
        self
    }

    /// `host.name`.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Any other attribute, written after the ones above.
    pub fn attribute(mut self, attribute: KeyValue) -> Self {
        self.others.push(attribute);
        self
    }

    /// The resource.
    pub fn build(self) -> Resource {
        let (runtime_name, runtime_version) = self.runtime.unzip();
        let attributes = [
            ("service.name", Some(self.name)),
            ("service.namespace", self.namespace),
            ("service.version", self.version),
            ("service.instance.id", self.instance),
            ("deployment.environment.name", self.environment),
            ("telemetry.sdk.name", self.sdk_name),
            ("telemetry.sdk.language", self.sdk_language),
            ("telemetry.sdk.version", self.sdk_version),
            ("process.runtime.name", runtime_name),
            ("process.runtime.version", runtime_version),
            ("host.name", self.host),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some(string(key, value?)))
        .chain(self.others)
        .collect();
        Resource {
            attributes,
            ..Default::default()
        }
    }
}

/// A deterministic source of ids and other pseudo-random numbers (a linear congruential
/// generator), so that generated traffic is the same on every run.
#[derive(Debug, Clone)]
pub struct Ids(u64);

impl Ids {
    /// A sequence starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Ids(seed)
    }

    /// The next number, never 0.
    pub fn draw(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 | 1
    }

    /// A fresh 16-byte trace id.
    pub fn trace_id(&mut self) -> Vec<u8> {
        [self.draw().to_le_bytes(), self.draw().to_le_bytes()].concat()
    }

    /// A fresh 8-byte span id.
    pub fn span_id(&mut self) -> Vec<u8> {
        self.draw().to_le_bytes().to_vec()
    }
}

/// The 16-byte trace id `high` ‖ `low` (big-endian), for ids that tests compute.
pub fn trace_id(high: u64, low: u64) -> Vec<u8> {
    [high.to_be_bytes(), low.to_be_bytes()].concat()
}

/// The 8-byte span id `id` (big-endian), for ids that tests compute.
pub fn span_id(id: u64) -> Vec<u8> {
    id.to_be_bytes().to_vec()
}

/// Lower-case hex, as OTLP/JSON writes trace and span ids.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes that `digits` (hex, either case) spell; panics on anything else.
pub fn from_hex(digits: &str) -> Vec<u8> {
    let pair = |i: usize| {
        digits
            .get(i..i + 2)
            .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            .unwrap_or_else(|| panic!("{digits:?} is not hex"))
    };
    (0..digits.len()).step_by(2).map(pair).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_attributes_come_in_sdk_order_whatever_the_call_order() {
        let resource = ServiceResource::new("checkout")
            .host("ip-10-1-0-0.internal")
            .sdk("python", "1.45.2")
            .environment("prod")
            .namespace("shop")
            .build();
        let keys: Vec<&str> = resource.attributes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "service.name",
                "service.namespace",
                "deployment.environment.name",
                "telemetry.sdk.name",
                "telemetry.sdk.language",
                "telemetry.sdk.version",
                "host.name",
            ]
        );
    }

    #[test]
    fn hex_round_trips_ids() {
        let id = trace_id(0x5b8e_fff7_9803_8103, 0xd269_b633_813f_c60c);
        assert_eq!(hex(&id), "5b8efff798038103d269b633813fc60c");
        assert_eq!(from_hex("5B8EFFF798038103D269B633813FC60C"), id);
    }
}
