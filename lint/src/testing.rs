//! What the lint tests feed in: the test kit's fingerprint builders, and the telemetry and
//! findings of the services they build.

pub use otel_parity_testkit::fingerprint::{
    MetricBuilder, ServiceBuilder, gauge, histogram, service, snapshot, sum,
};

use super::config::LintConfig;
use super::finding::Finding;
use super::model::Telemetry;
use super::rules::RuleId;

/// The merged telemetry of one snapshot of `services`.
pub fn telemetry(services: Vec<ServiceBuilder>) -> Telemetry {
    Telemetry::from_snapshots([&snapshot("ci", services)]).unwrap()
}

/// Findings of `rule` when linting `services` with the default config.
pub fn findings_of(rule: RuleId, services: Vec<ServiceBuilder>) -> Vec<Finding> {
    super::lint(&telemetry(services), &LintConfig::default(), None)
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}
