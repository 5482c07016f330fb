//! Who sent a resource block (environment, service, instance) and what the
//! service's resources look like.

use otel_parity_proto::v1 as pb;

use super::attributes::{attributes, string_value, value_hash};
use super::children;
use super::table::{CappedTable, CountTable};
use crate::limits::Limits;
use crate::otlp::schema::field;
use crate::wire;
use otel_parity_model::sketch::{DistinctCount, VALUES_LG_K};

/// Resource keys whose *values* may leave the receiver: low-cardinality facts
/// about the runtime, never about users or requests.
pub const ALLOWED_VALUE_KEYS: [&str; 8] = [
    "service.version",
    "telemetry.sdk.name",
    "telemetry.sdk.language",
    "telemetry.sdk.version",
    "process.runtime.name",
    "process.runtime.version",
    "os.type",
    "host.arch",
];

/// The service name the SDKs report when none is configured.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// The identifying attributes of one resource, borrowed from the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResourceView<'a> {
    /// The encoded Resource message.
    pub bytes: &'a [u8],
    /// The block's schema URL (empty when unset).
    pub schema_url: &'a [u8],
    pub service_name: Option<&'a str>,
    pub service_namespace: &'a str,
    /// `deployment.environment.name`, else the deprecated `deployment.environment`.
    pub environment: Option<&'a str>,
    /// Hash of `service.instance.id`, else of `host.name`.
    pub instance_hash: Option<u64>,
}

impl<'a> ResourceView<'a> {
    /// Reads the resource of a ResourceSpans/ResourceMetrics/ResourceLogs block.
    pub fn of_block(block: &'a [u8]) -> Self {
        let [bytes, schema_url] = two_fields(
            block,
            [
                field::resource_block::RESOURCE,
                field::resource_block::SCHEMA_URL,
            ],
        );
        let mut view = ResourceView {
            bytes,
            schema_url,
            ..ResourceView::default()
        };
        let mut deprecated_environment = None;
        let mut host = None;
        for (key, value) in attributes(bytes, field::resource::ATTRIBUTES) {
            match key {
                b"service.name" => view.service_name = string_value(value),
                b"service.namespace" => view.service_namespace = string_value(value).unwrap_or(""),
                b"deployment.environment.name" => view.environment = string_value(value),
                b"deployment.environment" => deprecated_environment = string_value(value),
                b"service.instance.id" => view.instance_hash = Some(value_hash(value)),
                b"host.name" => host = Some(value_hash(value)),
                _ => {}
            }
        }
        view.environment = view
            .environment
            .or(deprecated_environment)
            .filter(|e| !e.is_empty());
        view.instance_hash = view.instance_hash.or(host);
        view
    }

    /// `service.name`, or `unknown_service` when absent or empty.
    pub fn service_name(&self) -> &'a str {
        self.service_name
            .filter(|n| !n.is_empty())
            .unwrap_or(UNKNOWN_SERVICE)
    }
}

/// The last value of each of two length-delimited fields of `message`
/// (empty when absent).
#[inline]
fn two_fields(message: &[u8], numbers: [u32; 2]) -> [&[u8]; 2] {
    let mut found: [&[u8]; 2] = [&[], &[]];
    for (number, value) in wire::fields(message).filter_map(Result::ok) {
        if let Some(i) = numbers.iter().position(|n| *n == number) {
            found[i] = value.as_bytes();
        }
    }
    found
}

/// The key a service is listed under: "namespace/name", or "name".
pub fn service_key(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}/{name}")
    }
}

/// The resources one service reported.
#[derive(Debug)]
pub struct ResourceState {
    resources: u64,
    attribute_keys: CountTable,
    allowed_values: [CountTable; ALLOWED_VALUE_KEYS.len()],
    instances: DistinctCount,
    scopes: CappedTable<ScopeState>,
    schema_urls: CountTable,
}

#[derive(Debug, Default)]
struct ScopeState {
    count: u64,
    versions: CountTable,
    schema_urls: CountTable,
}

impl Default for ResourceState {
    fn default() -> Self {
        ResourceState {
            resources: 0,
            attribute_keys: CountTable::default(),
            allowed_values: Default::default(),
            instances: DistinctCount::new(VALUES_LG_K),
            scopes: CappedTable::default(),
            schema_urls: CountTable::default(),
        }
    }
}

impl ResourceState {
    /// Records one resource block.
    pub fn observe(
        &mut self,
        view: &ResourceView<'_>,
        limits: &Limits,
        overflow: &mut pb::Overflow,
    ) {
        self.resources += 1;
        for (key, value) in attributes(view.bytes, field::resource::ATTRIBUTES) {
            if !self.attribute_keys.count(key, limits.max_attribute_keys) {
                overflow.attribute_keys += 1;
            }
            if let Some(slot) = ALLOWED_VALUE_KEYS.iter().position(|k| k.as_bytes() == key) {
                let value = string_value(value).unwrap_or("");
                if !self.allowed_values[slot].count(value.as_bytes(), limits.max_allowed_values) {
                    overflow.allowed_values += 1;
                }
            }
        }
        if let Some(hash) = view.instance_hash {
            self.instances.insert(hash);
        }
        if !self
            .schema_urls
            .count(view.schema_url, limits.max_allowed_values)
        {
            overflow.allowed_values += 1;
        }
    }

    /// The scopes of one resource block, to be recorded here (over a cap,
    /// into `overflow`) as the signal walking them reaches each.
    pub fn scopes<'a>(
        &'a mut self,
        block: &'a [u8],
        overflow: &'a mut pb::Overflow,
        limits: &'a Limits,
    ) -> Scopes<'a> {
        Scopes {
            block,
            resource: self,
            overflow,
            limits,
        }
    }

    /// Records one scope block (ScopeSpans/ScopeMetrics/ScopeLogs).
    fn observe_scope(&mut self, scope_block: &[u8], limits: &Limits, overflow: &mut pb::Overflow) {
        let [scope, schema_url] = two_fields(
            scope_block,
            [field::scope_block::SCOPE, field::scope_block::SCHEMA_URL],
        );
        let [name, version] = two_fields(scope, [field::scope::NAME, field::scope::VERSION]);
        match self.scopes.get_or_insert(name, limits.max_scopes) {
            Some(state) => {
                state.count += 1;
                if !state.versions.count(version, limits.max_scopes) {
                    overflow.scopes += 1;
                }
                if !state
                    .schema_urls
                    .count(schema_url, limits.max_allowed_values)
                {
                    overflow.allowed_values += 1;
                }
            }
            None => overflow.scopes += 1,
        }
    }

    /// Heap bytes held by the sketch (the part that can grow with traffic).
    pub fn memory_bytes(&self) -> usize {
        self.instances.memory_bytes()
    }

    /// The snapshot form.
    pub fn to_proto(&self) -> pb::ResourceShape {
        pb::ResourceShape {
            resources: self.resources,
            attribute_keys: self.attribute_keys.to_map(),
            allowed_values: ALLOWED_VALUE_KEYS
                .iter()
                .zip(&self.allowed_values)
                .filter(|(_, values)| !values.is_empty())
                .map(|(key, values)| {
                    (
                        (*key).to_owned(),
                        pb::ValueCounts {
                            values: values.to_map(),
                        },
                    )
                })
                .collect(),
            instances: Some(self.instances.to_proto()),
            scopes: self
                .scopes
                .iter_named()
                .map(|(name, scope)| {
                    let shape = pb::ScopeShape {
                        count: scope.count,
                        versions: scope.versions.to_map(),
                        schema_urls: scope.schema_urls.to_map(),
                    };
                    (name, shape)
                })
                .collect(),
            schema_urls: self.schema_urls.to_map(),
        }
    }
}

/// The scope blocks of one resource block, walked once whatever the signal:
/// each scope is recorded into the service's resources before its items
/// (spans, metrics or log records) are handed on.
pub struct Scopes<'a> {
    block: &'a [u8],
    resource: &'a mut ResourceState,
    overflow: &'a mut pb::Overflow,
    limits: &'a Limits,
}

impl Scopes<'_> {
    /// Records each scope, then hands each of its items to `observe` with
    /// the service's overflow counters.
    #[inline]
    pub fn for_each_item(self, mut observe: impl FnMut(&[u8], &mut pb::Overflow)) {
        for scope_block in children(self.block, field::resource_block::SCOPES) {
            self.resource
                .observe_scope(scope_block, self.limits, self.overflow);
            for item in children(scope_block, field::scope_block::ITEMS) {
                observe(item, self.overflow);
            }
        }
    }
}
