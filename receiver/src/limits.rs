//! Caps that bound a fingerprint's memory whatever the traffic.
//!
//! What goes over a cap is counted in the fingerprint's `Overflow`, never
//! dropped silently and never allowed to grow memory.

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
            max_services: 2_000,
            max_metrics: 2_000,
            max_span_operations: 1_000,
            max_attribute_keys: 128,
            max_event_names: 128,
            max_allowed_values: 16,
            max_bucket_layouts: 8,
            max_units: 4,
            max_scopes: 64,
            max_edges: 20_000,
            span_cache_size: 65_536,
            max_request_series: 4_096,
        }
    }
}
