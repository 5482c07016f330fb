//! The receiver's own telemetry on `--telemetry ADDR`: `/metrics` (what the
//! listeners accepted and refused, the admission budget, the pusher, the
//! fingerprint's overflow and memory, what a restart lost), `/healthz` and
//! `/readyz`. The listeners, the pusher and the start-up report into one
//! [`ReceiverTelemetry`]; values that live elsewhere (bytes in flight,
//! overflow totals, memory) are read when `/metrics` is scraped.

mod http;
mod metrics;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use otel_parity_runtime::auth::{AuthObserver, AuthOutcome};
use parking_lot::Mutex;
use prometheus_client::encoding::text::encode;

pub use self::http::router;
pub use self::metrics::{CAPS, ReceiverMetrics};
use crate::admission::InflightBudget;
use crate::{Fingerprinter, Signal};

/// The OTLP protocol a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP.
    Http,
}

impl Protocol {
    /// Both protocols.
    pub const ALL: [Protocol; 2] = [Protocol::Grpc, Protocol::Http];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::Http => "http",
        }
    }

    /// The listener's name in `otel_parity_auth_requests_total`.
    pub fn auth_listener(self) -> &'static str {
        match self {
            Protocol::Grpc => "otlp_grpc",
            Protocol::Http => "otlp_http",
        }
    }
}

/// Why a request (or an item) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not OTLP: bad protobuf, JSON, framing or compression
    /// (INVALID_ARGUMENT / 400).
    Malformed,
    /// Over the size limit, before or after decompression
    /// (RESOURCE_EXHAUSTED / 413).
    TooLarge,
    /// A content type or encoding the receiver does not take
    /// (UNIMPLEMENTED / 415).
    Unsupported,
    /// Over the budget of bytes in flight (UNAVAILABLE / 503, retryable).
    Overloaded,
    /// At the cap on gRPC calls in flight (UNAVAILABLE, retryable).
    Streams,
    /// An item left out of an accepted request (partial success).
    Invalid,
}

impl Refusal {
    /// The reasons a whole request is refused for.
    pub const REQUESTS: [Refusal; 5] = [
        Refusal::Malformed,
        Refusal::TooLarge,
        Refusal::Unsupported,
        Refusal::Overloaded,
        Refusal::Streams,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::TooLarge => "too_large",
            Refusal::Unsupported => "unsupported",
            Refusal::Overloaded => "overloaded",
            Refusal::Streams => "streams",
            Refusal::Invalid => "invalid",
        }
    }
}

/// What became of one push attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushResult {
    /// The analyzer acknowledged it (stored or already stored).
    Acknowledged,
    /// It failed and will be retried.
    Failed,
    /// The analyzer refused it as invalid; dropped.
    Invalid,
}

impl PushResult {
    /// Every result.
    pub const ALL: [PushResult; 3] = [
        PushResult::Acknowledged,
        PushResult::Failed,
        PushResult::Invalid,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            PushResult::Acknowledged => "acknowledged",
            PushResult::Failed => "failed",
            PushResult::Invalid => "invalid",
        }
    }
}

/// Everything the receiver tells about itself, shared by its tasks.
pub struct ReceiverTelemetry {
    metrics: ReceiverMetrics,
    engine: Arc<Fingerprinter>,
    budget: Arc<InflightBudget>,
    started: Instant,
    last_acknowledged: Mutex<Option<Instant>>,
    failing_since: Mutex<Option<Instant>>,
    listening: AtomicBool,
    stopping: AtomicBool,
    not_ready_after: Duration,
    refused_connections: [Arc<AtomicU64>; 2],
}

impl ReceiverTelemetry {
    /// Telemetry of a receiver with `engine` and `budget`; `/readyz` fails
    /// once pushes have failed for longer than `not_ready_after` (zero: never).
    pub fn new(
        engine: Arc<Fingerprinter>,
        budget: Arc<InflightBudget>,
        not_ready_after: Duration,
    ) -> Arc<Self> {
        Arc::new(ReceiverTelemetry {
            metrics: ReceiverMetrics::new(),
            engine,
            budget,
            started: Instant::now(),
            last_acknowledged: Mutex::new(None),
            failing_since: Mutex::new(None),
            listening: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            not_ready_after,
            refused_connections: Default::default(),
        })
    }

    /// The metric families, for the listeners and the pusher to count into.
    pub fn metrics(&self) -> &ReceiverMetrics {
        &self.metrics
    }

    /// The counter `serve` adds connections refused at the cap of `protocol` to.
    pub fn refused_connections(&self, protocol: Protocol) -> Arc<AtomicU64> {
        Arc::clone(&self.refused_connections[protocol as usize])
    }

    /// An observer counting bearer-token outcomes of `protocol`'s listener.
    pub fn auth_observer(self: &Arc<Self>, protocol: Protocol) -> AuthObserver {
        let listener = protocol.auth_listener();
        self.metrics.auth_listener(
            listener,
            &[
                AuthOutcome::Accepted,
                AuthOutcome::Missing,
                AuthOutcome::Malformed,
                AuthOutcome::Invalid,
            ]
            .map(AuthOutcome::as_str),
        );
        let telemetry = Arc::clone(self);
        Arc::new(move |outcome: AuthOutcome| telemetry.metrics.auth(listener, outcome.as_str()))
    }

    /// Records one push attempt; failures in a row start the clock of `/readyz`.
    pub fn push_attempt(&self, result: PushResult) {
        self.metrics.push_attempt(result);
        match result {
            PushResult::Failed => {
                self.failing_since.lock().get_or_insert_with(Instant::now);
            }
            PushResult::Acknowledged => {
                *self.last_acknowledged.lock() = Some(Instant::now());
                *self.failing_since.lock() = None;
            }
            PushResult::Invalid => *self.failing_since.lock() = None,
        }
    }

    /// Sets the pushes waiting to be acknowledged.
    pub fn set_pending_windows(&self, pending: usize) {
        self.metrics
            .pending_windows
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
    }

    /// The listeners are bound and serving.
    pub fn set_listening(&self) {
        self.listening.store(true, Ordering::Release);
    }

    /// The receiver is stopping: no longer ready.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// `Ok` while ready, else why not.
    pub fn readiness(&self) -> Result<(), String> {
        if self.stopping.load(Ordering::Acquire) {
            return Err("shutting down".into());
        }
        if !self.listening.load(Ordering::Acquire) {
            return Err("not listening yet".into());
        }
        if let Some(since) = *self.failing_since.lock() {
            let failing = since.elapsed();
            if !self.not_ready_after.is_zero() && failing > self.not_ready_after {
                return Err(format!(
                    "pushes to the analyzer have failed for {}s (telemetry.not_ready_after: {}s)",
                    failing.as_secs(),
                    self.not_ready_after.as_secs()
                ));
            }
        }
        Ok(())
    }

    /// The OpenMetrics text of every family, values read from their sources now.
    pub fn encode_openmetrics(&self) -> String {
        let metrics = &self.metrics;
        metrics
            .inflight_bytes
            .set(i64::try_from(self.budget.used()).unwrap_or(i64::MAX));
        metrics
            .inflight_limit
            .set(i64::try_from(self.budget.limit()).unwrap_or(i64::MAX));
        metrics
            .fingerprint_memory
            .set(i64::try_from(self.engine.memory_bytes()).unwrap_or(i64::MAX));
        metrics.set_overflow(&self.engine.overflow_totals());
        let since = (*self.last_acknowledged.lock()).unwrap_or(self.started);
        metrics.since_last_push.set(since.elapsed().as_secs_f64());
        for protocol in Protocol::ALL {
            let refused = self.refused_connections[protocol as usize].load(Ordering::Relaxed);
            metrics.set_refused_connections(protocol, refused);
        }
        let mut text = String::new();
        if encode(&mut text, &metrics.registry).is_err() {
            text.clear();
        }
        text
    }

    /// Reports what the previous run lost: `(requests, items)` per signal.
    pub fn set_restart_lost(&self, lost: [(u64, u64); 3]) {
        for signal in Signal::ALL {
            let (requests, items) = lost[signal.index()];
            self.metrics.set_restart_lost(signal, requests, items);
        }
    }

    /// Reports pushes of the previous run found in the state directory.
    pub fn set_recovered_pushes(&self, pushes: usize) {
        self.metrics
            .recovered_pushes
            .set(i64::try_from(pushes).unwrap_or(i64::MAX));
    }
}

#[cfg(test)]
mod tests;
