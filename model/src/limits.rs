//! The caps that bound what one fingerprint holds, with the defaults that a
//! receiver fingerprints under and an analyzer checks pushes against. They
//! live here, below both, so that the two agree without either importing the
//! other.

use serde::Deserialize;

/// Default for [`FingerprintLimits::max_services`].
pub const MAX_SERVICES: usize = 2_000;
/// Default for [`FingerprintLimits::max_metrics`].
pub const MAX_METRICS: usize = 2_000;
/// Default for [`FingerprintLimits::max_span_operations`].
pub const MAX_SPAN_OPERATIONS: usize = 1_000;
/// Default for [`FingerprintLimits::max_attribute_keys`].
pub const MAX_ATTRIBUTE_KEYS: usize = 128;
/// Default for [`FingerprintLimits::max_event_names`].
pub const MAX_EVENT_NAMES: usize = 128;
/// Default for [`FingerprintLimits::max_allowed_values`].
pub const MAX_ALLOWED_VALUES: usize = 16;
/// Default for [`FingerprintLimits::max_bucket_layouts`].
pub const MAX_BUCKET_LAYOUTS: usize = 8;
/// Default for [`FingerprintLimits::max_units`].
pub const MAX_UNITS: usize = 4;
/// Default for [`FingerprintLimits::max_scopes`].
pub const MAX_SCOPES: usize = 64;
/// Default for [`FingerprintLimits::max_edges`].
pub const MAX_EDGES: usize = 20_000;
/// Distinct sampling thresholds a service's fingerprint holds (a handful is
/// normal; spans with further thresholds count as without one). Fixed, not
/// configured.
pub const MAX_SAMPLING_THRESHOLDS: usize = 32;

/// Caps on one environment's fingerprint (config section `limits`, in the
/// receiver and the analyzer alike). A receiver counts what goes over a cap
/// into the fingerprint's overflow; an analyzer refuses a push over one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FingerprintLimits {
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
    /// Distinct values kept per allowlisted resource key.
    pub max_allowed_values: usize,
    /// Distinct explicit-bucket layouts per metric.
    pub max_bucket_layouts: usize,
    /// Distinct units per metric.
    pub max_units: usize,
    /// Instrumentation scopes per service, and versions per scope.
    pub max_scopes: usize,
    /// Parent→child operation edges per environment.
    pub max_edges: usize,
}

impl Default for FingerprintLimits {
    fn default() -> Self {
        FingerprintLimits {
            max_services: MAX_SERVICES,
            max_metrics: MAX_METRICS,
            max_span_operations: MAX_SPAN_OPERATIONS,
            max_attribute_keys: MAX_ATTRIBUTE_KEYS,
            max_event_names: MAX_EVENT_NAMES,
            max_allowed_values: MAX_ALLOWED_VALUES,
            max_bucket_layouts: MAX_BUCKET_LAYOUTS,
            max_units: MAX_UNITS,
            max_scopes: MAX_SCOPES,
            max_edges: MAX_EDGES,
        }
    }
}

impl FingerprintLimits {
    /// Each cap raised to at least `other`'s: what a checker needs to accept
    /// every fingerprint a producer with `other`'s caps can make.
    pub fn at_least(self, other: &FingerprintLimits) -> FingerprintLimits {
        FingerprintLimits {
            max_services: self.max_services.max(other.max_services),
            max_metrics: self.max_metrics.max(other.max_metrics),
            max_span_operations: self.max_span_operations.max(other.max_span_operations),
            max_attribute_keys: self.max_attribute_keys.max(other.max_attribute_keys),
            max_event_names: self.max_event_names.max(other.max_event_names),
            max_allowed_values: self.max_allowed_values.max(other.max_allowed_values),
            max_bucket_layouts: self.max_bucket_layouts.max(other.max_bucket_layouts),
            max_units: self.max_units.max(other.max_units),
            max_scopes: self.max_scopes.max(other.max_scopes),
            max_edges: self.max_edges.max(other.max_edges),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_keeps_the_larger_cap_of_each() {
        let small = FingerprintLimits {
            max_services: 10,
            max_units: 9,
            ..FingerprintLimits::default()
        };
        let raised = small.at_least(&FingerprintLimits::default());
        assert_eq!(raised.max_services, MAX_SERVICES);
        assert_eq!(raised.max_units, 9);
        assert_eq!(raised.max_edges, MAX_EDGES);
    }
}
