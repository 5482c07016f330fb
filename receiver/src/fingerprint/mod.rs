//! The fingerprint engine: OTLP request bytes in, per-environment,
//! per-service fingerprints out.
//!
//! A request is validated as a whole first (framing, wire types, UTF-8), so a
//! malformed request changes nothing. It is then walked over its bytes without
//! decoding: each resource block locks its service's state once, and the spans
//! of a block are handed to edge tracking in one batch.

mod attributes;
mod edges;
mod environment;
mod logs;
mod metrics;
mod resource;
mod sampling;
mod service;
mod table;
mod traces;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hashbrown::HashMap;
use otel_parity_model::merge::merge_overflow_counts;
use otel_parity_proto::v1 as pb;
use otel_parity_runtime::time::unix_nanos_now;
use parking_lot::{Mutex, RwLock};
use serde::Deserialize;

pub use self::metrics::REQUEST_DURATION_METRICS;
pub use self::resource::{ALLOWED_VALUE_KEYS, UNKNOWN_SERVICE};
pub use self::sampling::{Threshold, threshold_from_tracestate};

use self::edges::SpanRecord;
use self::environment::{Environment, EnvironmentMemory};
use self::resource::ResourceView;
use crate::Signal;
use crate::limits::Limits;
use crate::otlp::schema::{field, request_schema};
use crate::wire::{self, WireError};

/// The environment name for telemetry that names none.
pub const UNKNOWN_ENVIRONMENT: &str = "unknown";

/// Which environment wins when both config and the resource name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentSource {
    /// The configured environment wins; the resource attribute is the fallback.
    #[default]
    Config,
    /// `deployment.environment.name` wins; the configured one is the fallback.
    Resource,
}

/// How the engine names environments and bounds its memory.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Environment from config (`environment:` or `--environment`).
    pub environment: Option<String>,
    /// Whether the configured environment or the resource's wins.
    pub environment_from: EnvironmentSource,
    /// Caps on what the engine keeps; beyond them items go to overflow.
    pub limits: Limits,
    /// Identifies this receiver in snapshots and pushes.
    pub instance: String,
}

/// What happened to the items of one accepted request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Items fingerprinted (or counted into an overflow bucket).
    pub accepted: u64,
    /// Items left out as invalid; reported in OTLP `partial_success`.
    pub rejected: u64,
    /// Why the first rejected item was left out.
    pub rejection: Option<String>,
}

impl IngestOutcome {
    /// Counts one rejected item, keeping the first reason.
    pub fn reject(&mut self, reason: &str) {
        self.rejected += 1;
        if self.rejection.is_none() {
            self.rejection = Some(reason.to_owned());
        }
    }
}

/// A request the engine refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {message}: {source}")]
pub struct MalformedRequest {
    /// The OTLP message type, e.g. ExportTraceServiceRequest.
    pub message: &'static str,
    /// What is wrong with its bytes.
    pub source: WireError,
}

#[derive(Debug, Default)]
struct SignalCounters {
    requests: AtomicU64,
    rejected_requests: AtomicU64,
    items: AtomicU64,
    rejected_items: AtomicU64,
    wire_bytes: AtomicU64,
    decoded_bytes: AtomicU64,
}

thread_local! {
    /// Span records of the block being fingerprinted, reused across requests.
    static SPAN_RECORDS: RefCell<Vec<SpanRecord>> = const { RefCell::new(Vec::new()) };
}

/// The fingerprints of one window: what `take_window` hands over.
#[derive(Debug)]
struct Window {
    start_unix_nano: u64,
    environments: HashMap<Box<str>, Arc<Environment>>,
    /// Items not fingerprinted because the environments cap was reached.
    overflow: AtomicU64,
}

impl Window {
    fn starting_now() -> Self {
        Window {
            start_unix_nano: unix_nanos_now(),
            environments: HashMap::new(),
            overflow: AtomicU64::new(0),
        }
    }
}

/// How long `take_window` waits for requests still writing into the window
/// it took; requests hold it for microseconds.
const WINDOW_DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Turns OTLP export requests into fingerprints; shared by all connections.
#[derive(Debug)]
pub struct Fingerprinter {
    config: EngineConfig,
    window: RwLock<Window>,
    /// What each environment remembers across windows.
    memories: RwLock<HashMap<Box<str>, Arc<EnvironmentMemory>>>,
    /// What the receiver was sent over its lifetime (not per window).
    received: [SignalCounters; 3],
    next_request: AtomicU64,
    /// Overflow counts of the windows taken so far; held while a window is
    /// taken so that lifetime totals never go backwards.
    ended_overflow: Mutex<pb::Overflow>,
}

/// The nested messages under `number` of `message` (repeated message fields).
#[inline]
pub(crate) fn children(message: &[u8], number: u32) -> impl Iterator<Item = &[u8]> {
    wire::fields(message)
        .filter_map(Result::ok)
        .filter(move |(n, _)| *n == number)
        .map(|(_, v)| v.as_bytes())
}

impl Fingerprinter {
    /// An engine with an empty window starting now.
    pub fn new(config: EngineConfig) -> Self {
        Fingerprinter {
            config,
            window: RwLock::new(Window::starting_now()),
            memories: RwLock::new(HashMap::new()),
            received: Default::default(),
            next_request: AtomicU64::new(0),
            ended_overflow: Mutex::new(pb::Overflow::default()),
        }
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Fingerprints one export request of `signal` (decompressed protobuf
    /// bytes; `wire_bytes` is its size as received). A malformed request is
    /// refused whole and changes nothing but the rejection counters.
    pub fn ingest(
        &self,
        signal: Signal,
        request: &[u8],
        wire_bytes: usize,
    ) -> Result<IngestOutcome, MalformedRequest> {
        let counters = &self.received[signal.index()];
        let schema = request_schema(signal);
        if let Err(source) = wire::validate(request, schema) {
            self.reject_request(signal, wire_bytes);
            return Err(MalformedRequest {
                message: schema.name,
                source,
            });
        }
        let request_id = self.next_request.fetch_add(1, Ordering::Relaxed);
        let mut outcome = IngestOutcome::default();
        for block in children(request, field::REQUEST_RESOURCES) {
            self.observe_block(signal, request_id, block, &mut outcome);
        }
        counters.requests.fetch_add(1, Ordering::Relaxed);
        counters
            .items
            .fetch_add(outcome.accepted, Ordering::Relaxed);
        counters
            .rejected_items
            .fetch_add(outcome.rejected, Ordering::Relaxed);
        counters
            .wire_bytes
            .fetch_add(wire_bytes as u64, Ordering::Relaxed);
        counters
            .decoded_bytes
            .fetch_add(request.len() as u64, Ordering::Relaxed);
        Ok(outcome)
    }

    /// Counts a request refused before it reached the engine (too large,
    /// wrong content type, bad compression, unparseable JSON).
    pub fn reject_request(&self, signal: Signal, wire_bytes: usize) {
        let counters = &self.received[signal.index()];
        counters.rejected_requests.fetch_add(1, Ordering::Relaxed);
        counters
            .wire_bytes
            .fetch_add(wire_bytes as u64, Ordering::Relaxed);
    }

    /// Counts items rejected before they reached the engine (OTLP/JSON items
    /// that could not be converted).
    pub fn reject_items(&self, signal: Signal, items: u64) {
        self.received[signal.index()]
            .rejected_items
            .fetch_add(items, Ordering::Relaxed);
    }

    fn observe_block(
        &self,
        signal: Signal,
        request_id: u64,
        block: &[u8],
        outcome: &mut IngestOutcome,
    ) {
        let limits = &self.config.limits;
        let view = ResourceView::of_block(block);
        let Some(env) = self.environment(&view) else {
            let items = count_items(signal, block);
            self.window
                .read()
                .overflow
                .fetch_add(items, Ordering::Relaxed);
            outcome.accepted += items;
            return;
        };
        let Some((slot, service)) =
            env.service(view.service_namespace, view.service_name(), limits)
        else {
            let items = count_items(signal, block);
            env.overflow_services(items);
            outcome.accepted += items;
            return;
        };
        SPAN_RECORDS.with_borrow_mut(|spans| {
            spans.clear();
            {
                let mut svc = service.lock();
                svc.begin_block(signal, request_id, &view, block.len(), limits);
                match signal {
                    Signal::Traces => svc.observe_spans(block, slot, limits, spans, outcome),
                    Signal::Metrics => {
                        svc.observe_metrics(block, view.instance_hash.unwrap_or(0), limits, outcome)
                    }
                    Signal::Logs => svc.observe_logs(block, limits, outcome),
                }
            }
            env.observe_spans(spans, limits);
        });
    }

    /// The environment a resource belongs to, created while under the cap.
    fn environment(&self, view: &ResourceView<'_>) -> Option<Arc<Environment>> {
        let configured = self.config.environment.as_deref().filter(|e| !e.is_empty());
        let name = match self.config.environment_from {
            EnvironmentSource::Config => configured.or(view.environment),
            EnvironmentSource::Resource => view.environment.or(configured),
        }
        .unwrap_or(UNKNOWN_ENVIRONMENT);
        if let Some(env) = self.window.read().environments.get(name) {
            return Some(Arc::clone(env));
        }
        let mut window = self.window.write();
        if let Some(env) = window.environments.get(name) {
            return Some(Arc::clone(env));
        }
        if window.environments.len() >= self.config.limits.max_environments {
            return None;
        }
        let memory = {
            let mut memories = self.memories.write();
            match memories.get(name) {
                Some(memory) => Arc::clone(memory),
                // Past the cap, a window's environment remembers nothing.
                None if memories.len() >= self.config.limits.max_environments => {
                    Arc::new(EnvironmentMemory::default())
                }
                None => {
                    let memory = Arc::new(EnvironmentMemory::default());
                    memories.insert(name.into(), Arc::clone(&memory));
                    memory
                }
            }
        };
        let env = Arc::new(Environment::continuing(memory));
        window.environments.insert(name.into(), Arc::clone(&env));
        Some(env)
    }

    /// Heap bytes held by sketches and span memory across environments: the
    /// part of the state that traffic could grow, bounded by the limits.
    pub fn memory_bytes(&self) -> usize {
        self.window
            .read()
            .environments
            .values()
            .map(|env| env.memory_bytes())
            .sum()
    }

    /// The fingerprints of the window so far.
    pub fn snapshot(&self) -> pb::Snapshot {
        self.snapshot_of(&self.window.read())
    }

    /// Ends the current window and starts a new one, returning the ended
    /// window's fingerprints. Requests still writing into the old window are
    /// waited for, so nothing accepted is lost between windows. Each
    /// environment's span memory is carried into the new window before any
    /// request reaches it, so that a child whose parent arrives in the next
    /// window (or a parent whose child does) still makes its edge there.
    /// Normally returns within a millisecond; call it off the async executor.
    pub fn take_window(&self) -> pb::Snapshot {
        let mut ended_overflow = self.ended_overflow.lock();
        let ended = {
            let mut window = self.window.write();
            let ended = std::mem::replace(&mut *window, Window::starting_now());
            let deadline = Instant::now() + WINDOW_DRAIN_TIMEOUT;
            for env in ended.environments.values() {
                while Arc::strong_count(env) > 1 && Instant::now() < deadline {
                    std::thread::yield_now();
                }
                // A request stuck past the deadline still holds the window:
                // its span memory is not carried rather than waited for.
                if Arc::strong_count(env) == 1 {
                    env.carry_over();
                }
            }
            ended
        };
        merge_overflow_counts(&mut ended_overflow, &window_overflow(&ended));
        self.snapshot_of(&ended)
    }

    /// Everything counted into overflow buckets since the engine started,
    /// per cap: the ended windows' and the current one's.
    pub fn overflow_totals(&self) -> pb::Overflow {
        let ended = self.ended_overflow.lock();
        let mut totals = *ended;
        merge_overflow_counts(&mut totals, &window_overflow(&self.window.read()));
        totals
    }

    /// Requests and items per signal received so far over the engine's
    /// lifetime (accepted requests; items fingerprinted or in overflow).
    pub fn received_totals(&self) -> [(u64, u64); 3] {
        Signal::ALL.map(|signal| {
            let c = &self.received[signal.index()];
            (
                c.requests.load(Ordering::Relaxed),
                c.items.load(Ordering::Relaxed),
            )
        })
    }

    /// When the current window started, in Unix nanoseconds.
    pub fn window_start_unix_nano(&self) -> u64 {
        self.window.read().start_unix_nano
    }

    fn snapshot_of(&self, window: &Window) -> pb::Snapshot {
        let environments: BTreeMap<String, pb::EnvironmentFingerprint> = window
            .environments
            .iter()
            .map(|(name, env)| (name.to_string(), env.to_proto()))
            .collect();
        let received = Signal::ALL
            .iter()
            .map(|signal| {
                let c = &self.received[signal.index()];
                let stats = pb::ReceiverSignalStats {
                    requests: c.requests.load(Ordering::Relaxed),
                    rejected_requests: c.rejected_requests.load(Ordering::Relaxed),
                    items: c.items.load(Ordering::Relaxed),
                    rejected_items: c.rejected_items.load(Ordering::Relaxed),
                    wire_bytes: c.wire_bytes.load(Ordering::Relaxed),
                    decoded_bytes: c.decoded_bytes.load(Ordering::Relaxed),
                };
                (signal.as_str().to_owned(), stats)
            })
            .collect();
        pb::Snapshot {
            receiver_instance: self.config.instance.clone(),
            window_start_unix_nano: window.start_unix_nano,
            window_end_unix_nano: unix_nanos_now(),
            environments,
            received,
            overflow: Some(pb::Overflow {
                environments: window.overflow.load(Ordering::Relaxed),
                ..Default::default()
            }),
        }
    }
}

/// A window's overflow counts: the environments cap's and each environment's.
fn window_overflow(window: &Window) -> pb::Overflow {
    let mut totals = pb::Overflow {
        environments: window.overflow.load(Ordering::Relaxed),
        ..Default::default()
    };
    for env in window.environments.values() {
        merge_overflow_counts(&mut totals, &env.overflow_totals());
    }
    totals
}

/// Items in one resource block, for blocks that go over a cap.
fn count_items(signal: Signal, block: &[u8]) -> u64 {
    let items = children(block, field::resource_block::SCOPES)
        .flat_map(|scope| children(scope, field::scope_block::ITEMS));
    match signal {
        Signal::Metrics => items.map(metrics::points_in).sum(),
        Signal::Traces | Signal::Logs => items.count() as u64,
    }
}

#[cfg(test)]
mod tests;
