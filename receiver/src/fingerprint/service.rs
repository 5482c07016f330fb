//! One service's fingerprint state within an environment.
//!
//! The state is made of the signal modules' states, and data flows one way:
//! this module hands each signal's state the scopes of a block (`Scopes`,
//! the one scope walk, which records each scope into the resource state) and
//! only the parts of the service it may change. No signal module knows the
//! service state.

use std::sync::Arc;

use otel_parity_proto::v1 as pb;

use super::IngestOutcome;
use super::edges::SpanRecord;
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
    /// `service.namespace`, empty when absent.
    pub namespace: Box<str>,
    /// `service.name`.
    pub name: Box<str>,
    /// Span operations; edges name their operations from here.
    pub traces: TracesState,
    resource: ResourceState,
    metrics: MetricsState,
    sampling: SamplingState,
    logs: LogsState,
    overflow: pb::Overflow,
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

    /// Fingerprints the spans of one ResourceSpans block, appending what
    /// edge tracking needs to `spans`.
    pub fn observe_spans(
        &mut self,
        block: &[u8],
        service_slot: u32,
        limits: &Limits,
        spans: &mut Vec<SpanRecord>,
        outcome: &mut IngestOutcome,
    ) {
        let accepted = outcome.accepted;
        let scopes = self.resource.scopes(block, &mut self.overflow, limits);
        let sampling = &mut self.sampling;
        let traces = &mut self.traces;
        traces.observe_block(scopes, sampling, service_slot, limits, spans, outcome);
        self.count_items(Signal::Traces, outcome.accepted - accepted);
    }

    /// Fingerprints the metrics of one ResourceMetrics block from the
    /// instance `instance_hash`.
    pub fn observe_metrics(
        &mut self,
        block: &[u8],
        instance_hash: u64,
        limits: &Limits,
        outcome: &mut IngestOutcome,
    ) {
        let accepted = outcome.accepted;
        let scopes = self.resource.scopes(block, &mut self.overflow, limits);
        self.metrics
            .observe_block(scopes, instance_hash, limits, outcome);
        self.count_items(Signal::Metrics, outcome.accepted - accepted);
    }

    /// Fingerprints the log records of one ResourceLogs block.
    pub fn observe_logs(&mut self, block: &[u8], limits: &Limits, outcome: &mut IngestOutcome) {
        let accepted = outcome.accepted;
        let scopes = self.resource.scopes(block, &mut self.overflow, limits);
        self.logs.observe_block(scopes, limits, outcome);
        self.count_items(Signal::Logs, outcome.accepted - accepted);
    }

    /// Adds items of `signal` fingerprinted (or counted into an overflow
    /// bucket) to the volume counters.
    fn count_items(&mut self, signal: Signal, items: u64) {
        self.ingestion[signal.index()].items += items;
    }

    /// What went over this service's caps so far in the window.
    pub fn overflow(&self) -> pb::Overflow {
        self.overflow
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
