//! One environment's services and operation edges.

use std::sync::Arc;

use hashbrown::HashMap;
use otel_parity_model::merge::merge_overflow_counts;
use otel_parity_proto::v1 as pb;
use parking_lot::{Mutex, RwLock};
use xxhash_rust::xxh3::Xxh3;

use super::edges::{EdgeTracker, SpanRecord};
use super::metrics::CumulativeCounts;
use super::resource::service_key;
use super::service::ServiceState;
use crate::limits::Limits;

/// A service's slot in its environment.
#[derive(Debug)]
struct ServiceSlot {
    namespace: Box<str>,
    name: Box<str>,
    state: Arc<Mutex<ServiceState>>,
}

#[derive(Debug, Default)]
struct ServiceIndex {
    by_hash: HashMap<u64, u32>,
    slots: Vec<ServiceSlot>,
}

/// What an environment remembers across windows: each service's cumulative
/// request counts.
#[derive(Debug, Default)]
pub struct EnvironmentMemory {
    cumulative: Mutex<HashMap<u64, Arc<CumulativeCounts>>>,
}

impl EnvironmentMemory {
    /// The cumulative counts of the service with identity `hash`; a fresh,
    /// unshared set past `max_services` remembered services.
    fn cumulative(&self, hash: u64, limits: &Limits) -> Arc<CumulativeCounts> {
        let mut services = self.cumulative.lock();
        if let Some(counts) = services.get(&hash) {
            return Arc::clone(counts);
        }
        let counts = Arc::new(CumulativeCounts::default());
        if services.len() < limits.max_services {
            services.insert(hash, Arc::clone(&counts));
        }
        counts
    }
}

/// Fingerprint state of one environment over one window.
#[derive(Debug, Default)]
pub struct Environment {
    memory: Arc<EnvironmentMemory>,
    services: RwLock<ServiceIndex>,
    edges: Mutex<Option<EdgeTracker>>,
    overflow: Mutex<pb::Overflow>,
}

fn identity_hash(namespace: &str, name: &str) -> u64 {
    let mut hasher = Xxh3::new();
    hasher.update(namespace.as_bytes());
    hasher.update(&[0]);
    hasher.update(name.as_bytes());
    hasher.digest()
}

impl Environment {
    /// A new window's state of an environment that remembers `memory`.
    pub fn continuing(memory: Arc<EnvironmentMemory>) -> Self {
        Environment {
            memory,
            ..Environment::default()
        }
    }

    /// The slot and state of service `namespace`/`name`, created while the
    /// environment holds fewer than `limits.max_services`.
    pub fn service(
        &self,
        namespace: &str,
        name: &str,
        limits: &Limits,
    ) -> Option<(u32, Arc<Mutex<ServiceState>>)> {
        let hash = identity_hash(namespace, name);
        let matches = |slot: &ServiceSlot| &*slot.namespace == namespace && &*slot.name == name;
        {
            let index = self.services.read();
            if let Some(&i) = index.by_hash.get(&hash) {
                let slot = &index.slots[i as usize];
                // A 64-bit collision between two names goes to overflow.
                return matches(slot).then(|| (i, Arc::clone(&slot.state)));
            }
        }
        let mut index = self.services.write();
        if let Some(&i) = index.by_hash.get(&hash) {
            let slot = &index.slots[i as usize];
            return matches(slot).then(|| (i, Arc::clone(&slot.state)));
        }
        if index.slots.len() >= limits.max_services {
            return None;
        }
        let i = index.slots.len() as u32;
        let cumulative = self.memory.cumulative(hash, limits);
        let state = Arc::new(Mutex::new(ServiceState::new(namespace, name, cumulative)));
        index.slots.push(ServiceSlot {
            namespace: namespace.into(),
            name: name.into(),
            state: Arc::clone(&state),
        });
        index.by_hash.insert(hash, i);
        Some((i, state))
    }

    /// Counts items not fingerprinted because the services cap was reached.
    pub fn overflow_services(&self, items: u64) {
        self.overflow.lock().services += items;
    }

    /// Records the spans of one resource block for edge finding.
    pub fn observe_spans(&self, spans: &[SpanRecord], limits: &Limits) {
        if spans.is_empty() {
            return;
        }
        let mut edges = self.edges.lock();
        let tracker = edges.get_or_insert_with(|| EdgeTracker::new(limits.span_cache_size));
        let overflow = tracker.observe(spans, limits.max_edges);
        if overflow > 0 {
            self.overflow.lock().edges += overflow;
        }
    }

    /// What this environment counted into overflow buckets: its own caps'
    /// and every service's.
    pub fn overflow_totals(&self) -> pb::Overflow {
        let mut totals = *self.overflow.lock();
        for slot in &self.services.read().slots {
            merge_overflow_counts(&mut totals, &slot.state.lock().overflow());
        }
        totals
    }

    /// Heap bytes held by this environment's sketches and span memory.
    pub fn memory_bytes(&self) -> usize {
        let services: usize = self
            .services
            .read()
            .slots
            .iter()
            .map(|s| s.state.lock().memory_bytes())
            .sum();
        services
            + self
                .edges
                .lock()
                .as_ref()
                .map_or(0, EdgeTracker::memory_bytes)
    }

    /// The snapshot form.
    pub fn to_proto(&self) -> pb::EnvironmentFingerprint {
        let index = self.services.read();
        let states: Vec<_> = index.slots.iter().map(|slot| slot.state.lock()).collect();
        let mut edges: Vec<Vec<pb::OperationEdge>> = vec![Vec::new(); states.len()];
        if let Some(tracker) = self.edges.lock().as_ref() {
            for (parent, child, count) in tracker.edges() {
                let (Some(parent_state), Some(child_state)) = (
                    states.get(parent.service as usize),
                    states.get(child.service as usize),
                ) else {
                    continue;
                };
                let (Some((parent_name, parent_kind)), Some((child_name, child_kind))) = (
                    parent_state.traces.operation_name(parent.operation),
                    child_state.traces.operation_name(child.operation),
                ) else {
                    continue;
                };
                edges[child.service as usize].push(pb::OperationEdge {
                    parent_service: service_key(&parent_state.namespace, &parent_state.name),
                    parent_operation: parent_name.to_owned(),
                    parent_kind: parent_kind as i32,
                    child_operation: child_name.to_owned(),
                    child_kind: child_kind as i32,
                    count,
                });
            }
        }
        let services = states
            .iter()
            .zip(edges)
            .map(|(state, mut edges)| {
                edges.sort_by(|a, b| {
                    (
                        &a.parent_service,
                        &a.parent_operation,
                        a.parent_kind,
                        &a.child_operation,
                        a.child_kind,
                    )
                        .cmp(&(
                            &b.parent_service,
                            &b.parent_operation,
                            b.parent_kind,
                            &b.child_operation,
                            b.child_kind,
                        ))
                });
                (
                    service_key(&state.namespace, &state.name),
                    state.to_proto(edges),
                )
            })
            .collect();
        pb::EnvironmentFingerprint {
            services,
            overflow: Some(*self.overflow.lock()),
        }
    }
}
