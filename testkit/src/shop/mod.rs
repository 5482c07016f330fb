//! The shop: an online shop modelled on the OpenTelemetry demo (frontend → checkout → payment,
//! recommendation, cart), Python services exporting traces, metrics and logs with
//! opentelemetry-proto's types. One scenario serves the demo (prod and staging), the
//! end-to-end tests and the benches; what differs between them is a parameter:
//!
//! - the environment ([`Shop`]: its name, instances, hosts, id seed and planted [`Drift`]s);
//! - the amount of traffic (requests per batch, cumulative totals);
//! - request sizes for benches ([`Load`]: spans per request, attributes per span, metrics and
//!   data points per request, attributes per point).
//!
//! Module by role: the checkout's `traces`, the services' `metrics` and `logs`, bench-sized
//! requests (`load`), sending a batch (`send`), counting what requests carry (`tally`), and the
//! planted differences (`drift`).

mod drift;
mod load;
mod logs;
mod metrics;
mod send;
mod tally;
mod traces;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::otlp::{Ids, ServiceResource};

pub use drift::Drift;
pub use load::Load;
pub use send::send;
pub use tally::{OperationCount, ServiceCount, Tally};

/// `service.namespace` of every service of the shop.
pub const NAMESPACE: &str = "shop";

/// Instrumentation scope of the services' spans and metrics.
const SCOPE: &str = "opentelemetry.instrumentation.flask";
/// Version of every instrumentation scope.
const SCOPE_VERSION: &str = "0.48b0";

/// The services that take part in a checkout's traces, in the order their spans start.
pub const TRACED_SERVICES: [&str; 4] = ["frontend", "checkout", "payment", "recommendation"];

/// One environment's deployment of the shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shop {
    /// `deployment.environment.name` of every resource.
    pub environment: String,
    /// Instances of every service.
    pub instances: u64,
    /// Hosts are named `ip-10-<subnet>-0-<instance>.internal`.
    pub subnet: u8,
    /// Seeds the ids, so that two environments never share a trace id.
    pub seed: u64,
    /// What this environment does differently from the shop as designed.
    pub drifts: Vec<Drift>,
}

/// One batch of the shop's telemetry, as the services' SDKs export it: one request per
/// service instance and signal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Trace export requests.
    pub traces: Vec<ExportTraceServiceRequest>,
    /// Metrics export requests (cumulative).
    pub metrics: Vec<ExportMetricsServiceRequest>,
    /// Logs export requests.
    pub logs: Vec<ExportLogsServiceRequest>,
}

impl Shop {
    /// The shop as designed, one instance of each service, in `environment`.
    pub fn new(environment: &str) -> Self {
        // FNV-1a of the name: a seed of its own for each environment.
        let seed = environment
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        Shop {
            environment: environment.into(),
            instances: 1,
            subnet: 1,
            seed,
            drifts: Vec::new(),
        }
    }

    /// The demo's prod: three instances of each service, as designed.
    pub fn prod() -> Self {
        Shop {
            instances: 3,
            seed: 0x9d0d,
            ..Shop::new("prod")
        }
    }

    /// The demo's staging: one instance of each service on other hosts, with every drift
    /// planted.
    pub fn staging() -> Self {
        Shop {
            instances: 1,
            subnet: 2,
            seed: 0x5747,
            drifts: Drift::ALL.to_vec(),
            ..Shop::new("staging")
        }
    }

    /// Whether `drift` is planted here.
    pub fn has(&self, drift: Drift) -> bool {
        self.drifts.contains(&drift)
    }

    /// One batch: `requests` user requests per instance; `total` is the running request count
    /// per instance so far (for cumulative metrics); `round` seeds the ids.
    pub fn batch(&self, requests: u64, total: u64, round: u64) -> Batch {
        let mut ids = self.ids(round);
        Batch {
            traces: self.traces(requests, &mut ids),
            metrics: self.metrics(total, &mut ids),
            logs: self.logs(requests, &mut ids),
        }
    }

    /// The traces of `requests` user requests per instance in one export request, as a
    /// Collector's batch processor forwards them; `round` seeds the ids.
    pub fn traces_request(&self, requests: u64, round: u64) -> ExportTraceServiceRequest {
        let resource_spans = self
            .traces(requests, &mut self.ids(round))
            .into_iter()
            .flat_map(|request| request.resource_spans)
            .collect();
        ExportTraceServiceRequest { resource_spans }
    }

    fn ids(&self, round: u64) -> Ids {
        Ids::new(round ^ self.seed)
    }

    /// The resource of `service`'s instance `instance`.
    fn resource(&self, service: &str, instance: u64) -> Option<Resource> {
        let (sdk, runtime) = if self.has(Drift::OlderSdk) {
            ("1.38.0", "3.11.9")
        } else {
            ("1.45.2", "3.12.7")
        };
        let environment = &self.environment;
        let resource = ServiceResource::new(service)
            .namespace(NAMESPACE)
            .version("2.4.1")
            .instance(format!("{service}-{environment}-{instance}"))
            .environment(environment)
            .sdk("python", sdk)
            .runtime("cpython", runtime)
            .host(format!("ip-10-{}-0-{instance}.internal", self.subnet))
            .build();
        Some(resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_drift_changes_what_the_shop_sends() {
        let designed = Shop::new("staging");
        for drift in Drift::ALL {
            let drifted = Shop {
                drifts: vec![drift],
                ..designed.clone()
            };
            assert_ne!(
                drifted.batch(12, 12, 1),
                designed.batch(12, 12, 1),
                "{drift:?} changes nothing"
            );
        }
    }

    #[test]
    fn demo_staging_plants_every_drift_and_prod_none() {
        assert_eq!(Shop::staging().drifts, Drift::ALL);
        assert!(Shop::prod().drifts.is_empty());
        assert_eq!(Shop::prod().batch(40, 40, 1).traces.len(), 3 * 4);
        assert_eq!(Shop::staging().batch(12, 12, 1).traces.len(), 2);
    }
}
