//! Span operations: counts, errors, attribute keys, events, links, durations
//! and context propagation, per (span name, span kind).

use otel_parity_proto::v1 as pb;

use super::IngestOutcome;
use super::attributes::key_value;
use super::edges::{OpRef, SpanRecord};
use super::resource::Scopes;
use super::sampling::SamplingState;
use super::table::{CappedTable, CountTable, OrderedCounts};
use crate::limits::Limits;
use crate::otlp::schema::field;
use crate::wire::{self, Value};
use otel_parity_model::sketch::DurationHistogram;

const KIND_SERVER: usize = 2;
const KIND_CONSUMER: usize = 5;
const STATUS_ERROR: u64 = 2;
/// Span flags bit: the flags say whether the parent is remote.
const FLAG_HAS_IS_REMOTE: u32 = 0x100;
/// Span flags bit: the parent is remote.
const FLAG_IS_REMOTE: u32 = 0x200;

/// One (name, kind) operation of a service.
#[derive(Debug)]
pub struct OperationState {
    name: Box<str>,
    kind: usize,
    spans: u64,
    errors: u64,
    attribute_keys: OrderedCounts,
    event_names: CountTable,
    links: u64,
    duration: DurationHistogram,
    remote_parent: u64,
    local_parent: u64,
    root: u64,
}

/// A service's span operations.
#[derive(Debug, Default)]
pub struct TracesState {
    operations: Vec<OperationState>,
    /// Per span kind: name → index into `operations`.
    index: [CappedTable<u32>; 6],
}

impl TracesState {
    /// The index of operation (name, kind), created while under the cap.
    #[inline(always)]
    fn operation(&mut self, name: &[u8], kind: usize, limits: &Limits) -> Option<usize> {
        let cap = if self.operations.len() >= limits.max_span_operations {
            0
        } else {
            usize::MAX
        };
        let next = self.operations.len() as u32;
        let index = *self.index[kind].get_or_insert_with(name, cap, || next)? as usize;
        if index == self.operations.len() {
            self.operations.push(OperationState {
                name: String::from_utf8_lossy(name).into(),
                kind,
                spans: 0,
                errors: 0,
                attribute_keys: OrderedCounts::default(),
                event_names: CountTable::default(),
                links: 0,
                duration: DurationHistogram::default(),
                remote_parent: 0,
                local_parent: 0,
                root: 0,
            });
        }
        Some(index)
    }

    /// Name and kind of operation `index`.
    pub fn operation_name(&self, index: u32) -> Option<(&str, pb::SpanKind)> {
        let op = self.operations.get(index as usize)?;
        Some((&op.name, span_kind(op.kind)))
    }

    /// Operations sorted by name, then kind.
    pub fn to_proto(&self) -> Vec<pb::SpanOperation> {
        let mut ops: Vec<pb::SpanOperation> = self
            .operations
            .iter()
            .map(OperationState::to_proto)
            .collect();
        ops.sort_by(|a, b| a.name.cmp(&b.name).then(a.kind.cmp(&b.kind)));
        ops
    }
}

impl OperationState {
    fn to_proto(&self) -> pb::SpanOperation {
        let propagation =
            (self.kind == KIND_SERVER || self.kind == KIND_CONSUMER).then_some(pb::Propagation {
                remote_parent: self.remote_parent,
                local_parent: self.local_parent,
                root: self.root,
            });
        pb::SpanOperation {
            name: self.name.to_string(),
            kind: span_kind(self.kind) as i32,
            spans: self.spans,
            errors: self.errors,
            attribute_keys: self.attribute_keys.to_map(),
            event_names: self.event_names.to_map(),
            links: self.links,
            duration: Some(self.duration.to_proto()),
            propagation,
        }
    }
}

/// The proto span kind for an OTLP kind number (0–5).
pub fn span_kind(kind: usize) -> pb::SpanKind {
    pb::SpanKind::try_from(kind as i32).unwrap_or(pb::SpanKind::Unspecified)
}

/// The fields of one span that are not walked again.
#[derive(Default)]
struct SpanView<'a> {
    trace_id: &'a [u8],
    span_id: &'a [u8],
    trace_state: &'a [u8],
    parent_span_id: &'a [u8],
    flags: u32,
    name: &'a [u8],
    kind: u64,
    start: u64,
    end: u64,
    status: &'a [u8],
    /// The span from its first attribute, event or link field on: what the
    /// second walk reads.
    repeated: &'a [u8],
}

impl<'a> SpanView<'a> {
    // One call site, once per span: always inlined, so the view's fields
    // stay in registers instead of being written out and read back.
    #[inline(always)]
    fn read(span: &'a [u8]) -> Self {
        let mut view = SpanView::default();
        let mut fields = wire::fields(span);
        loop {
            let at = fields.remaining();
            let Some(Ok((number, value))) = fields.next() else {
                break;
            };
            match number {
                field::span::TRACE_ID => view.trace_id = value.as_bytes(),
                field::span::SPAN_ID => view.span_id = value.as_bytes(),
                field::span::TRACE_STATE => view.trace_state = value.as_bytes(),
                field::span::PARENT_SPAN_ID => view.parent_span_id = value.as_bytes(),
                field::span::FLAGS => view.flags = value.as_u64() as u32,
                field::span::NAME => view.name = value.as_bytes(),
                field::span::KIND => view.kind = value.as_u64(),
                field::span::START_TIME => view.start = value.as_u64(),
                field::span::END_TIME => view.end = value.as_u64(),
                field::span::STATUS => view.status = value.as_bytes(),
                field::span::ATTRIBUTES | field::span::EVENTS | field::span::LINKS
                    if view.repeated.is_empty() =>
                {
                    view.repeated = at;
                }
                _ => {}
            }
        }
        view
    }

    /// Ids as OTLP requires: 16-byte trace id, 8-byte span id, neither all
    /// zero; parent empty or 8 bytes.
    fn has_valid_ids(&self) -> bool {
        self.trace_id.len() == 16
            && self.span_id.len() == 8
            && self.trace_id.iter().any(|b| *b != 0)
            && self.span_id.iter().any(|b| *b != 0)
            && (self.parent_span_id.is_empty() || self.parent_span_id.len() == 8)
    }

    fn is_error(&self) -> bool {
        wire::fields(self.status)
            .filter_map(Result::ok)
            .any(|(number, value)| number == field::status::CODE && value.as_u64() == STATUS_ERROR)
    }
}

/// Reads an 8-byte span id as a number; 0 for an absent or all-zero id.
#[inline]
fn span_id(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_le_bytes).unwrap_or(0)
}

impl TracesState {
    /// Fingerprints the spans of one ResourceSpans block into their
    /// operations and `sampling`, appending what edge tracking needs to
    /// `spans`.
    pub fn observe_block(
        &mut self,
        scopes: Scopes<'_>,
        sampling: &mut SamplingState,
        service_slot: u32,
        limits: &Limits,
        spans: &mut Vec<SpanRecord>,
        outcome: &mut IngestOutcome,
    ) {
        scopes.for_each_item(|span, overflow| {
            let record = self.observe_span(span, service_slot, sampling, limits, overflow, outcome);
            if let Some(record) = record {
                spans.push(record);
            }
        });
    }

    /// Fingerprints one span. Returns what edge tracking needs, or None for
    /// a span left out (invalid ids) or counted into the operations overflow.
    #[inline]
    fn observe_span(
        &mut self,
        span: &[u8],
        service_slot: u32,
        sampling: &mut SamplingState,
        limits: &Limits,
        overflow: &mut pb::Overflow,
        outcome: &mut IngestOutcome,
    ) -> Option<SpanRecord> {
        let view = SpanView::read(span);
        if !view.has_valid_ids() {
            outcome.reject("a span has an invalid trace_id, span_id or parent_span_id length");
            return None;
        }
        outcome.accepted += 1;
        let kind = if view.kind <= 5 {
            view.kind as usize
        } else {
            0
        };
        sampling.observe_span(view.trace_state, kind == KIND_SERVER);

        let Some(index) = self.operation(view.name, kind, limits) else {
            overflow.span_operations += 1;
            return None;
        };
        let op = &mut self.operations[index];
        op.spans += 1;
        if view.is_error() {
            op.errors += 1;
        }
        op.duration
            .record_nanos(view.end.saturating_sub(view.start));
        if kind == KIND_SERVER || kind == KIND_CONSUMER {
            if view.parent_span_id.is_empty() {
                op.root += 1;
            } else if view.flags & FLAG_HAS_IS_REMOTE != 0 && view.flags & FLAG_IS_REMOTE == 0 {
                op.local_parent += 1;
            } else {
                op.remote_parent += 1;
            }
        }
        let mut position = 0;
        for (number, value) in wire::fields(view.repeated).filter_map(Result::ok) {
            match (number, value) {
                (field::span::ATTRIBUTES, Value::Bytes(kv)) => {
                    let (key, _) = key_value(kv);
                    let counted = op
                        .attribute_keys
                        .count(position, key, limits.max_attribute_keys);
                    position += 1;
                    if !counted {
                        overflow.attribute_keys += 1;
                    }
                }
                (field::span::EVENTS, Value::Bytes(event)) => {
                    let name = wire::fields(event)
                        .filter_map(Result::ok)
                        .find(|(n, _)| *n == field::event::NAME)
                        .map_or(&[][..], |(_, v)| v.as_bytes());
                    if !op.event_names.count(name, limits.max_event_names) {
                        overflow.event_names += 1;
                    }
                }
                (field::span::LINKS, _) => op.links += 1,
                _ => {}
            }
        }
        Some(SpanRecord {
            span_id: span_id(view.span_id),
            parent_span_id: span_id(view.parent_span_id),
            op: OpRef {
                service: service_slot,
                operation: index as u32,
            },
        })
    }
}
