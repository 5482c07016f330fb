//! Counting what trace export requests carry, keyed the way the receiver's fingerprint keys
//! it, so that a test can hold what was acknowledged against what was stored.

use std::collections::{BTreeMap, BTreeSet};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::status;

/// Spans and error spans of one operation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OperationCount {
    /// Spans.
    pub spans: u64,
    /// Spans with status ERROR.
    pub errors: u64,
}

/// Trace spans and export requests of one service.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCount {
    /// Spans.
    pub spans: u64,
    /// Export requests that carried spans of the service.
    pub requests: u64,
}

/// What some export requests carried, keyed as the fingerprint keys it: the service as
/// `namespace/name`, the operation as (service, name, OTLP span kind number).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Spans per operation.
    pub operations: BTreeMap<(String, String, i32), OperationCount>,
    /// Spans and requests per service.
    pub services: BTreeMap<String, ServiceCount>,
}

impl Tally {
    /// Adds everything `request` carries. A service counts one request per export request
    /// however many resource blocks it has there, as the fingerprint counts it.
    pub fn add(&mut self, request: &ExportTraceServiceRequest) {
        let mut seen = BTreeSet::new();
        for resource_spans in &request.resource_spans {
            let service = service_key(resource_spans.resource.as_ref());
            let mut count = 0;
            for span in resource_spans.scope_spans.iter().flat_map(|s| &s.spans) {
                let op = self
                    .operations
                    .entry((service.clone(), span.name.clone(), span.kind))
                    .or_default();
                op.spans += 1;
                let failed = span
                    .status
                    .as_ref()
                    .is_some_and(|s| s.code == status::StatusCode::Error as i32);
                op.errors += u64::from(failed);
                count += 1;
            }
            let totals = self.services.entry(service.clone()).or_default();
            totals.spans += count;
            totals.requests += u64::from(seen.insert(service));
        }
    }

    /// Adds another tally (what two senders of one environment acknowledged).
    pub fn absorb(&mut self, other: &Tally) {
        for (key, count) in &other.operations {
            let op = self.operations.entry(key.clone()).or_default();
            op.spans += count.spans;
            op.errors += count.errors;
        }
        for (key, count) in &other.services {
            let service = self.services.entry(key.clone()).or_default();
            service.spans += count.spans;
            service.requests += count.requests;
        }
    }

    /// Spans in total.
    pub fn spans(&self) -> u64 {
        self.services.values().map(|s| s.spans).sum()
    }
}

/// `namespace/name` from a resource, as the fingerprint keys services.
fn service_key(resource: Option<&Resource>) -> String {
    let attribute = |key: &str| {
        resource
            .into_iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == key)
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(s) => Some(s.clone()),
                _ => None,
            })
    };
    let name = attribute("service.name").unwrap_or_else(|| "unknown_service".to_owned());
    match attribute("service.namespace") {
        Some(namespace) if !namespace.is_empty() => format!("{namespace}/{name}"),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::Shop;

    #[test]
    fn every_traced_service_sends_and_only_declined_charges_fail() {
        let shop = Shop {
            instances: 3,
            ..Shop::new("prod")
        };
        let mut tally = Tally::default();
        for round in 0..40 {
            tally.add(&shop.traces_request(4 * (1 + round % 4), round));
        }
        let services: Vec<&str> = tally.services.keys().map(String::as_str).collect();
        assert_eq!(
            services,
            [
                "shop/checkout",
                "shop/frontend",
                "shop/payment",
                "shop/recommendation"
            ]
        );
        // Each service is in every request once, though with a resource block per instance.
        assert!(
            tally.services.values().all(|s| s.requests == 40),
            "{tally:#?}"
        );
        // Only the spans of declined charges fail: checkout's call and payment's handling.
        let failing: Vec<(&str, &str, i32)> = tally
            .operations
            .iter()
            .filter(|(_, count)| count.errors > 0)
            .map(|((service, name, kind), _)| (service.as_str(), name.as_str(), *kind))
            .collect();
        assert_eq!(
            failing,
            [
                ("shop/checkout", "POST /charge", 3),
                ("shop/payment", "POST /charge", 2),
            ],
            "{tally:#?}"
        );
    }
}
