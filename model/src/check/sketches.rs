//! The sketches inside a fingerprint: where each is ([`At`]), a walk over
//! all of them, and the check that each decodes as a receiver wrote it.

use otel_parity_proto::v1 as pb;

use crate::sketch::{decode_hdr, decode_hll};

/// A sketch inside a fingerprint that cannot be read, named by where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct SketchError {
    /// Where the sketch is, e.g. `service "shop/cart" metric "app.cart.items" series`.
    pub location: String,
    /// Why it does not decode.
    pub reason: String,
}

/// Checks that every sketch in `fingerprint` decodes (with a precision a
/// receiver writes) and that each duration histogram holds as many durations
/// as its `count` says, naming the first that does not.
pub fn check_sketches(fingerprint: &pb::EnvironmentFingerprint) -> Result<(), SketchError> {
    for (key, service) in &fingerprint.services {
        check_service_sketches(key, service)?;
    }
    Ok(())
}

/// [`check_sketches`] for one service, listed under `key`.
pub fn check_service_sketches(
    key: &str,
    service: &pb::ServiceFingerprint,
) -> Result<(), SketchError> {
    walk_service_sketches(key, service, &mut |at, sketch| {
        let checked = match sketch {
            SketchRef::Hll(bytes) => decode_hll(bytes).map(drop),
            SketchRef::Hdr { bytes, count } => decode_hdr(bytes).and_then(|histogram| {
                if histogram.len() == count {
                    Ok(())
                } else {
                    Err(format!(
                        "HDR histogram holds {} durations, its count says {count}",
                        histogram.len()
                    ))
                }
            }),
        };
        checked.map_err(|reason| at.error(reason))
    })
}

/// Where a sketch sits inside a fingerprint.
#[derive(Clone, Copy)]
pub(crate) enum At<'a> {
    Instances {
        service: &'a str,
    },
    Series {
        service: &'a str,
        metric: &'a str,
    },
    KeyValues {
        service: &'a str,
        metric: &'a str,
        key: &'a str,
    },
    Duration {
        service: &'a str,
        operation: &'a str,
        kind: i32,
    },
}

impl At<'_> {
    /// The key of the service the sketch belongs to.
    pub(crate) fn service(&self) -> &str {
        match self {
            At::Instances { service }
            | At::Series { service, .. }
            | At::KeyValues { service, .. }
            | At::Duration { service, .. } => service,
        }
    }

    /// The error naming this place, for `reason`.
    pub(crate) fn error(&self, reason: String) -> SketchError {
        let location = match self {
            At::Instances { service } => format!("service {service:?} resource instances"),
            At::Series { service, metric } => {
                format!("service {service:?} metric {metric:?} series")
            }
            At::KeyValues {
                service,
                metric,
                key,
            } => format!("service {service:?} metric {metric:?} attribute key {key:?} values"),
            At::Duration {
                service, operation, ..
            } => format!("service {service:?} span operation {operation:?} duration"),
        };
        SketchError { location, reason }
    }
}

/// A serialized sketch found inside a fingerprint.
pub(crate) enum SketchRef<'a> {
    Hll(&'a [u8]),
    /// A duration histogram and the count stated beside it.
    Hdr {
        bytes: &'a [u8],
        count: u64,
    },
}

/// Calls `visit` with every non-empty sketch of `fingerprint` and where it is.
pub(crate) fn walk_sketches<'a>(
    fingerprint: &'a pb::EnvironmentFingerprint,
    visit: &mut dyn FnMut(At<'a>, SketchRef<'a>) -> Result<(), SketchError>,
) -> Result<(), SketchError> {
    for (service_key, service) in &fingerprint.services {
        walk_service_sketches(service_key, service, visit)?;
    }
    Ok(())
}

/// [`walk_sketches`] over one service, listed under `service_key`.
fn walk_service_sketches<'a>(
    service_key: &'a str,
    service: &'a pb::ServiceFingerprint,
    visit: &mut dyn FnMut(At<'a>, SketchRef<'a>) -> Result<(), SketchError>,
) -> Result<(), SketchError> {
    if let Some(instances) = service.resource.as_ref().and_then(|r| r.instances.as_ref())
        && !instances.hll.is_empty()
    {
        visit(
            At::Instances {
                service: service_key,
            },
            SketchRef::Hll(&instances.hll),
        )?;
    }
    for (name, metric) in &service.metrics {
        if let Some(series) = metric.series.as_ref().filter(|s| !s.hll.is_empty()) {
            let at = At::Series {
                service: service_key,
                metric: name,
            };
            visit(at, SketchRef::Hll(&series.hll))?;
        }
        for (key, shape) in &metric.attribute_keys {
            if let Some(values) = shape.values.as_ref().filter(|v| !v.hll.is_empty()) {
                let at = At::KeyValues {
                    service: service_key,
                    metric: name,
                    key,
                };
                visit(at, SketchRef::Hll(&values.hll))?;
            }
        }
    }
    for operation in &service.span_operations {
        if let Some(duration) = operation.duration.as_ref().filter(|d| !d.hdr.is_empty()) {
            let at = At::Duration {
                service: service_key,
                operation: &operation.name,
                kind: operation.kind,
            };
            let sketch = SketchRef::Hdr {
                bytes: &duration.hdr,
                count: duration.count,
            };
            visit(at, sketch)?;
        }
    }
    Ok(())
}
