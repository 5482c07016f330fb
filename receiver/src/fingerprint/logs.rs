//! Log shape: severity ranges, attribute keys, event names, body kinds and
//! log–trace correlation.

use otel_parity_proto::v1 as pb;

use super::IngestOutcome;
use super::attributes::{key_value, string_bytes, value_kind};
use super::resource::Scopes;
use super::table::{CountTable, named};
use crate::limits::Limits;
use crate::otlp::schema::field;
use crate::wire::{self, Value};

/// Severity ranges of the OpenTelemetry log data model (1–4 TRACE, 5–8
/// DEBUG, …, 21–24 FATAL), after UNSPECIFIED (0).
const SEVERITY_NAMES: [&str; 7] = [
    "UNSPECIFIED",
    "TRACE",
    "DEBUG",
    "INFO",
    "WARN",
    "ERROR",
    "FATAL",
];
const BODY_KINDS: [&str; 8] = [
    "empty", "string", "bool", "int", "double", "array", "kvlist", "bytes",
];

/// A service's self.
#[derive(Debug, Default)]
pub struct LogsState {
    records: u64,
    severities: [u64; 7],
    attribute_keys: CountTable,
    event_names: CountTable,
    body_kinds: [u64; 8],
    with_trace_id: u64,
}

impl LogsState {
    /// The snapshot form.
    pub fn to_proto(&self) -> pb::LogShape {
        pb::LogShape {
            records: self.records,
            severities: named(&SEVERITY_NAMES, &self.severities),
            attribute_keys: self.attribute_keys.to_map(),
            event_names: self.event_names.to_map(),
            body_kinds: named(&BODY_KINDS, &self.body_kinds),
            with_trace_id: self.with_trace_id,
        }
    }

    /// Fingerprints the log records of one ResourceLogs block; a record
    /// with invalid ids is left out.
    pub fn observe_block(
        &mut self,
        scopes: Scopes<'_>,
        limits: &Limits,
        outcome: &mut IngestOutcome,
    ) {
        scopes.for_each_item(|record, overflow| {
            self.observe_record(record, limits, overflow, outcome);
        });
    }

    fn observe_record(
        &mut self,
        record: &[u8],
        limits: &Limits,
        overflow: &mut pb::Overflow,
        outcome: &mut IngestOutcome,
    ) {
        let mut severity = 0u64;
        let mut body: Option<&[u8]> = None;
        let mut trace_id: &[u8] = &[];
        let mut span_id: &[u8] = &[];
        let mut event_name: &[u8] = &[];
        for (number, value) in wire::fields(record).filter_map(Result::ok) {
            match number {
                field::log::SEVERITY_NUMBER => severity = value.as_u64(),
                field::log::BODY => body = Some(value.as_bytes()),
                field::log::TRACE_ID => trace_id = value.as_bytes(),
                field::log::SPAN_ID => span_id = value.as_bytes(),
                field::log::EVENT_NAME => event_name = value.as_bytes(),
                _ => {}
            }
        }
        if !(trace_id.is_empty() || trace_id.len() == 16)
            || !(span_id.is_empty() || span_id.len() == 8)
        {
            outcome.reject("a log record has an invalid trace_id or span_id length");
            return;
        }
        outcome.accepted += 1;
        self.records += 1;
        let range = if severity == 0 || severity > 24 {
            0
        } else {
            ((severity - 1) / 4 + 1) as usize
        };
        self.severities[range] += 1;
        let kind = body.map_or("empty", value_kind);
        if let Some(slot) = BODY_KINDS.iter().position(|k| *k == kind) {
            self.body_kinds[slot] += 1;
        }
        if trace_id.iter().any(|b| *b != 0) {
            self.with_trace_id += 1;
        }
        for (number, value) in wire::fields(record).filter_map(Result::ok) {
            if let (field::log::ATTRIBUTES, Value::Bytes(kv)) = (number, value) {
                let (key, value) = key_value(kv);
                if !self.attribute_keys.count(key, limits.max_attribute_keys) {
                    overflow.attribute_keys += 1;
                }
                if key == b"event.name" && event_name.is_empty() {
                    event_name = string_bytes(value).unwrap_or_default();
                }
            }
        }
        if !event_name.is_empty() && !self.event_names.count(event_name, limits.max_event_names) {
            overflow.event_names += 1;
        }
    }
}
