//! Caps that bound a fingerprint's memory whatever the traffic.
//!
//! What goes over a cap is counted in the fingerprint's `Overflow`, never
//! dropped silently and never allowed to grow memory. The caps a fingerprint
//! shows take their defaults from `otel_parity_model::limits`, which the
//! analyzer checks pushes against.

use otel_parity_model::limits as shared;
use serde::Deserialize;

/// Per-environment and per-service caps (config section `limits`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Environments one receiver fingerprints.
    pub max_environments: usize,
    /// Services per environment.
    pub max_services: usize,
    /// Metric names per service.
    pub max_metrics: usize,
    /// Span operations (name, kind) per service.
    pub max_span_operations: usize,
    /// Attribute keys per metric, span operation, resource or log shape.
    pub max_attribute_keys: usize,
    /// Event names per span operation or log shape.
    pub max_event_names: usize,
    /// Distinct values kept per allowlisted resource key, and schema URLs
    /// per service's resources or scope.
    pub max_allowed_values: usize,
    /// Distinct explicit-bucket layouts per metric.
    pub max_bucket_layouts: usize,
    /// Distinct units per metric.
    pub max_units: usize,
    /// Instrumentation scopes per service, and versions per scope.
    pub max_scopes: usize,
    /// Parent→child operation edges per environment.
    pub max_edges: usize,
    /// Spans (and as many awaited parents) remembered per environment and
    /// window to find the parents of later spans; a window's are carried into
    /// the next, so memory holds up to twice this.
    pub span_cache_size: usize,
    /// Cumulative request-duration series tracked per service for deltas.
    pub max_request_series: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_environments: 32,
            max_services: shared::MAX_SERVICES,
            max_metrics: shared::MAX_METRICS,
            max_span_operations: shared::MAX_SPAN_OPERATIONS,
            max_attribute_keys: shared::MAX_ATTRIBUTE_KEYS,
            max_event_names: shared::MAX_EVENT_NAMES,
            max_allowed_values: shared::MAX_ALLOWED_VALUES,
            max_bucket_layouts: shared::MAX_BUCKET_LAYOUTS,
            max_units: shared::MAX_UNITS,
            max_scopes: shared::MAX_SCOPES,
            max_edges: shared::MAX_EDGES,
            span_cache_size: 65_536,
            max_request_series: 4_096,
        }
    }
}
