//! Parent→child edges between span operations, across services, requests
//! and windows.
//!
//! A child span is often exported before its parent (it ends first), so the
//! tracker remembers recent spans by id and children still waiting for their
//! parent, both in fixed-capacity maps that evict the oldest entry. When a
//! window ends, what it remembers is carried into the next one ([`Carried`],
//! operations by name, since operation indices are per window): a child whose
//! parent arrives in the next window, or a parent whose late child does, is
//! still linked. Carried entries live one window; waiting children evicted
//! for lack of room before their window ended are counted.

use std::hash::Hash;

use hashbrown::HashMap;
use otel_parity_proto::v1 as pb;

/// An operation of a service within one environment: indexes into the
/// environment's service list and that service's operation list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpRef {
    pub service: u32,
    pub operation: u32,
}

/// One end of an edge: an operation of this window, or one of the previous
/// window's (an index into [`Carried::ops`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Node {
    /// An operation of this window.
    Here(OpRef),
    /// An operation of the previous window.
    Before(u32),
}

/// What edge tracking needs of one span.
#[derive(Debug, Clone, Copy)]
pub struct SpanRecord {
    pub span_id: u64,
    /// 0 when the span has no parent.
    pub parent_span_id: u64,
    pub op: OpRef,
}

/// An operation by name, as carried from one window into the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedOp {
    /// `service.namespace` of its service.
    pub namespace: Box<str>,
    /// `service.name` of its service.
    pub service: Box<str>,
    /// The span name.
    pub name: Box<str>,
    /// The span kind.
    pub kind: pb::SpanKind,
}

/// Distinct child operations remembered per missing parent.
const WAITING_PER_PARENT: usize = 4;

#[derive(Debug, Clone, Copy)]
struct WaitingChildren<T> {
    ops: [(Option<T>, u32); WAITING_PER_PARENT],
}

impl<T: Copy + Eq> WaitingChildren<T> {
    fn new() -> Self {
        WaitingChildren {
            ops: [(None, 0); WAITING_PER_PARENT],
        }
    }

    /// Adds a child; false when all slots hold other operations.
    fn push(&mut self, op: T) -> bool {
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

    /// Adds `count` children of `op`; false when all slots hold other operations.
    fn add(&mut self, op: T, count: u32) -> bool {
        if !self.push(op) {
            return false;
        }
        if let Some(slot) = self.ops.iter_mut().find(|(o, _)| *o == Some(op)) {
            slot.1 += count.saturating_sub(1);
        }
        true
    }

    /// Children waiting, counted per span.
    fn count(&self) -> u64 {
        self.ops.iter().map(|(_, n)| u64::from(*n)).sum()
    }

    fn children(&self) -> impl Iterator<Item = (T, u64)> + '_ {
        self.ops
            .iter()
            .filter_map(|(op, n)| op.map(|op| (op, u64::from(*n))))
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

    /// Inserts; returns the value evicted to make room, if any.
    fn insert(&mut self, key: K, value: V) -> Option<V> {
        if self.map.insert(key, value).is_some() {
            return None;
        }
        if self.order.len() < self.capacity {
            self.order.push(key);
            return None;
        }
        let evicted = std::mem::replace(&mut self.order[self.next], key);
        self.next = (self.next + 1) % self.capacity;
        if evicted == key {
            return None;
        }
        self.map.remove(&evicted)
    }
}

/// What one window remembers of its spans, by operation name, for the next.
#[derive(Debug, Default)]
pub struct Carried {
    /// The operations the entries below refer to.
    ops: Vec<NamedOp>,
    /// Span id → operation, for children that arrive late.
    seen: HashMap<u64, u32>,
    /// Missing parent id → its waiting children.
    waiting: HashMap<u64, WaitingChildren<u32>>,
}

impl Carried {
    /// Heap bytes reserved.
    fn memory_bytes(&self) -> usize {
        self.seen.capacity() * (8 + 4)
            + self.waiting.capacity() * (8 + std::mem::size_of::<WaitingChildren<u32>>())
            + self.ops.capacity() * std::mem::size_of::<NamedOp>()
    }
}

/// Edge occurrences a batch of spans could not record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EdgeOverflow {
    /// Over `max_edges` or the per-parent child slots.
    pub edges: u64,
    /// Waiting children evicted from the span memory within their window.
    pub span_cache: u64,
}

/// Edges of one environment over one window and the span memory that finds
/// them, with what the previous window carried over.
#[derive(Debug)]
pub struct EdgeTracker {
    seen: FifoMap<u64, OpRef>,
    waiting: FifoMap<u64, WaitingChildren<OpRef>>,
    edges: HashMap<(Node, Node), u64>,
    previous: Carried,
}

impl EdgeTracker {
    /// A tracker remembering up to `span_cache_size` spans and as many parents
    /// awaited, continuing what the previous window `carried`.
    pub fn new(span_cache_size: usize, carried: Carried) -> Self {
        EdgeTracker {
            seen: FifoMap::new(span_cache_size),
            waiting: FifoMap::new(span_cache_size),
            edges: HashMap::new(),
            previous: carried,
        }
    }

    /// Records the spans of one resource block.
    pub fn observe(&mut self, spans: &[SpanRecord], max_edges: usize) -> EdgeOverflow {
        let mut overflow = EdgeOverflow::default();
        // Remember the whole block first: parents often come in the same batch
        // as their children, after them.
        for span in spans {
            self.seen.insert(span.span_id, span.op);
            let parent = Node::Here(span.op);
            if let Some(children) = self.waiting.map.remove(&span.span_id) {
                for (child, count) in children.children() {
                    overflow.edges += self.add_edge(parent, Node::Here(child), count, max_edges);
                }
            }
            if !self.previous.waiting.is_empty()
                && let Some(children) = self.previous.waiting.remove(&span.span_id)
            {
                for (child, count) in children.children() {
                    overflow.edges += self.add_edge(parent, Node::Before(child), count, max_edges);
                }
            }
        }
        for span in spans.iter().filter(|s| s.parent_span_id != 0) {
            let child = Node::Here(span.op);
            if let Some(parent) = self.seen.map.get(&span.parent_span_id).copied() {
                overflow.edges += self.add_edge(Node::Here(parent), child, 1, max_edges);
            } else if let Some(parent) = self.previous.seen.get(&span.parent_span_id).copied() {
                overflow.edges += self.add_edge(Node::Before(parent), child, 1, max_edges);
            } else if let Some(waiting) = self.waiting.map.get_mut(&span.parent_span_id) {
                if !waiting.push(span.op) {
                    overflow.edges += 1;
                }
            } else {
                let mut waiting = WaitingChildren::new();
                waiting.push(span.op);
                if let Some(evicted) = self.waiting.insert(span.parent_span_id, waiting) {
                    overflow.span_cache += evicted.count();
                }
            }
        }
        overflow
    }

    fn add_edge(&mut self, parent: Node, child: Node, count: u64, max_edges: usize) -> u64 {
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
    pub fn edges(&self) -> impl Iterator<Item = (Node, Node, u64)> + '_ {
        self.edges.iter().map(|((p, c), n)| (*p, *c, *n))
    }

    /// The previous window's operation `index`.
    pub fn carried_op(&self, index: u32) -> Option<&NamedOp> {
        self.previous.ops.get(index as usize)
    }

    /// What this window remembers, by operation name (`name_of`), for the
    /// next window. What it carried from the previous one is not carried
    /// again: entries live one window boundary.
    pub fn carry(&self, name_of: impl Fn(OpRef) -> Option<NamedOp>) -> Carried {
        let mut carried = Carried::default();
        let mut index: HashMap<OpRef, Option<u32>> = HashMap::new();
        let mut intern = |op: OpRef, carried: &mut Carried| -> Option<u32> {
            *index.entry(op).or_insert_with(|| {
                let named = name_of(op)?;
                carried.ops.push(named);
                Some(carried.ops.len() as u32 - 1)
            })
        };
        carried.seen.reserve(self.seen.map.len());
        for (span_id, op) in &self.seen.map {
            if let Some(i) = intern(*op, &mut carried) {
                carried.seen.insert(*span_id, i);
            }
        }
        carried.waiting.reserve(self.waiting.map.len());
        for (parent_id, children) in &self.waiting.map {
            let mut waiting = WaitingChildren::new();
            for (child, count) in children.children() {
                if let Some(i) = intern(child, &mut carried) {
                    waiting.add(i, u32::try_from(count).unwrap_or(u32::MAX));
                }
            }
            if waiting.count() > 0 {
                carried.waiting.insert(*parent_id, waiting);
            }
        }
        carried
    }

    /// Heap bytes reserved for span memory (this window's and the carried
    /// one's) and edges.
    pub fn memory_bytes(&self) -> usize {
        let entry = std::mem::size_of::<u64>() * 2;
        self.seen.map.capacity() * (entry + std::mem::size_of::<OpRef>())
            + self.waiting.map.capacity() * (entry + std::mem::size_of::<WaitingChildren<OpRef>>())
            + self.edges.capacity() * (std::mem::size_of::<(Node, Node)>() + 8)
            + self.previous.memory_bytes()
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

    fn tracker(size: usize) -> EdgeTracker {
        EdgeTracker::new(size, Carried::default())
    }

    fn edge_count(t: &EdgeTracker, parent: Node, child: Node) -> u64 {
        t.edges()
            .find(|(p, c, _)| *p == parent && *c == child)
            .map_or(0, |e| e.2)
    }

    fn here(op: OpRef) -> Node {
        Node::Here(op)
    }

    /// Names ops as service `s<service>`, operation `op<operation>`, SERVER.
    fn named(op: OpRef) -> Option<NamedOp> {
        Some(NamedOp {
            namespace: "shop".into(),
            service: format!("s{}", op.service).into(),
            name: format!("op{}", op.operation).into(),
            kind: pb::SpanKind::Server,
        })
    }

    #[test]
    fn child_exported_before_its_parent_still_makes_an_edge() {
        let mut t = tracker(16);
        assert_eq!(
            t.observe(&[span(2, 1, DB), span(3, 1, DB)], 100),
            EdgeOverflow::default()
        );
        assert_eq!(edge_count(&t, here(SERVER), here(DB)), 0);
        t.observe(&[span(1, 0, SERVER)], 100);
        assert_eq!(edge_count(&t, here(SERVER), here(DB)), 2);
    }

    #[test]
    fn parent_in_the_same_batch_after_the_child_is_found() {
        let mut t = tracker(16);
        t.observe(&[span(2, 1, REMOTE), span(1, 0, SERVER)], 100);
        assert_eq!(edge_count(&t, here(SERVER), here(REMOTE)), 1);
    }

    #[test]
    fn span_memory_is_bounded_and_forgets_the_oldest() {
        let mut t = tracker(4);
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
        assert_eq!(edge_count(&t, here(SERVER), here(DB)), 0);
        assert_eq!(t.seen.map.len(), 4);
    }

    #[test]
    fn edges_over_the_cap_are_counted_not_kept() {
        let mut t = tracker(16);
        let overflow = t.observe(&[span(1, 0, SERVER), span(2, 1, DB), span(3, 1, REMOTE)], 1);
        assert_eq!(overflow.edges, 1);
        assert_eq!(t.edges().count(), 1);
    }

    #[test]
    fn waiting_children_evicted_within_their_window_are_counted() {
        let mut t = tracker(2);
        let overflow = t.observe(
            &[
                span(10, 1, DB),
                span(11, 1, DB),
                span(12, 2, DB),
                span(13, 3, DB),
            ],
            100,
        );
        // Parents 1 (two children) and 2 wait; parent 3 evicts parent 1's two.
        assert_eq!(overflow.span_cache, 2);
    }

    #[test]
    fn children_and_parents_straddling_a_window_boundary_are_linked_in_the_next() {
        let mut first = tracker(16);
        // Window 1: a child (waiting for parent 1) and a parent (id 5) whose child is late.
        first.observe(&[span(2, 1, DB), span(5, 0, SERVER)], 100);
        let carried = first.carry(named);
        assert_eq!(carried.ops.len(), 2);
        let mut second = EdgeTracker::new(16, carried);
        // Window 2: the waiting child's parent, the late child of span 5; operation
        // indices are the new window's own.
        let (server2, db2) = (
            OpRef {
                service: 0,
                operation: 7,
            },
            OpRef {
                service: 0,
                operation: 8,
            },
        );
        second.observe(&[span(1, 0, server2), span(6, 5, db2)], 100);
        let edges: Vec<(String, String, u64)> = second
            .edges()
            .map(|(p, c, n)| {
                let name = |node| match node {
                    Node::Here(op) => format!("here {}", op.operation),
                    Node::Before(i) => format!("before {}", second.carried_op(i).unwrap().name),
                };
                (name(p), name(c), n)
            })
            .collect();
        let mut edges = edges;
        edges.sort();
        assert_eq!(
            edges,
            vec![
                ("before op0".to_owned(), "here 8".to_owned(), 1),
                ("here 7".to_owned(), "before op1".to_owned(), 1),
            ]
        );
        // Carried entries live one boundary: the third window links nothing of the first.
        let mut third = EdgeTracker::new(16, second.carry(named));
        third.observe(&[span(9, 5, db2)], 100);
        assert_eq!(third.edges().count(), 0);
    }
}
