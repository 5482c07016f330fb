//! Parent→child edges between span operations, across services and requests.
//!
//! A child span is often exported before its parent (it ends first), so the
//! tracker remembers recent spans by id and children still waiting for their
//! parent, both in fixed-capacity maps that evict the oldest entry.

use std::hash::Hash;

use hashbrown::HashMap;

/// An operation of a service within one environment: indexes into the
/// environment's service list and that service's operation list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpRef {
    pub service: u32,
    pub operation: u32,
}

/// What edge tracking needs of one span.
#[derive(Debug, Clone, Copy)]
pub struct SpanRecord {
    pub span_id: u64,
    /// 0 when the span has no parent.
    pub parent_span_id: u64,
    pub op: OpRef,
}

/// Distinct child operations remembered per missing parent.
const WAITING_PER_PARENT: usize = 4;

#[derive(Debug, Clone, Copy, Default)]
struct WaitingChildren {
    ops: [(Option<OpRef>, u32); WAITING_PER_PARENT],
}

impl WaitingChildren {
    /// Adds a child; false when all slots hold other operations.
    fn push(&mut self, op: OpRef) -> bool {
        for slot in &mut self.ops {
            match slot.0 {
                Some(existing) if existing == op => {
                    slot.1 += 1;
                    return true;
                }
                None => {
                    *slot = (Some(op), 1);
                    return true;
                }
                Some(_) => {}
            }
        }
        false
    }
}

/// A map that holds at most `capacity` keys, evicting the oldest insert.
/// Its memory is reserved up front, so steady-state inserts do not allocate.
#[derive(Debug)]
struct FifoMap<K, V> {
    map: HashMap<K, V>,
    order: Vec<K>,
    next: usize,
    capacity: usize,
}

impl<K: Copy + Eq + Hash, V> FifoMap<K, V> {
    fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        FifoMap {
            map: HashMap::with_capacity(capacity),
            order: Vec::with_capacity(capacity),
            next: 0,
            capacity,
        }
    }

    fn insert(&mut self, key: K, value: V) {
        if self.map.insert(key, value).is_some() {
            return;
        }
        if self.order.len() < self.capacity {
            self.order.push(key);
        } else {
            let evicted = std::mem::replace(&mut self.order[self.next], key);
            self.next = (self.next + 1) % self.capacity;
            if evicted != key {
                self.map.remove(&evicted);
            }
        }
    }
}

/// Edges of one environment and the span memory that finds them.
#[derive(Debug)]
pub struct EdgeTracker {
    seen: FifoMap<u64, OpRef>,
    waiting: FifoMap<u64, WaitingChildren>,
    edges: HashMap<(OpRef, OpRef), u64>,
}

impl EdgeTracker {
    /// A tracker remembering up to `span_cache_size` spans and as many parents
    /// awaited.
    pub fn new(span_cache_size: usize) -> Self {
        EdgeTracker {
            seen: FifoMap::new(span_cache_size),
            waiting: FifoMap::new(span_cache_size),
            edges: HashMap::new(),
        }
    }

    /// Records the spans of one resource block; returns how many edge
    /// occurrences went over `max_edges` or the per-parent child slots.
    pub fn observe(&mut self, spans: &[SpanRecord], max_edges: usize) -> u64 {
        let mut overflow = 0;
        // Remember the whole block first: parents often come in the same batch
        // as their children, after them.
        for span in spans {
            self.seen.insert(span.span_id, span.op);
            if let Some(children) = self.waiting.map.remove(&span.span_id) {
                for (child, count) in children.ops {
                    if let Some(child) = child {
                        overflow += self.add_edge(span.op, child, u64::from(count), max_edges);
                    }
                }
            }
        }
        for span in spans.iter().filter(|s| s.parent_span_id != 0) {
            if let Some(parent) = self.seen.map.get(&span.parent_span_id).copied() {
                overflow += self.add_edge(parent, span.op, 1, max_edges);
            } else if let Some(waiting) = self.waiting.map.get_mut(&span.parent_span_id) {
                if !waiting.push(span.op) {
                    overflow += 1;
                }
            } else {
                let mut waiting = WaitingChildren::default();
                waiting.push(span.op);
                self.waiting.insert(span.parent_span_id, waiting);
            }
        }
        overflow
    }

    fn add_edge(&mut self, parent: OpRef, child: OpRef, count: u64, max_edges: usize) -> u64 {
        let full = self.edges.len() >= max_edges;
        match self.edges.get_mut(&(parent, child)) {
            Some(n) => *n += count,
            None if full => return count,
            None => {
                self.edges.insert((parent, child), count);
            }
        }
        0
    }

    /// Edges found so far, as (parent, child, count).
    pub fn edges(&self) -> impl Iterator<Item = (OpRef, OpRef, u64)> + '_ {
        self.edges.iter().map(|((p, c), n)| (*p, *c, *n))
    }

    /// Heap bytes reserved for span memory and edges.
    pub fn memory_bytes(&self) -> usize {
        let entry = std::mem::size_of::<u64>() * 2;
        self.seen.map.capacity() * (entry + std::mem::size_of::<OpRef>())
            + self.waiting.map.capacity() * (entry + std::mem::size_of::<WaitingChildren>())
            + self.edges.capacity() * (std::mem::size_of::<(OpRef, OpRef)>() + 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: OpRef = OpRef {
        service: 0,
        operation: 0,
    };
    const DB: OpRef = OpRef {
        service: 0,
        operation: 1,
    };
    const REMOTE: OpRef = OpRef {
        service: 1,
        operation: 0,
    };

    fn span(span_id: u64, parent_span_id: u64, op: OpRef) -> SpanRecord {
        SpanRecord {
            span_id,
            parent_span_id,
            op,
        }
    }

    fn edge_count(t: &EdgeTracker, parent: OpRef, child: OpRef) -> u64 {
        t.edges()
            .find(|(p, c, _)| *p == parent && *c == child)
            .map_or(0, |e| e.2)
    }

    #[test]
    fn child_exported_before_its_parent_still_makes_an_edge() {
        let mut t = EdgeTracker::new(16);
        assert_eq!(t.observe(&[span(2, 1, DB), span(3, 1, DB)], 100), 0);
        assert_eq!(edge_count(&t, SERVER, DB), 0);
        t.observe(&[span(1, 0, SERVER)], 100);
        assert_eq!(edge_count(&t, SERVER, DB), 2);
    }

    #[test]
    fn parent_in_the_same_batch_after_the_child_is_found() {
        let mut t = EdgeTracker::new(16);
        t.observe(&[span(2, 1, REMOTE), span(1, 0, SERVER)], 100);
        assert_eq!(edge_count(&t, SERVER, REMOTE), 1);
    }

    #[test]
    fn span_memory_is_bounded_and_forgets_the_oldest() {
        let mut t = EdgeTracker::new(4);
        t.observe(&[span(1, 0, SERVER)], 100);
        t.observe(
            &[
                span(10, 0, DB),
                span(11, 0, DB),
                span(12, 0, DB),
                span(13, 0, DB),
            ],
            100,
        );
        t.observe(&[span(2, 1, DB)], 100);
        assert_eq!(edge_count(&t, SERVER, DB), 0);
        assert_eq!(t.seen.map.len(), 4);
    }

    #[test]
    fn edges_over_the_cap_are_counted_not_kept() {
        let mut t = EdgeTracker::new(16);
        let overflow = t.observe(&[span(1, 0, SERVER), span(2, 1, DB), span(3, 1, REMOTE)], 1);
        assert_eq!(overflow, 1);
        assert_eq!(t.edges().count(), 1);
    }
}
