//! One environment's services and operation edges.

use std::collections::BTreeMap;
use std::sync::Arc;

use hashbrown::HashMap;
use otel_parity_model::merge::merge_overflow_counts;
use otel_parity_proto::v1 as pb;
use parking_lot::{Mutex, RwLock};
use xxhash_rust::xxh3::Xxh3;

use super::edges::{Carried, EdgeTracker, NamedOp, Node, SpanRecord};
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
/// request counts, and the span memory the last window with spans carried
/// over for edges that straddle the boundary.
#[derive(Debug, Default)]
pub struct EnvironmentMemory {
    cumulative: Mutex<HashMap<u64, Arc<CumulativeCounts>>>,
    carried: Mutex<Option<Carried>>,
}

impl EnvironmentMemory {
    /// Takes what the last window carried over (once: one window continues it).
    fn take_carried(&self) -> Carried {
        self.carried.lock().take().unwrap_or_default()
    }

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
        let tracker = edges.get_or_insert_with(|| {
            EdgeTracker::new(limits.span_cache_size, self.memory.take_carried())
        });
        let overflow = tracker.observe(spans, limits.max_edges);
        if overflow.edges > 0 || overflow.span_cache > 0 {
            let mut counted = self.overflow.lock();
            counted.edges += overflow.edges;
            counted.span_cache += overflow.span_cache;
        }
    }

    /// Ends this environment's window: what its span memory holds is carried,
    /// by operation name, into the next window's. An environment without
    /// spans this window leaves the previous carry in place.
    pub fn carry_over(&self) {
        let edges = self.edges.lock();
        let Some(tracker) = edges.as_ref() else {
            return;
        };
        let index = self.services.read();
        let carried = tracker.carry(|op| {
            let slot = index.slots.get(op.service as usize)?;
            let state = slot.state.lock();
            let (name, kind) = state.traces.operation_name(op.operation)?;
            Some(NamedOp {
                namespace: slot.namespace.clone(),
                service: slot.name.clone(),
                name: name.into(),
                kind,
            })
        });
        *self.memory.carried.lock() = Some(carried);
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
        // Incoming edges per child service key (a child carried from the previous
        // window may belong to a service without telemetry in this one).
        let mut edges: BTreeMap<String, ServiceEdges> = BTreeMap::new();
        if let Some(tracker) = self.edges.lock().as_ref() {
            let named = |node: Node| -> Option<(String, ServiceName, String, pb::SpanKind)> {
                match node {
                    Node::Here(op) => {
                        let state = states.get(op.service as usize)?;
                        let (name, kind) = state.traces.operation_name(op.operation)?;
                        let service = (state.namespace.to_string(), state.name.to_string());
                        let key = service_key(&service.0, &service.1);
                        Some((key, service, name.to_owned(), kind))
                    }
                    Node::Before(i) => {
                        let op = tracker.carried_op(i)?;
                        let service = (op.namespace.to_string(), op.service.to_string());
                        let key = service_key(&service.0, &service.1);
                        Some((key, service, op.name.to_string(), op.kind))
                    }
                }
            };
            for (parent, child, count) in tracker.edges() {
                let (Some((parent_key, _, parent_name, parent_kind)), Some(child)) =
                    (named(parent), named(child))
                else {
                    continue;
                };
                let (child_key, child_service, child_name, child_kind) = child;
                let entry = edges.entry(child_key).or_insert_with(|| ServiceEdges {
                    service: child_service,
                    edges: Vec::new(),
                });
                entry.edges.push(pb::OperationEdge {
                    parent_service: parent_key,
                    parent_operation: parent_name,
                    parent_kind: parent_kind as i32,
                    child_operation: child_name,
                    child_kind: child_kind as i32,
                    count,
                });
            }
        }
        let mut services: BTreeMap<String, pb::ServiceFingerprint> = states
            .iter()
            .map(|state| {
                let key = service_key(&state.namespace, &state.name);
                let incoming = edges.remove(&key).map(|e| e.edges).unwrap_or_default();
                let proto = state.to_proto(sorted_edges(incoming));
                (key, proto)
            })
            .collect();
        // Edges into services that sent nothing this window (their child spans
        // arrived in the previous one).
        for (key, rest) in edges {
            services.insert(
                key,
                pb::ServiceFingerprint {
                    namespace: rest.service.0,
                    name: rest.service.1,
                    edges: sorted_edges(rest.edges),
                    ..Default::default()
                },
            );
        }
        pb::EnvironmentFingerprint {
            services,
            overflow: Some(*self.overflow.lock()),
        }
    }
}

/// (namespace, name) of a service.
type ServiceName = (String, String);

/// The incoming edges of one service, before they join its fingerprint.
struct ServiceEdges {
    service: ServiceName,
    edges: Vec<pb::OperationEdge>,
}

/// Edges sorted as the snapshot lists them, the same edge found both within
/// the window and across its start counted once.
fn sorted_edges(mut edges: Vec<pb::OperationEdge>) -> Vec<pb::OperationEdge> {
    let key = |e: &pb::OperationEdge| {
        (
            e.parent_service.clone(),
            e.parent_operation.clone(),
            e.parent_kind,
            e.child_operation.clone(),
            e.child_kind,
        )
    };
    edges.sort_by_key(key);
    let mut merged: Vec<pb::OperationEdge> = Vec::with_capacity(edges.len());
    for edge in edges {
        match merged.last_mut() {
            Some(last) if key(last) == key(&edge) => last.count += edge.count,
            _ => merged.push(edge),
        }
    }
    merged
}
