//! Whether a fingerprint could have come from a correct receiver, checked
//! before an analyzer stores it: every cap of [`FingerprintLimits`] holds,
//! every sketch decodes as a receiver writes it, and the counts a receiver
//! keeps consistent are consistent (a span operation never has more errors
//! than spans, a log shape never more records with a trace id than records,
//! …). The first thing wrong is named; services are checked in key order,
//! each one's caps and counts before its sketches.
//!
//! Every count check is an inequality that a receiver's fingerprint of one
//! window satisfies whatever its traffic: what is counted on the right is
//! counted for every item that the left counts.

pub mod sketches;

use otel_parity_proto::v1 as pb;

use crate::limits::{FingerprintLimits, MAX_SAMPLING_THRESHOLDS};

pub use sketches::{SketchError, check_service_sketches, check_sketches};

/// The first thing wrong with a fingerprint, named by where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct FingerprintError {
    /// Where, e.g. `service "shop/cart" metric "app.cart.items"`.
    pub location: String,
    /// What is wrong there, e.g. `5 units, above limits.max_units (4)`.
    pub reason: String,
}

impl From<SketchError> for FingerprintError {
    fn from(error: SketchError) -> Self {
        FingerprintError {
            location: error.location,
            reason: error.reason,
        }
    }
}

/// Checks `fingerprint` (one environment's, as a receiver pushes it) against
/// `limits`, its sketches and its counts; names the first thing wrong.
pub fn check_fingerprint(
    fingerprint: &pb::EnvironmentFingerprint,
    limits: &FingerprintLimits,
) -> Result<(), FingerprintError> {
    let environment = || "environment".to_owned();
    let services = fingerprint.services.len();
    at_most(
        environment,
        services,
        "services",
        "max_services",
        limits.max_services,
    )?;
    let edges = fingerprint.services.values().map(|s| s.edges.len()).sum();
    at_most(environment, edges, "edges", "max_edges", limits.max_edges)?;
    for (key, service) in &fingerprint.services {
        check_service(key, service, limits)?;
        check_service_sketches(key, service)?;
    }
    Ok(())
}

fn check_service(
    key: &str,
    service: &pb::ServiceFingerprint,
    limits: &FingerprintLimits,
) -> Result<(), FingerprintError> {
    let here = || format!("service {key:?}");
    if let Some(resource) = &service.resource {
        check_resource(key, resource, limits)?;
    }
    let metrics = service.metrics.len();
    at_most(
        here,
        metrics,
        "metric names",
        "max_metrics",
        limits.max_metrics,
    )?;
    for (name, metric) in &service.metrics {
        check_metric(key, name, metric, limits)?;
    }
    let operations = service.span_operations.len();
    let cap = limits.max_span_operations;
    at_most(
        here,
        operations,
        "span operations",
        "max_span_operations",
        cap,
    )?;
    for operation in &service.span_operations {
        check_operation(key, operation, limits)?;
    }
    let spans = Count(
        "spans of its span operations",
        service
            .span_operations
            .iter()
            .map(|o| u128::from(o.spans))
            .sum(),
    );
    if let Some(sampling) = &service.sampling {
        let sampled = check_sampling(key, sampling)?;
        not_above(here, spans, sampled)?;
    }
    if let Some(logs) = &service.logs {
        check_logs(key, logs, limits)?;
    }
    if let Some(ingestion) = &service.ingestion {
        let here = || format!("service {key:?} ingestion");
        let items = |signal: &Option<pb::SignalIngestion>, what| {
            signal.as_ref().map(|s| Count(what, u128::from(s.items)))
        };
        if let Some(items) = items(&ingestion.traces, "traces.items") {
            not_above(here, spans, items)?;
            if let Some(sampling) = &service.sampling {
                not_above(here, sampled_spans(sampling), items)?;
            }
        }
        if let Some(items) = items(&ingestion.metrics, "metrics.items") {
            let points = service
                .metrics
                .values()
                .map(|m| u128::from(m.data_points))
                .sum();
            not_above(here, Count("data points of its metrics", points), items)?;
        }
        if let (Some(items), Some(logs)) = (items(&ingestion.logs, "logs.items"), &service.logs) {
            not_above(here, Count("logs.records", logs.records.into()), items)?;
        }
    }
    Ok(())
}

fn check_resource(
    key: &str,
    resource: &pb::ResourceShape,
    limits: &FingerprintLimits,
) -> Result<(), FingerprintError> {
    let here = || format!("service {key:?} resource");
    let keys = resource.attribute_keys.len();
    let cap = limits.max_attribute_keys;
    at_most(here, keys, "attribute keys", "max_attribute_keys", cap)?;
    let allowlisted = resource.allowed_values.len();
    at_most(
        here,
        allowlisted,
        "allowlisted keys",
        "max_attribute_keys",
        cap,
    )?;
    for (name, values) in &resource.allowed_values {
        let here = || format!("service {key:?} resource allowed value {name:?}");
        let cap = limits.max_allowed_values;
        at_most(
            here,
            values.values.len(),
            "values",
            "max_allowed_values",
            cap,
        )?;
    }
    let cap = limits.max_scopes;
    at_most(here, resource.scopes.len(), "scopes", "max_scopes", cap)?;
    for (name, scope) in &resource.scopes {
        let here = || format!("service {key:?} resource scope {name:?}");
        at_most(here, scope.versions.len(), "versions", "max_scopes", cap)?;
    }
    Ok(())
}

fn check_metric(
    key: &str,
    name: &str,
    metric: &pb::MetricShape,
    limits: &FingerprintLimits,
) -> Result<(), FingerprintError> {
    let here = || format!("service {key:?} metric {name:?}");
    at_most(
        here,
        metric.units.len(),
        "units",
        "max_units",
        limits.max_units,
    )?;
    let layouts = metric.bucket_layouts.len();
    let cap = limits.max_bucket_layouts;
    at_most(here, layouts, "bucket layouts", "max_bucket_layouts", cap)?;
    let keys = metric.attribute_keys.len();
    let cap = limits.max_attribute_keys;
    at_most(here, keys, "attribute keys", "max_attribute_keys", cap)?;
    let points = Count("data_points", metric.data_points.into());
    let monotonic = u128::from(metric.monotonic_points) + u128::from(metric.non_monotonic_points);
    not_above(
        here,
        Count("monotonic_points + non_monotonic_points", monotonic),
        points,
    )?;
    not_above(here, total("points by type", &metric.types), points)?;
    let temporalities = total("points by temporality", &metric.temporalities);
    not_above(here, temporalities, points)?;
    not_above(here, total("points by unit", &metric.units), points)?;
    let in_layouts = metric
        .bucket_layouts
        .iter()
        .map(|l| u128::from(l.data_points))
        .sum();
    not_above(here, Count("points by bucket layout", in_layouts), points)?;
    Ok(())
}

fn check_operation(
    key: &str,
    operation: &pb::SpanOperation,
    limits: &FingerprintLimits,
) -> Result<(), FingerprintError> {
    let kind =
        pb::SpanKind::try_from(operation.kind).map_or("an unknown kind", |kind| kind.as_str_name());
    let here = || {
        format!(
            "service {key:?} span operation {:?} ({kind})",
            operation.name
        )
    };
    let keys = operation.attribute_keys.len();
    let cap = limits.max_attribute_keys;
    at_most(here, keys, "attribute keys", "max_attribute_keys", cap)?;
    let events = operation.event_names.len();
    let cap = limits.max_event_names;
    at_most(here, events, "event names", "max_event_names", cap)?;
    let spans = Count("spans", operation.spans.into());
    not_above(here, Count("errors", operation.errors.into()), spans)?;
    if let Some(p) = &operation.propagation {
        let parents = u128::from(p.remote_parent) + u128::from(p.local_parent) + u128::from(p.root);
        let what = "remote_parent + local_parent + root";
        not_above(here, Count(what, parents), spans)?;
    }
    if let Some(duration) = &operation.duration {
        not_above(here, Count("duration.count", duration.count.into()), spans)?;
    }
    Ok(())
}

/// Checks a service's sampling and returns the spans it counted.
fn check_sampling(key: &str, sampling: &pb::Sampling) -> Result<Count, FingerprintError> {
    let here = || format!("service {key:?} sampling");
    let thresholds = sampling.thresholds.len();
    if thresholds > MAX_SAMPLING_THRESHOLDS {
        return Err(FingerprintError {
            location: here(),
            reason: format!(
                "{thresholds} thresholds, above the {MAX_SAMPLING_THRESHOLDS} a receiver keeps"
            ),
        });
    }
    let server = Count("server_spans", sampling.server_spans.into());
    let without = sampling.server_spans_without_threshold.into();
    not_above(
        here,
        Count("server_spans_without_threshold", without),
        server,
    )?;
    let sampled = sampled_spans(sampling);
    not_above(here, server, sampled)?;
    Ok(sampled)
}

/// Every span sampling counted: with each threshold, and without one.
fn sampled_spans(sampling: &pb::Sampling) -> Count {
    let with: u128 = sampling
        .thresholds
        .iter()
        .map(|t| u128::from(t.spans))
        .sum();
    Count(
        "spans by threshold + spans_without_threshold",
        with + u128::from(sampling.spans_without_threshold),
    )
}

fn check_logs(
    key: &str,
    logs: &pb::LogShape,
    limits: &FingerprintLimits,
) -> Result<(), FingerprintError> {
    let here = || format!("service {key:?} logs");
    let keys = logs.attribute_keys.len();
    let cap = limits.max_attribute_keys;
    at_most(here, keys, "attribute keys", "max_attribute_keys", cap)?;
    let events = logs.event_names.len();
    let cap = limits.max_event_names;
    at_most(here, events, "event names", "max_event_names", cap)?;
    let records = Count("records", logs.records.into());
    not_above(
        here,
        Count("with_trace_id", logs.with_trace_id.into()),
        records,
    )?;
    not_above(
        here,
        total("records by severity", &logs.severities),
        records,
    )?;
    not_above(
        here,
        total("records by body kind", &logs.body_kinds),
        records,
    )?;
    not_above(
        here,
        total("records by event name", &logs.event_names),
        records,
    )?;
    Ok(())
}

/// A named count, wide enough that sums of `u64`s cannot overflow.
#[derive(Debug, Clone, Copy)]
struct Count(&'static str, u128);

fn total(what: &'static str, counts: &std::collections::BTreeMap<String, u64>) -> Count {
    Count(what, counts.values().map(|n| u128::from(*n)).sum())
}

/// `found` must not exceed the cap `limits.{cap_name}` = `cap`.
fn at_most(
    location: impl Fn() -> String,
    found: usize,
    what: &str,
    cap_name: &str,
    cap: usize,
) -> Result<(), FingerprintError> {
    if found <= cap {
        return Ok(());
    }
    Err(FingerprintError {
        location: location(),
        reason: format!("{found} {what}, above limits.{cap_name} ({cap})"),
    })
}

/// `part` counts items that `whole` counts too, so it cannot be larger.
fn not_above(
    location: impl Fn() -> String,
    part: Count,
    whole: Count,
) -> Result<(), FingerprintError> {
    if part.1 <= whole.1 {
        return Ok(());
    }
    Err(FingerprintError {
        location: location(),
        reason: format!("{} ({}) is above {} ({})", part.0, part.1, whole.0, whole.1),
    })
}

#[cfg(test)]
mod tests;
