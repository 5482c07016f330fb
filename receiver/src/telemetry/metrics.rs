//! The receiver's metric families (`otel_parity_receiver_*`, and
//! `otel_parity_auth_requests_total` as the analyzer names it), registered
//! with every label value known up front so that each series starts at 0.

use std::sync::atomic::AtomicU64;

use otel_parity_proto::v1 as pb;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Metric, Registry};

use super::{Protocol, PushResult, Refusal};
use crate::Signal;

type FloatGauge = Gauge<f64, AtomicU64>;

/// Labels of a request's or item's signal and protocol.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IntakeLabels {
    signal: &'static str,
    protocol: &'static str,
}

/// Labels of a refusal.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    signal: &'static str,
    protocol: &'static str,
    reason: &'static str,
}

/// Labels of one label: `protocol`, `result`, `reason`, `cap` or `signal`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProtocolLabel {
    protocol: &'static str,
}

/// `result` of push attempts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    result: &'static str,
}

/// `reason` of dropped pushes.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    reason: &'static str,
}

/// `cap` of overflow counts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CapLabel {
    cap: &'static str,
}

/// `signal` of what a restart lost.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignalLabel {
    signal: &'static str,
}

/// Labels of bearer-token outcomes, as the analyzer's.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    listener: &'static str,
    result: &'static str,
}

/// Why items went over a cap: the fields of `parity.v1.Overflow`.
pub const CAPS: [&str; 13] = [
    "environments",
    "services",
    "metric_names",
    "span_operations",
    "attribute_keys",
    "allowed_values",
    "event_names",
    "bucket_layouts",
    "units",
    "scopes",
    "edges",
    "request_series",
    "span_cache",
];

fn overflow_counts(overflow: &pb::Overflow) -> [u64; 13] {
    [
        overflow.environments,
        overflow.services,
        overflow.metric_names,
        overflow.span_operations,
        overflow.attribute_keys,
        overflow.allowed_values,
        overflow.event_names,
        overflow.bucket_layouts,
        overflow.units,
        overflow.scopes,
        overflow.edges,
        overflow.request_series,
        overflow.span_cache,
    ]
}

/// Every family, and the registry that encodes them.
pub struct ReceiverMetrics {
    pub(super) registry: Registry,
    accepted_requests: Family<IntakeLabels, Counter>,
    refused_requests: Family<RefusalLabels, Counter>,
    accepted_items: Family<IntakeLabels, Counter>,
    refused_items: Family<RefusalLabels, Counter>,
    wire_bytes: Family<IntakeLabels, Counter>,
    decoded_bytes: Family<IntakeLabels, Counter>,
    pub(super) refused_connections: Family<ProtocolLabel, Counter>,
    pub(super) inflight_bytes: Gauge,
    pub(super) inflight_limit: Gauge,
    push_attempts: Family<ResultLabel, Counter>,
    push_dropped: Family<ReasonLabel, Counter>,
    pub(super) pending_windows: Gauge,
    pub(super) since_last_push: FloatGauge,
    pub(super) overflow: Family<CapLabel, Counter>,
    pub(super) fingerprint_memory: Gauge,
    pub(super) restart_lost_items: Family<SignalLabel, Gauge>,
    pub(super) restart_lost_requests: Family<SignalLabel, Gauge>,
    pub(super) recovered_pushes: Gauge,
    auth: Family<AuthLabels, Counter>,
}

impl ReceiverMetrics {
    /// The families, registered, every known series at 0.
    pub fn new() -> Self {
        let metrics = ReceiverMetrics {
            registry: Registry::default(),
            accepted_requests: Family::default(),
            refused_requests: Family::default(),
            accepted_items: Family::default(),
            refused_items: Family::default(),
            wire_bytes: Family::default(),
            decoded_bytes: Family::default(),
            refused_connections: Family::default(),
            inflight_bytes: Gauge::default(),
            inflight_limit: Gauge::default(),
            push_attempts: Family::default(),
            push_dropped: Family::default(),
            pending_windows: Gauge::default(),
            since_last_push: FloatGauge::default(),
            overflow: Family::default(),
            fingerprint_memory: Gauge::default(),
            restart_lost_items: Family::default(),
            restart_lost_requests: Family::default(),
            recovered_pushes: Gauge::default(),
            auth: Family::default(),
        };
        for signal in Signal::ALL {
            for protocol in Protocol::ALL {
                let intake = intake(signal, protocol);
                for family in [
                    &metrics.accepted_requests,
                    &metrics.accepted_items,
                    &metrics.wire_bytes,
                    &metrics.decoded_bytes,
                ] {
                    let _ = family.get_or_create(&intake);
                }
                for reason in Refusal::REQUESTS {
                    let _ = metrics
                        .refused_requests
                        .get_or_create(&refusal(signal, protocol, reason));
                }
                let _ = metrics.refused_items.get_or_create(&refusal(
                    signal,
                    protocol,
                    Refusal::Invalid,
                ));
            }
            let label = SignalLabel {
                signal: signal.as_str(),
            };
            let _ = metrics.restart_lost_items.get_or_create(&label);
            let _ = metrics.restart_lost_requests.get_or_create(&label);
        }
        for protocol in Protocol::ALL {
            let _ = metrics.refused_connections.get_or_create(&ProtocolLabel {
                protocol: protocol.as_str(),
            });
        }
        for result in PushResult::ALL {
            let _ = metrics.push_attempts.get_or_create(&ResultLabel {
                result: result.as_str(),
            });
        }
        for reason in ["queue_full", "invalid"] {
            let _ = metrics.push_dropped.get_or_create(&ReasonLabel { reason });
        }
        for cap in CAPS {
            let _ = metrics.overflow.get_or_create(&CapLabel { cap });
        }
        metrics.registered()
    }

    fn registered(self) -> Self {
        let mut registry = Registry::with_prefix("otel_parity");
        receiver(
            &mut registry,
            "accepted_requests",
            "OTLP export requests accepted, by signal and protocol (grpc, http)",
            self.accepted_requests.clone(),
        );
        receiver(
            &mut registry,
            "refused_requests",
            "OTLP export requests refused whole, by signal, protocol and reason (malformed, too_large, unsupported, overloaded: the admission budget, streams: the cap on gRPC calls in flight)",
            self.refused_requests.clone(),
        );
        receiver(
            &mut registry,
            "accepted_items",
            "Spans, data points and log records fingerprinted (or counted into an overflow bucket), by signal and protocol",
            self.accepted_items.clone(),
        );
        receiver(
            &mut registry,
            "refused_items",
            "Items left out of accepted requests as invalid (OTLP partial_success), by signal, protocol and reason",
            self.refused_items.clone(),
        );
        receiver(
            &mut registry,
            "wire_bytes",
            "Request bytes received on the wire (compressed as sent), by signal and protocol",
            self.wire_bytes.clone(),
        );
        receiver(
            &mut registry,
            "decoded_bytes",
            "Bytes of accepted requests after decompression, by signal and protocol",
            self.decoded_bytes.clone(),
        );
        receiver(
            &mut registry,
            "refused_connections",
            "Connections closed at once because connections.max were open, by protocol",
            self.refused_connections.clone(),
        );
        receiver(
            &mut registry,
            "inflight_bytes",
            "Request bytes in flight (decompressed), reserved against the admission budget",
            self.inflight_bytes.clone(),
        );
        receiver(
            &mut registry,
            "inflight_bytes_limit",
            "The admission budget of request bytes in flight",
            self.inflight_limit.clone(),
        );
        receiver(
            &mut registry,
            "push_attempts",
            "Pushes to the analyzer by result (acknowledged, failed: retried, invalid: refused and dropped)",
            self.push_attempts.clone(),
        );
        receiver(
            &mut registry,
            "push_dropped",
            "Pushes dropped by reason (queue_full: past push.max_pending_windows, invalid: refused by the analyzer)",
            self.push_dropped.clone(),
        );
        receiver(
            &mut registry,
            "push_pending_windows",
            "Pushes (one per environment and window) ended and not yet acknowledged",
            self.pending_windows.clone(),
        );
        receiver(
            &mut registry,
            "seconds_since_last_acknowledged_push",
            "Seconds since the analyzer last acknowledged a push (since the start before the first)",
            self.since_last_push.clone(),
        );
        receiver(
            &mut registry,
            "overflow",
            "Items (or keys, values, edges) counted into an overflow bucket because a limit was reached, by cap",
            self.overflow.clone(),
        );
        receiver(
            &mut registry,
            "fingerprint_memory_bytes",
            "Heap bytes held by the current window's sketches and span memory",
            self.fingerprint_memory.clone(),
        );
        receiver(
            &mut registry,
            "restart_lost_items",
            "Items the previous run accepted in its last window and never pushed (it stopped without pushing it), by signal",
            self.restart_lost_items.clone(),
        );
        receiver(
            &mut registry,
            "restart_lost_requests",
            "Requests the previous run accepted in its last window and never pushed, by signal",
            self.restart_lost_requests.clone(),
        );
        receiver(
            &mut registry,
            "restart_recovered_pushes",
            "Pushes the previous run left unacknowledged, found in state_dir at the start and sent again",
            self.recovered_pushes.clone(),
        );
        registry.register(
            "auth_requests",
            "Requests judged by bearer-token authentication, by listener (otlp_grpc, otlp_http) and result (accepted, missing, malformed, invalid); only where tokens are configured",
            self.auth.clone(),
        );
        ReceiverMetrics { registry, ..self }
    }

    /// Counts one accepted request.
    pub fn accepted(
        &self,
        signal: Signal,
        protocol: Protocol,
        items: u64,
        rejected: u64,
        wire: u64,
        decoded: u64,
    ) {
        let labels = intake(signal, protocol);
        self.accepted_requests.get_or_create(&labels).inc();
        self.accepted_items.get_or_create(&labels).inc_by(items);
        self.wire_bytes.get_or_create(&labels).inc_by(wire);
        self.decoded_bytes.get_or_create(&labels).inc_by(decoded);
        if rejected > 0 {
            self.refused_items
                .get_or_create(&refusal(signal, protocol, Refusal::Invalid))
                .inc_by(rejected);
        }
    }

    /// Counts one refused request and the bytes read of it.
    pub fn refused(&self, signal: Signal, protocol: Protocol, reason: Refusal, wire: u64) {
        self.refused_requests
            .get_or_create(&refusal(signal, protocol, reason))
            .inc();
        self.wire_bytes
            .get_or_create(&intake(signal, protocol))
            .inc_by(wire);
    }

    /// Counts one push attempt.
    pub fn push_attempt(&self, result: PushResult) {
        self.push_attempts
            .get_or_create(&ResultLabel {
                result: result.as_str(),
            })
            .inc();
    }

    /// Counts dropped pushes.
    pub fn push_dropped(&self, reason: &'static str, pushes: u64) {
        self.push_dropped
            .get_or_create(&ReasonLabel { reason })
            .inc_by(pushes);
    }

    /// Counts one bearer-token outcome on `listener`, every result of it at 0 first.
    pub fn auth(&self, listener: &'static str, result: &'static str) {
        self.auth
            .get_or_create(&AuthLabels { listener, result })
            .inc();
    }

    /// Registers `listener`'s auth series at 0.
    pub fn auth_listener(&self, listener: &'static str, results: &[&'static str]) {
        for result in results {
            let _ = self.auth.get_or_create(&AuthLabels { listener, result });
        }
    }

    /// Sets the overflow counters to the engine's lifetime totals.
    pub fn set_overflow(&self, totals: &pb::Overflow) {
        for (cap, count) in CAPS.into_iter().zip(overflow_counts(totals)) {
            let counter = self.overflow.get_or_create(&CapLabel { cap });
            counter
                .inner()
                .store(count, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Sets the connections refused at `protocol`'s cap.
    pub fn set_refused_connections(&self, protocol: Protocol, refused: u64) {
        self.refused_connections
            .get_or_create(&ProtocolLabel {
                protocol: protocol.as_str(),
            })
            .inner()
            .store(refused, std::sync::atomic::Ordering::Relaxed);
    }

    /// Sets what the previous run lost, per signal.
    pub fn set_restart_lost(&self, signal: Signal, requests: u64, items: u64) {
        let label = SignalLabel {
            signal: signal.as_str(),
        };
        self.restart_lost_items
            .get_or_create(&label)
            .set(i64::try_from(items).unwrap_or(i64::MAX));
        self.restart_lost_requests
            .get_or_create(&label)
            .set(i64::try_from(requests).unwrap_or(i64::MAX));
    }
}

impl Default for ReceiverMetrics {
    fn default() -> Self {
        ReceiverMetrics::new()
    }
}

/// Registers `metric` as `otel_parity_receiver_<name>`.
fn receiver(registry: &mut Registry, name: &str, help: &str, metric: impl Metric) {
    registry.register(format!("receiver_{name}"), help, metric);
}

fn intake(signal: Signal, protocol: Protocol) -> IntakeLabels {
    IntakeLabels {
        signal: signal.as_str(),
        protocol: protocol.as_str(),
    }
}

fn refusal(signal: Signal, protocol: Protocol, reason: Refusal) -> RefusalLabels {
    RefusalLabels {
        signal: signal.as_str(),
        protocol: protocol.as_str(),
        reason: reason.as_str(),
    }
}
