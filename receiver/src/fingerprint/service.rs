//! One service's fingerprint state within an environment.

use std::sync::Arc;

use otel_parity_proto::v1 as pb;

use super::logs::LogsState;
use super::metrics::{CumulativeCounts, MetricsState};
use super::resource::{ResourceState, ResourceView};
use super::sampling::SamplingState;
use super::traces::TracesState;
use crate::Signal;
use crate::limits::Limits;

/// Everything kept about one service, updated under its lock once per
/// resource block.
#[derive(Debug)]
pub struct ServiceState {
    pub namespace: Box<str>,
    pub name: Box<str>,
    pub resource: ResourceState,
    pub metrics: MetricsState,
    pub traces: TracesState,
    pub sampling: SamplingState,
    pub logs: LogsState,
    pub overflow: pb::Overflow,
    ingestion: [pb::SignalIngestion; 3],
    /// The last request that counted towards `ingestion[signal].requests`.
    last_request: [u64; 3],
}

impl ServiceState {
    /// An empty state for service `namespace`/`name`, continuing the
    /// service's cumulative request counts from earlier windows.
    pub fn new(namespace: &str, name: &str, cumulative: Arc<CumulativeCounts>) -> Self {
        ServiceState {
            namespace: namespace.into(),
            name: name.into(),
            resource: ResourceState::default(),
            metrics: MetricsState::continuing(cumulative),
            traces: TracesState::default(),
            sampling: SamplingState::default(),
            logs: LogsState::default(),
            overflow: pb::Overflow::default(),
            ingestion: Default::default(),
            last_request: [u64::MAX; 3],
        }
    }

    /// Records the start of one resource block of request `request_id`.
    pub fn begin_block(
        &mut self,
        signal: Signal,
        request_id: u64,
        view: &ResourceView<'_>,
        block_len: usize,
        limits: &Limits,
    ) {
        let i = signal.index();
        if self.last_request[i] != request_id {
            self.last_request[i] = request_id;
            self.ingestion[i].requests += 1;
        }
        self.ingestion[i].bytes += block_len as u64;
        self.resource.observe(view, limits, &mut self.overflow);
    }

    /// Volume counters of `signal`.
    pub fn ingestion_mut(&mut self, signal: Signal) -> &mut pb::SignalIngestion {
        &mut self.ingestion[signal.index()]
    }

    /// Heap bytes held by sketches (what can grow with traffic).
    pub fn memory_bytes(&self) -> usize {
        self.metrics.memory_bytes() + self.resource.memory_bytes()
    }

    /// The snapshot form, with this service's incoming edges.
    pub fn to_proto(&self, edges: Vec<pb::OperationEdge>) -> pb::ServiceFingerprint {
        let [traces, metrics, logs] = self.ingestion;
        pb::ServiceFingerprint {
            namespace: self.namespace.to_string(),
            name: self.name.to_string(),
            resource: Some(self.resource.to_proto()),
            metrics: self.metrics.to_proto(),
            span_operations: self.traces.to_proto(),
            edges,
            sampling: Some(self.sampling.to_proto(self.metrics.request_count())),
            logs: Some(self.logs.to_proto()),
            ingestion: Some(pb::Ingestion {
                traces: Some(traces),
                metrics: Some(metrics),
                logs: Some(logs),
            }),
            overflow: Some(self.overflow),
        }
    }
}
