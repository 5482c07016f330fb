//! OTLP/JSON export requests converted to protobuf wire bytes, so the fingerprint engine (which
//! walks protobuf) also runs on `application/json` requests and Collector file-exporter lines.
//!
//! Strict where opentelemetry-proto's serde path is lenient: a span, data point or log record
//! with a wrongly typed or invalid field is left out and counted in
//! [`Transcoded::rejected_items`], never converted with the field quietly emptied. A problem in
//! a resource, scope or metric rejects every item beneath it; a problem with the request itself
//! is a [`JsonError`]. Not the hot path: it parses into `serde_json::Value`.

use std::fmt;

use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::encoding::{WireType, encode_key, encode_varint};
use serde_json::{Map, Value};

use crate::Signal;

/// How deep AnyValues may nest (arrays and key-value lists); deeper rejects the item.
const MAX_ANY_VALUE_DEPTH: usize = 32;
const TRACE_ID_BYTES: usize = 16;
const SPAN_ID_BYTES: usize = 8;

/// An OTLP/JSON export request converted to protobuf wire bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcoded {
    /// ExportTraceServiceRequest / ExportMetricsServiceRequest / ExportLogsServiceRequest bytes.
    pub protobuf: Vec<u8>,
    /// Items (spans, data points, log records) left out because they were invalid.
    pub rejected_items: u64,
    /// Why the first rejected item was rejected, naming its JSON path, e.g.
    /// "resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex digits, found 31".
    pub first_rejection: Option<String>,
}

/// Why a JSON document cannot be read as an OTLP export request at all.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// Not JSON: a syntax error, truncated input or bytes that are not UTF-8.
    #[error("invalid JSON: {0}")]
    Syntax(#[from] serde_json::Error),
    /// JSON, but not an object.
    #[error("expected an OTLP export request (a JSON object), found {found}")]
    NotAnObject { found: String },
    /// A top-level field has the wrong type, so nothing under it can be read.
    #[error("{path}: {problem}")]
    Field { path: String, problem: String },
    /// A file-exporter line with more than one signal's top-level key.
    #[error("the line holds both {first} and {second}; a file-exporter line holds one signal")]
    MixedSignals {
        first: &'static str,
        second: &'static str,
    },
}

/// Converts an OTLP/JSON export request of `signal` to protobuf.
pub fn transcode(signal: Signal, json: &[u8]) -> Result<Transcoded, JsonError> {
    let request = parse_object(json)?;
    let layout = Layout::of(signal);
    let root = Path::ROOT;
    let top = JsonMessage {
        map: &request,
        path: &root,
        out: Vec::with_capacity(json.len() / 2),
    };
    let resources = top
        .list(layout.resources)
        .map_err(|invalid| JsonError::Field {
            path: invalid.path,
            problem: invalid.problem,
        })?;
    let mut protobuf = top.out;
    let mut rejections = Rejections::default();
    keep_valid(
        resources,
        1,
        &mut protobuf,
        &mut rejections,
        |value, path, rejections| layout.resource_entry(value, path, rejections),
        |value| layout.resource_items(value),
    );
    Ok(Transcoded {
        protobuf,
        rejected_items: rejections.items,
        first_rejection: rejections.first,
    })
}

/// The signal of a Collector file-exporter line, from its top-level key
/// (resourceSpans / resourceMetrics / resourceLogs); None if none is present.
pub fn detect_signal(json: &[u8]) -> Result<Option<Signal>, JsonError> {
    let request = parse_object(json)?;
    let mut found: Option<(Signal, &'static str)> = None;
    for signal in Signal::ALL {
        let key = Layout::of(signal).resources;
        if lookup(&request, key).is_some() {
            if let Some((_, first)) = found {
                return Err(JsonError::MixedSignals { first, second: key });
            }
            found = Some((signal, key));
        }
    }
    Ok(found.map(|(signal, _)| signal))
}

fn parse_object(json: &[u8]) -> Result<Map<String, Value>, JsonError> {
    match serde_json::from_slice(json)? {
        Value::Object(map) => Ok(map),
        other => Err(JsonError::NotAnObject {
            found: describe(&other),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Resources and scopes, and counting what a rejection leaves out

/// A protobuf message converted from JSON, or why the JSON is invalid.
type Encoded = Result<Vec<u8>, Invalid>;
/// Converts the JSON value at a path to one protobuf message.
type Convert = fn(&Value, &Path) -> Encoded;
/// Converts one child of a scope: a span or log record, or a metric with its data points.
type ConvertChild = fn(&Value, &Path, &mut Rejections) -> Encoded;

/// Where one signal keeps its items in an export request.
struct Layout {
    resources: &'static str,
    scopes: &'static str,
    children: &'static str,
    child: ConvertChild,
    /// How many items a child holds, counted when it is rejected whole.
    child_items: fn(&Value) -> u64,
}

const TRACES: Layout = Layout {
    resources: "resourceSpans",
    scopes: "scopeSpans",
    children: "spans",
    child: |value, path, _| span(value, path),
    child_items: |_| 1,
};
const METRICS: Layout = Layout {
    resources: "resourceMetrics",
    scopes: "scopeMetrics",
    children: "metrics",
    child: metric,
    child_items: metric_items,
};
const LOGS: Layout = Layout {
    resources: "resourceLogs",
    scopes: "scopeLogs",
    children: "logRecords",
    child: |value, path, _| log_record(value, path),
    child_items: |_| 1,
};

impl Layout {
    fn of(signal: Signal) -> &'static Layout {
        match signal {
            Signal::Traces => &TRACES,
            Signal::Metrics => &METRICS,
            Signal::Logs => &LOGS,
        }
    }

    /// ResourceSpans / ResourceMetrics / ResourceLogs. Its own fields are all read before any
    /// scope, so an `Err` here never follows an item already counted as rejected.
    fn resource_entry(&self, value: &Value, path: &Path, rejections: &mut Rejections) -> Encoded {
        let mut entry = JsonMessage::of(value, path)?;
        entry.message(1, "resource", resource)?;
        let schema_url = entry.read("schemaUrl", parse_str)?.unwrap_or_default();
        let scopes = entry.list(self.scopes)?;
        let scope = |value: &Value, path: &Path, rejections: &mut Rejections| {
            self.scope_entry(value, path, rejections)
        };
        keep_valid(scopes, 2, &mut entry.out, rejections, scope, |value| {
            self.scope_items(value)
        });
        put_bytes(&mut entry.out, 3, schema_url.as_bytes());
        Ok(entry.out)
    }

    /// ScopeSpans / ScopeMetrics / ScopeLogs, read before its children like a resource.
    fn scope_entry(&self, value: &Value, path: &Path, rejections: &mut Rejections) -> Encoded {
        let mut entry = JsonMessage::of(value, path)?;
        entry.message(1, "scope", scope)?;
        let schema_url = entry.read("schemaUrl", parse_str)?.unwrap_or_default();
        let children = entry.list(self.children)?;
        keep_valid(
            children,
            2,
            &mut entry.out,
            rejections,
            self.child,
            self.child_items,
        );
        put_bytes(&mut entry.out, 3, schema_url.as_bytes());
        Ok(entry.out)
    }

    fn resource_items(&self, value: &Value) -> u64 {
        items_in(value, self.scopes, |scope| self.scope_items(scope))
    }

    fn scope_items(&self, value: &Value) -> u64 {
        items_in(value, self.children, self.child_items)
    }
}

/// Items under the list `name` of an object: exact where the shape allows, and 1 for each part
/// too malformed to count.
fn items_in(value: &Value, name: &str, count: impl Fn(&Value) -> u64) -> u64 {
    let Value::Object(map) = value else { return 1 };
    match lookup(map, name) {
        None => 0,
        Some((_, Value::Array(entries))) => entries.iter().map(count).sum(),
        Some(_) => 1,
    }
}

/// Converts each entry of a list into field `tag` of `out`; an entry that fails is left out and
/// its items are counted as rejected.
fn keep_valid<'v>(
    list: Option<(Path<'_>, &'v [Value])>,
    tag: u32,
    out: &mut Vec<u8>,
    rejections: &mut Rejections,
    mut convert: impl FnMut(&'v Value, &Path, &mut Rejections) -> Encoded,
    items: impl Fn(&Value) -> u64,
) {
    let Some((list_path, entries)) = list else {
        return;
    };
    for (index, entry) in entries.iter().enumerate() {
        match convert(entry, &list_path.index(index), rejections) {
            Ok(bytes) => put_len(out, tag, &bytes),
            Err(why) => rejections.reject(items(entry), why),
        }
    }
}

/// Items left out so far, and why the first one was.
#[derive(Default)]
struct Rejections {
    items: u64,
    first: Option<String>,
}

impl Rejections {
    /// Counts `items`, at least one so that no rejection goes unreported, and keeps the first
    /// reason.
    fn reject(&mut self, items: u64, why: Invalid) {
        self.items = self.items.saturating_add(items.max(1));
        self.first.get_or_insert_with(|| why.to_string());
    }
}

// ---------------------------------------------------------------------------------------------
// Common messages: Resource, InstrumentationScope, KeyValue, AnyValue

fn resource(value: &Value, path: &Path) -> Encoded {
    let mut resource = JsonMessage::of(value, path)?;
    resource.attributes(1, "attributes")?;
    resource.uint32(2, "droppedAttributesCount")?;
    Ok(resource.out)
}

fn scope(value: &Value, path: &Path) -> Encoded {
    let mut scope = JsonMessage::of(value, path)?;
    scope.string(1, "name")?;
    scope.string(2, "version")?;
    scope.attributes(3, "attributes")?;
    scope.uint32(4, "droppedAttributesCount")?;
    Ok(scope.out)
}

fn key_value(value: &Value, path: &Path, depth: usize) -> Encoded {
    let mut key_value = JsonMessage::of(value, path)?;
    key_value.string(1, "key")?;
    key_value.message(2, "value", |value, path| any_value(value, path, depth))?;
    Ok(key_value.out)
}

#[derive(Clone, Copy)]
enum AnyKind {
    String,
    Bool,
    Int,
    Double,
    Array,
    KeyValueList,
    Bytes,
}

const ANY_VALUE_FIELDS: [(&str, AnyKind); 7] = [
    ("stringValue", AnyKind::String),
    ("boolValue", AnyKind::Bool),
    ("intValue", AnyKind::Int),
    ("doubleValue", AnyKind::Double),
    ("arrayValue", AnyKind::Array),
    ("kvlistValue", AnyKind::KeyValueList),
    ("bytesValue", AnyKind::Bytes),
];

/// An AnyValue, whose one value is written even when it is the default; `{}` is an empty value.
/// `depth` counts the AnyValues around it.
fn any_value(value: &Value, path: &Path, depth: usize) -> Encoded {
    if depth >= MAX_ANY_VALUE_DEPTH {
        let problem = format!("values nest more than {MAX_ANY_VALUE_DEPTH} levels deep");
        return Err(Invalid::at(path, problem));
    }
    let mut any = JsonMessage::of(value, path)?;
    let mut held: Option<&str> = None;
    for (name, kind) in ANY_VALUE_FIELDS {
        let Some((key, inner)) = any.get(name) else {
            continue;
        };
        if let Some(first) = held.replace(key) {
            let problem = format!("holds both {first} and {key}; an AnyValue holds one value");
            return Err(Invalid::at(path, problem));
        }
        let field = path.field(key);
        let at = |problem| Invalid::at(&field, problem);
        let out = &mut any.out;
        match kind {
            AnyKind::String => put_len(out, 1, parse_str(inner).map_err(at)?.as_bytes()),
            AnyKind::Bool => put_varint_always(out, 2, parse_bool(inner).map_err(at)?.into()),
            AnyKind::Int => put_varint_always(out, 3, parse_i64(inner).map_err(at)? as u64),
            AnyKind::Double => put_double_always(out, 4, parse_f64(inner).map_err(at)?),
            AnyKind::Array => {
                let mut array = JsonMessage::of(inner, &field)?;
                array.messages(1, "values", |item, path| any_value(item, path, depth + 1))?;
                put_len(out, 5, &array.out);
            }
            AnyKind::KeyValueList => {
                let mut list = JsonMessage::of(inner, &field)?;
                list.messages(1, "values", |item, path| key_value(item, path, depth + 1))?;
                put_len(out, 6, &list.out);
            }
            AnyKind::Bytes => put_len(out, 7, &parse_base64(inner).map_err(at)?),
        }
    }
    Ok(any.out)
}

// ---------------------------------------------------------------------------------------------
// Traces

fn span(value: &Value, path: &Path) -> Encoded {
    let mut span = JsonMessage::of(value, path)?;
    span.id(1, "traceId", TRACE_ID_BYTES, Presence::Required)?;
    span.id(2, "spanId", SPAN_ID_BYTES, Presence::Required)?;
    span.string(3, "traceState")?;
    span.id(4, "parentSpanId", SPAN_ID_BYTES, Presence::Optional)?;
    span.string(5, "name")?;
    span.enumeration(6, "kind", |name| {
        SpanKind::from_str_name(name).map(|kind| kind as i32)
    })?;
    span.fixed64(7, "startTimeUnixNano")?;
    span.fixed64(8, "endTimeUnixNano")?;
    span.attributes(9, "attributes")?;
    span.uint32(10, "droppedAttributesCount")?;
    span.messages(11, "events", span_event)?;
    span.uint32(12, "droppedEventsCount")?;
    span.messages(13, "links", span_link)?;
    span.uint32(14, "droppedLinksCount")?;
    span.message(15, "status", span_status)?;
    span.fixed32(16, "flags")?;
    Ok(span.out)
}

fn span_event(value: &Value, path: &Path) -> Encoded {
    let mut event = JsonMessage::of(value, path)?;
    event.fixed64(1, "timeUnixNano")?;
    event.string(2, "name")?;
    event.attributes(3, "attributes")?;
    event.uint32(4, "droppedAttributesCount")?;
    Ok(event.out)
}

fn span_link(value: &Value, path: &Path) -> Encoded {
    let mut link = JsonMessage::of(value, path)?;
    link.id(1, "traceId", TRACE_ID_BYTES, Presence::Optional)?;
    link.id(2, "spanId", SPAN_ID_BYTES, Presence::Optional)?;
    link.string(3, "traceState")?;
    link.attributes(4, "attributes")?;
    link.uint32(5, "droppedAttributesCount")?;
    link.fixed32(6, "flags")?;
    Ok(link.out)
}

fn span_status(value: &Value, path: &Path) -> Encoded {
    let mut status = JsonMessage::of(value, path)?;
    status.string(2, "message")?;
    status.enumeration(3, "code", |name| {
        StatusCode::from_str_name(name).map(|code| code as i32)
    })?;
    Ok(status.out)
}

// ---------------------------------------------------------------------------------------------
// Metrics

/// A metric's data fields (the `data` oneof): JSON name, tag, data point converter.
const DATA_FIELDS: [(&str, u32, Convert); 5] = [
    ("gauge", 5, number_point),
    ("sum", 7, number_point),
    ("histogram", 9, histogram_point),
    ("exponentialHistogram", 10, exponential_histogram_point),
    ("summary", 11, summary_point),
];

/// A metric sits above its data points: a problem in its own fields rejects them all, so those
/// are read before any point.
fn metric(value: &Value, path: &Path, rejections: &mut Rejections) -> Encoded {
    let mut metric = JsonMessage::of(value, path)?;
    metric.string(1, "name")?;
    metric.string(2, "description")?;
    metric.string(3, "unit")?;
    let mut metadata = JsonMessage {
        out: Vec::new(),
        ..metric
    };
    metadata.attributes(12, "metadata")?;
    let mut data = None;
    for (name, tag, point) in DATA_FIELDS {
        let Some((key, inner)) = metric.get(name) else {
            continue;
        };
        if let Some((first, ..)) = data.replace((key, inner, name, tag, point)) {
            let problem = format!("holds both {first} and {key}; a metric holds one kind of data");
            return Err(Invalid::at(path, problem));
        }
    }
    if let Some((key, inner, name, tag, point)) = data {
        let field = path.field(key);
        let mut data = JsonMessage::of(inner, &field)?;
        // Sum, Histogram and ExponentialHistogram carry a temporality; only Sum is monotonic.
        if name != "gauge" && name != "summary" {
            let temporality =
                |name: &str| AggregationTemporality::from_str_name(name).map(|t| t as i32);
            data.enumeration(2, "aggregationTemporality", temporality)?;
        }
        let monotonic = name == "sum" && data.read("isMonotonic", parse_bool)?.unwrap_or_default();
        let points = data.list("dataPoints")?;
        let mut bytes = Vec::new();
        keep_valid(
            points,
            1,
            &mut bytes,
            rejections,
            |value, path, _| point(value, path),
            |_| 1,
        );
        bytes.append(&mut data.out);
        put_varint(&mut bytes, 3, monotonic.into());
        put_len(&mut metric.out, tag, &bytes);
    }
    metric.out.append(&mut metadata.out);
    Ok(metric.out)
}

/// Data points in a metric, counted when the whole metric is rejected.
fn metric_items(value: &Value) -> u64 {
    let Value::Object(map) = value else { return 1 };
    DATA_FIELDS
        .iter()
        .filter_map(|(name, ..)| lookup(map, name))
        .map(|(_, data)| items_in(data, "dataPoints", |_| 1))
        .sum()
}

fn number_point(value: &Value, path: &Path) -> Encoded {
    let mut point = JsonMessage::of(value, path)?;
    point.fixed64(2, "startTimeUnixNano")?;
    point.fixed64(3, "timeUnixNano")?;
    point.number_value(4, 6)?;
    point.messages(5, "exemplars", exemplar)?;
    point.attributes(7, "attributes")?;
    point.uint32(8, "flags")?;
    Ok(point.out)
}

fn exemplar(value: &Value, path: &Path) -> Encoded {
    let mut exemplar = JsonMessage::of(value, path)?;
    exemplar.fixed64(2, "timeUnixNano")?;
    exemplar.number_value(3, 6)?;
    exemplar.id(4, "spanId", SPAN_ID_BYTES, Presence::Optional)?;
    exemplar.id(5, "traceId", TRACE_ID_BYTES, Presence::Optional)?;
    exemplar.attributes(7, "filteredAttributes")?;
    Ok(exemplar.out)
}

fn histogram_point(value: &Value, path: &Path) -> Encoded {
    let mut point = JsonMessage::of(value, path)?;
    point.fixed64(2, "startTimeUnixNano")?;
    point.fixed64(3, "timeUnixNano")?;
    point.fixed64(4, "count")?;
    point.optional_double(5, "sum")?;
    point.packed(6, "bucketCounts", parse_u64, |count, out| {
        out.extend_from_slice(&count.to_le_bytes())
    })?;
    point.packed(7, "explicitBounds", parse_f64, |bound, out| {
        out.extend_from_slice(&bound.to_le_bytes())
    })?;
    point.messages(8, "exemplars", exemplar)?;
    point.attributes(9, "attributes")?;
    point.uint32(10, "flags")?;
    point.optional_double(11, "min")?;
    point.optional_double(12, "max")?;
    Ok(point.out)
}

fn exponential_histogram_point(value: &Value, path: &Path) -> Encoded {
    let mut point = JsonMessage::of(value, path)?;
    point.attributes(1, "attributes")?;
    point.fixed64(2, "startTimeUnixNano")?;
    point.fixed64(3, "timeUnixNano")?;
    point.fixed64(4, "count")?;
    point.optional_double(5, "sum")?;
    point.sint32(6, "scale")?;
    point.fixed64(7, "zeroCount")?;
    point.message(8, "positive", exponential_buckets)?;
    point.message(9, "negative", exponential_buckets)?;
    point.uint32(10, "flags")?;
    point.messages(11, "exemplars", exemplar)?;
    point.optional_double(12, "min")?;
    point.optional_double(13, "max")?;
    point.double(14, "zeroThreshold")?;
    Ok(point.out)
}

fn exponential_buckets(value: &Value, path: &Path) -> Encoded {
    let mut buckets = JsonMessage::of(value, path)?;
    buckets.sint32(1, "offset")?;
    buckets.packed(2, "bucketCounts", parse_u64, |count, out| {
        encode_varint(*count, out)
    })?;
    Ok(buckets.out)
}

fn summary_point(value: &Value, path: &Path) -> Encoded {
    let mut point = JsonMessage::of(value, path)?;
    point.fixed64(2, "startTimeUnixNano")?;
    point.fixed64(3, "timeUnixNano")?;
    point.fixed64(4, "count")?;
    point.double(5, "sum")?;
    point.messages(6, "quantileValues", |value, path| {
        let mut quantile = JsonMessage::of(value, path)?;
        quantile.double(1, "quantile")?;
        quantile.double(2, "value")?;
        Ok(quantile.out)
    })?;
    point.attributes(7, "attributes")?;
    point.uint32(8, "flags")?;
    Ok(point.out)
}

// ---------------------------------------------------------------------------------------------
// Logs

fn log_record(value: &Value, path: &Path) -> Encoded {
    let mut record = JsonMessage::of(value, path)?;
    record.fixed64(1, "timeUnixNano")?;
    record.enumeration(2, "severityNumber", |name| {
        SeverityNumber::from_str_name(name).map(|n| n as i32)
    })?;
    record.string(3, "severityText")?;
    record.message(5, "body", |value, path| any_value(value, path, 0))?;
    record.attributes(6, "attributes")?;
    record.uint32(7, "droppedAttributesCount")?;
    record.fixed32(8, "flags")?;
    record.id(9, "traceId", TRACE_ID_BYTES, Presence::Optional)?;
    record.id(10, "spanId", SPAN_ID_BYTES, Presence::Optional)?;
    record.fixed64(11, "observedTimeUnixNano")?;
    record.string(12, "eventName")?;
    Ok(record.out)
}

// ---------------------------------------------------------------------------------------------
// Converting one JSON object to one protobuf message

/// A JSON path such as `resourceSpans[0].scopeSpans[1].spans[3].traceId`, kept on the stack.
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Root,
    Field(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    const ROOT: Path<'static> = Path {
        parent: None,
        step: Step::Root,
    };

    fn field(&'a self, name: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            step: Step::Field(name),
        }
    }

    fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            step: Step::Index(index),
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
        }
        match self.step {
            Step::Root => Ok(()),
            Step::Field(name) if self.parent.is_some_and(|p| !matches!(p.step, Step::Root)) => {
                write!(f, ".{name}")
            }
            Step::Field(name) => f.write_str(name),
            Step::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// What is wrong with one value, and where.
#[derive(Debug)]
struct Invalid {
    path: String,
    problem: String,
}

impl Invalid {
    fn at(path: &Path, problem: String) -> Self {
        Invalid {
            path: path.to_string(),
            problem,
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// Whether an empty id is allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Presence {
    Required,
    Optional,
}

/// A JSON object being converted to one protobuf message. Each writer reads one field, by its
/// lowerCamelCase name or its proto snake_case name (missing or `null` is absent), and writes it
/// under `tag` the way prost does, leaving out proto3 defaults. Fields must be written in tag
/// order for the bytes to match prost's.
struct JsonMessage<'v, 'p> {
    map: &'v Map<String, Value>,
    path: &'p Path<'p>,
    out: Vec<u8>,
}

impl<'v: 'p, 'p> JsonMessage<'v, 'p> {
    fn of(value: &'v Value, path: &'p Path<'p>) -> Result<Self, Invalid> {
        match value {
            Value::Object(map) => Ok(JsonMessage {
                map,
                path,
                out: Vec::new(),
            }),
            other => Err(Invalid::at(path, expected("an object", other))),
        }
    }

    fn get(&self, name: &str) -> Option<(&'v str, &'v Value)> {
        lookup(self.map, name)
    }

    /// Reads a field without writing it.
    fn read<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&'v Value) -> Result<T, String>,
    ) -> Result<Option<T>, Invalid> {
        let Some((key, value)) = self.get(name) else {
            return Ok(None);
        };
        parse(value)
            .map(Some)
            .map_err(|problem| Invalid::at(&self.path.field(key), problem))
    }

    /// A repeated field, with its path, read without writing it.
    fn list(&self, name: &str) -> Result<Option<(Path<'p>, &'v [Value])>, Invalid> {
        match self.get(name) {
            None => Ok(None),
            Some((key, Value::Array(entries))) => Ok(Some((self.path.field(key), entries))),
            Some((key, other)) => Err(Invalid::at(
                &self.path.field(key),
                expected("an array", other),
            )),
        }
    }

    fn string(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let text = self.read(name, parse_str)?.unwrap_or_default();
        put_bytes(&mut self.out, tag, text.as_bytes());
        Ok(())
    }

    fn uint32(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let value = self.read(name, parse_u32)?.unwrap_or_default();
        put_varint(&mut self.out, tag, value.into());
        Ok(())
    }

    fn sint32(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let value = self.read(name, parse_i32)?.unwrap_or_default();
        let zigzag = (value << 1) ^ (value >> 31);
        put_varint(&mut self.out, tag, u64::from(zigzag as u32));
        Ok(())
    }

    fn fixed32(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let value = self.read(name, parse_u32)?.unwrap_or_default();
        if value != 0 {
            put_key(&mut self.out, tag, WireType::ThirtyTwoBit);
            self.out.extend_from_slice(&value.to_le_bytes());
        }
        Ok(())
    }

    fn fixed64(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let value = self.read(name, parse_u64)?.unwrap_or_default();
        if value != 0 {
            put_key(&mut self.out, tag, WireType::SixtyFourBit);
            self.out.extend_from_slice(&value.to_le_bytes());
        }
        Ok(())
    }

    fn double(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        let value = self.read(name, parse_f64)?.unwrap_or_default();
        if value != 0.0 {
            put_double_always(&mut self.out, tag, value);
        }
        Ok(())
    }

    /// A proto3 `optional double`: written whenever present, even as 0.
    fn optional_double(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        if let Some(value) = self.read(name, parse_f64)? {
            put_double_always(&mut self.out, tag, value);
        }
        Ok(())
    }

    /// An enum given as its number or its value name (e.g. "SPAN_KIND_SERVER").
    fn enumeration(
        &mut self,
        tag: u32,
        name: &str,
        from_name: impl Fn(&str) -> Option<i32>,
    ) -> Result<(), Invalid> {
        let number = self.read(name, |value| match value {
            Value::String(text) => {
                from_name(text).ok_or_else(|| format!("unknown enum value name {text:?}"))
            }
            other => parse_i32(other).map_err(|_| expected("an enum number or value name", other)),
        })?;
        // Like int32, enums sign-extend negative values to ten bytes.
        let number = i64::from(number.unwrap_or_default());
        put_varint(&mut self.out, tag, number as u64);
        Ok(())
    }

    /// A trace or span id, in hex.
    fn id(
        &mut self,
        tag: u32,
        name: &str,
        bytes: usize,
        presence: Presence,
    ) -> Result<(), Invalid> {
        let id = self
            .read(name, |value| parse_hex_id(value, bytes))?
            .unwrap_or_default();
        if id.is_empty() && presence == Presence::Required {
            let problem = format!("expected {} hex digits, found none", bytes * 2);
            return Err(Invalid::at(&self.path.field(name), problem));
        }
        put_bytes(&mut self.out, tag, &id);
        Ok(())
    }

    /// A packed repeated scalar, such as `bucketCounts`; left out when empty.
    fn packed<T>(
        &mut self,
        tag: u32,
        name: &str,
        parse: fn(&Value) -> Result<T, String>,
        write: fn(&T, &mut Vec<u8>),
    ) -> Result<(), Invalid> {
        let Some((list, entries)) = self.list(name)? else {
            return Ok(());
        };
        let mut packed = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let value = parse(entry).map_err(|problem| Invalid::at(&list.index(index), problem))?;
            write(&value, &mut packed);
        }
        put_bytes(&mut self.out, tag, &packed);
        Ok(())
    }

    /// An optional message field: written, even empty, whenever present.
    fn message(
        &mut self,
        tag: u32,
        name: &str,
        convert: impl FnOnce(&'v Value, &Path) -> Encoded,
    ) -> Result<(), Invalid> {
        let Some((key, value)) = self.get(name) else {
            return Ok(());
        };
        let bytes = convert(value, &self.path.field(key))?;
        put_len(&mut self.out, tag, &bytes);
        Ok(())
    }

    /// A repeated message field; the first entry that fails fails the whole message.
    fn messages(
        &mut self,
        tag: u32,
        name: &str,
        mut convert: impl FnMut(&'v Value, &Path) -> Encoded,
    ) -> Result<(), Invalid> {
        let Some((list, entries)) = self.list(name)? else {
            return Ok(());
        };
        for (index, entry) in entries.iter().enumerate() {
            let bytes = convert(entry, &list.index(index))?;
            put_len(&mut self.out, tag, &bytes);
        }
        Ok(())
    }

    fn attributes(&mut self, tag: u32, name: &str) -> Result<(), Invalid> {
        self.messages(tag, name, |value, path| key_value(value, path, 0))
    }

    /// The `value` oneof of a NumberDataPoint or Exemplar: asDouble or asInt (sfixed64), not both.
    fn number_value(&mut self, double_tag: u32, int_tag: u32) -> Result<(), Invalid> {
        let double = self.read("asDouble", parse_f64)?;
        match (double, self.read("asInt", parse_i64)?) {
            (Some(_), Some(_)) => {
                let problem = "holds both asDouble and asInt".to_owned();
                return Err(Invalid::at(self.path, problem));
            }
            (Some(double), None) => put_double_always(&mut self.out, double_tag, double),
            (None, Some(int)) => {
                put_key(&mut self.out, int_tag, WireType::SixtyFourBit);
                self.out.extend_from_slice(&int.to_le_bytes());
            }
            (None, None) => {}
        }
        Ok(())
    }
}

/// The field `name` (lowerCamelCase) or its snake_case form, unless absent or `null`.
fn lookup<'v>(map: &'v Map<String, Value>, name: &str) -> Option<(&'v str, &'v Value)> {
    map.get_key_value(name)
        .filter(|(_, value)| !value.is_null())
        .or_else(|| {
            map.iter()
                .find(|(key, value)| !value.is_null() && is_snake_case_of(key, name))
        })
        .map(|(key, value)| (key.as_str(), value))
}

/// Whether `key` is `camel` in snake_case (`trace_id` for `traceId`).
fn is_snake_case_of(key: &str, camel: &str) -> bool {
    let mut key = key.bytes();
    let same = camel.bytes().all(|c| match c.is_ascii_uppercase() {
        true => key.next() == Some(b'_') && key.next() == Some(c.to_ascii_lowercase()),
        false => key.next() == Some(c),
    });
    same && key.next().is_none()
}

// ---------------------------------------------------------------------------------------------
// Scalars; each failure is the problem, without the path

fn expected(what: &str, found: &Value) -> String {
    format!("expected {what}, found {}", describe(found))
}

fn describe(value: &Value) -> String {
    const SHOWN_CHARS: usize = 40;
    match value {
        Value::String(text) if text.chars().count() > SHOWN_CHARS => {
            format!("{:?}…", text.chars().take(SHOWN_CHARS).collect::<String>())
        }
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        scalar => scalar.to_string(),
    }
}

fn parse_str(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| expected("a string", value))
}

fn parse_bool(value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| expected("true or false", value))
}

/// A JSON integer, or a decimal string as the OTLP/JSON mapping writes 64-bit integers.
fn parse_u64(value: &Value) -> Result<u64, String> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| expected("an unsigned integer (a number or a decimal string)", value))
}

fn parse_i64(value: &Value) -> Result<i64, String> {
    let parsed = match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| expected("an integer (a number or a decimal string)", value))
}

fn parse_u32(value: &Value) -> Result<u32, String> {
    let wide = parse_u64(value)?;
    u32::try_from(wide).map_err(|_| format!("expected an unsigned 32-bit integer, found {wide}"))
}

fn parse_i32(value: &Value) -> Result<i32, String> {
    let wide = parse_i64(value)?;
    i32::try_from(wide).map_err(|_| format!("expected a 32-bit integer, found {wide}"))
}

/// A JSON number, "NaN", "Infinity", "-Infinity" or a decimal string.
fn parse_f64(value: &Value) -> Result<f64, String> {
    let is_decimal = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    };
    let parsed = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => match text.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            decimal if is_decimal(decimal) => decimal.parse().ok(),
            _ => None,
        },
        _ => None,
    };
    parsed.ok_or_else(|| expected("a number", value))
}

/// A trace or span id: hex digits in either case; "" is an absent (empty) id.
fn parse_hex_id(value: &Value, bytes: usize) -> Result<Vec<u8>, String> {
    let digits = bytes * 2;
    let text = value
        .as_str()
        .ok_or_else(|| expected(&format!("a string of {digits} hex digits"), value))?;
    if let Some(bad) = text.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "expected {digits} hex digits, found non-hex character {bad:?}"
        ));
    }
    if !text.is_empty() && text.len() != digits {
        return Err(format!(
            "expected {digits} hex digits, found {}",
            text.len()
        ));
    }
    let nibble = |digit: u8| (digit as char).to_digit(16).unwrap_or_default() as u8;
    let pairs = text.as_bytes().chunks_exact(2);
    Ok(pairs
        .map(|pair| {
            pair.iter()
                .fold(0, |byte, &digit| byte << 4 | nibble(digit))
        })
        .collect())
}

/// Standard or URL-safe base64, with or without padding.
fn parse_base64(value: &Value) -> Result<Vec<u8>, String> {
    let text = parse_str(value)?;
    let unpadded = text.trim_end_matches('=');
    let padding = text.len() - unpadded.len();
    if unpadded.len() % 4 == 1 || (padding > 0 && (padding > 2 || text.len() % 4 != 0)) {
        return Err(format!(
            "expected base64, found {} characters, a length base64 cannot have",
            text.len()
        ));
    }
    let mut out = Vec::with_capacity(unpadded.len() * 3 / 4);
    let (mut bits, mut held) = (0u32, 0u32);
    for (position, c) in unpadded.bytes().enumerate() {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => {
                return Err(format!(
                    "expected base64, found {:?} at position {position}",
                    c as char
                ));
            }
        };
        bits = bits << 6 | u32::from(sextet);
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Protobuf wire encoding

fn put_key(out: &mut Vec<u8>, tag: u32, wire_type: WireType) {
    encode_key(tag, wire_type, out);
}

/// A length-delimited field written even when empty: a message, or a oneof member.
fn put_len(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    put_key(out, tag, WireType::LengthDelimited);
    encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// A string, bytes or packed field, left out when empty.
fn put_bytes(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    if !bytes.is_empty() {
        put_len(out, tag, bytes);
    }
}

fn put_varint(out: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        put_varint_always(out, tag, value);
    }
}

fn put_varint_always(out: &mut Vec<u8>, tag: u32, value: u64) {
    put_key(out, tag, WireType::Varint);
    encode_varint(value, out);
}

fn put_double_always(out: &mut Vec<u8>, tag: u32, value: f64) {
    put_key(out, tag, WireType::SixtyFourBit);
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{JsonError, Transcoded, detect_signal, transcode};
    use crate::Signal;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
    };
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
    use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as Number;
    use opentelemetry_proto::tonic::metrics::v1::summary_data_point::ValueAtQuantile;
    use opentelemetry_proto::tonic::metrics::v1::{
        Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
        HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
        SummaryDataPoint, exemplar, metric::Data,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
    use prost::Message;
    use serde_json::{Value, json};

    const SCHEMA: &str = "https://opentelemetry.io/schemas/1.26.0";
    const TRACE_ID: &str = "5b8efff798038103d269b633813fc60c";
    const SPAN_ID: &str = "eee19b7ec3c1b174";
    const START: u64 = 1_699_999_990_000_000_000;
    const TIME: u64 = 1_700_000_000_000_000_000;

    const CHECKOUT_TRACES: &str = r#"{"resourceSpans": [{
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}],
                   "droppedAttributesCount": 1},
      "scopeSpans": [{
        "scope": {"name": "io.opentelemetry.grpc-1.6", "version": "2.9.0", "droppedAttributesCount": 2,
                  "attributes": [{"key": "otel.scope.team", "value": {"stringValue": "payments"}}]},
        "spans": [{
          "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
          "traceState": "rojo=00f067aa0ba902b7", "parentSpanId": "eee19b7ec3c1b173", "flags": 257,
          "name": "POST /api/checkout", "kind": 2,
          "startTimeUnixNano": "1699999990000000000", "endTimeUnixNano": "1700000000000000000",
          "attributes": [
            {"key": "http.request.method", "value": {"stringValue": "POST"}},
            {"key": "url.path", "value": {"stringValue": "/api/checkout"}},
            {"key": "http.response.status_code", "value": {"intValue": "402"}},
            {"key": "checkout.retry", "value": {"boolValue": true}},
            {"key": "cart.total", "value": {"doubleValue": 129.95}}],
          "droppedAttributesCount": 3,
          "events": [{"timeUnixNano": "1700000000000000000", "name": "exception", "droppedAttributesCount": 1,
                      "attributes": [{"key": "exception.type", "value": {"stringValue": "PaymentDeclined"}}]}],
          "droppedEventsCount": 4,
          "links": [{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
                     "traceState": "congo=t61rcWkgMzE", "droppedAttributesCount": 1, "flags": 1,
                     "attributes": [{"key": "link.reason", "value": {"stringValue": "retry"}}]}],
          "droppedLinksCount": 5,
          "status": {"message": "card declined", "code": 2}}],
        "schemaUrl": "https://opentelemetry.io/schemas/1.26.0"}],
      "schemaUrl": "https://opentelemetry.io/schemas/1.26.0"}]}"#;

    const PAYMENT_METRICS: &str = r#"{"resourceMetrics": [{
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payment"}}]},
      "scopeMetrics": [{
        "scope": {"name": "io.opentelemetry.runtime-telemetry", "version": "2.9.0"},
        "metrics": [
          {"name": "payment.queue.depth", "description": "Charges waiting on the card network", "unit": "{charge}",
           "gauge": {"dataPoints": [
             {"attributes": [{"key": "payment.network", "value": {"stringValue": "visa"}}],
              "timeUnixNano": "1700000000000000000", "asDouble": 0.42},
             {"timeUnixNano": "1700000000000000000", "asInt": "-3", "flags": 1}]}},
          {"name": "http.server.request.count", "unit": "{request}",
           "sum": {"aggregationTemporality": 2, "isMonotonic": true, "dataPoints": [
             {"attributes": [{"key": "http.request.method", "value": {"stringValue": "POST"}},
                             {"key": "http.route", "value": {"stringValue": "/api/charge"}}],
              "startTimeUnixNano": "1699999990000000000", "timeUnixNano": "1700000000000000000", "asInt": "1234",
              "exemplars": [{"filteredAttributes": [{"key": "user.tier", "value": {"stringValue": "gold"}}],
                             "timeUnixNano": "1700000000000000000", "asDouble": 0.75,
                             "spanId": "eee19b7ec3c1b174", "traceId": "5b8efff798038103d269b633813fc60c"}]}]},
           "metadata": [{"key": "otel.metric.source", "value": {"stringValue": "sdk"}}]},
          {"name": "http.server.request.duration", "unit": "s",
           "histogram": {"aggregationTemporality": 1, "dataPoints": [
             {"attributes": [{"key": "url.path", "value": {"stringValue": "/api/charge"}}],
              "startTimeUnixNano": "1699999990000000000", "timeUnixNano": "1700000000000000000",
              "count": "12", "sum": 3.5, "bucketCounts": ["2", "7", "3"], "explicitBounds": [0.1, 0.5],
              "min": 0, "max": 1.25, "exemplars": [{"timeUnixNano": "1700000000000000000", "asInt": "7"}]}]}},
          {"name": "payment.amount", "unit": "USD",
           "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [
             {"attributes": [{"key": "payment.currency", "value": {"stringValue": "USD"}}],
              "startTimeUnixNano": "1699999990000000000", "timeUnixNano": "1700000000000000000",
              "count": "9", "sum": 412.5, "scale": -2, "zeroCount": "1", "zeroThreshold": 0.001,
              "positive": {"offset": -1, "bucketCounts": ["3", "5"]},
              "negative": {"offset": 2, "bucketCounts": ["0"]}, "min": 0.5, "max": 300, "flags": 1}]}},
          {"name": "payment.authorization.latency", "unit": "ms",
           "summary": {"dataPoints": [
             {"attributes": [{"key": "payment.network", "value": {"stringValue": "amex"}}],
              "startTimeUnixNano": "1699999990000000000", "timeUnixNano": "1700000000000000000",
              "count": "5", "sum": 640.5,
              "quantileValues": [{"quantile": 0.5, "value": 110}, {"quantile": 0.99, "value": 305.25}]}]}}]}]}]}"#;

    const CART_LOGS: &str = r#"{"resourceLogs": [{
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
      "scopeLogs": [{
        "scope": {"name": "cart.logging"},
        "logRecords": [
          {"timeUnixNano": "1700000000000000000", "observedTimeUnixNano": "1700000000000500000",
           "severityNumber": 9, "severityText": "INFO", "body": {"stringValue": "item added to cart"},
           "attributes": [{"key": "app.cart.items.count", "value": {"intValue": "3"}}],
           "droppedAttributesCount": 1, "flags": 1, "eventName": "cart.item.added",
           "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"},
          {"body": {"boolValue": false}},
          {"body": {"intValue": "-42"}},
          {"body": {"doubleValue": 0}},
          {"body": {"arrayValue": {"values": [{"stringValue": "sku-1"}, {"intValue": 2}, {}]}}},
          {"body": {"kvlistValue": {"values": [{"key": "order.id", "value": {"stringValue": "A-1001"}},
                                               {"key": "order.rush"}]}}},
          {"body": {"bytesValue": "Y2FydA=="}},
          {"body": {}},
          {"severityNumber": 17}]}],
      "schemaUrl": "https://opentelemetry.io/schemas/1.26.0"}]}"#;

    fn parse(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    fn run(signal: Signal, json: &Value) -> Transcoded {
        transcode(signal, &serde_json::to_vec(json).unwrap()).unwrap()
    }

    fn hex(digits: &str) -> Vec<u8> {
        let pair = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).unwrap();
        (0..digits.len()).step_by(2).map(pair).collect()
    }

    fn any(value: Any) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    fn text(value: &str) -> Any {
        Any::StringValue(value.to_owned())
    }

    fn attr(key: &str, value: Any) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: Some(any(value)),
            ..Default::default()
        }
    }

    fn resource(service: &str) -> Option<Resource> {
        let attributes = vec![attr("service.name", text(service))];
        Some(Resource {
            attributes,
            ..Default::default()
        })
    }

    fn scope(name: &str, version: &str) -> Option<InstrumentationScope> {
        let (name, version) = (name.to_owned(), version.to_owned());
        Some(InstrumentationScope {
            name,
            version,
            ..Default::default()
        })
    }

    /// Asserts nothing was rejected and the bytes are exactly what prost makes of `expected`.
    fn assert_prost_bytes<M: Message + Default + PartialEq + std::fmt::Debug>(
        got: &Transcoded,
        expected: &M,
    ) {
        assert_eq!((got.rejected_items, &got.first_rejection), (0, &None));
        assert_eq!(M::decode(got.protobuf.as_slice()).unwrap(), *expected);
        assert_eq!(got.protobuf, expected.encode_to_vec());
    }

    fn checkout_traces() -> ExportTraceServiceRequest {
        let span = Span {
            trace_id: hex(TRACE_ID),
            span_id: hex(SPAN_ID),
            trace_state: "rojo=00f067aa0ba902b7".into(),
            parent_span_id: hex("eee19b7ec3c1b173"),
            flags: 257,
            name: "POST /api/checkout".into(),
            kind: 2,
            start_time_unix_nano: START,
            end_time_unix_nano: TIME,
            attributes: vec![
                attr("http.request.method", text("POST")),
                attr("url.path", text("/api/checkout")),
                attr("http.response.status_code", Any::IntValue(402)),
                attr("checkout.retry", Any::BoolValue(true)),
                attr("cart.total", Any::DoubleValue(129.95)),
            ],
            dropped_attributes_count: 3,
            events: vec![Event {
                time_unix_nano: TIME,
                name: "exception".into(),
                attributes: vec![attr("exception.type", text("PaymentDeclined"))],
                dropped_attributes_count: 1,
            }],
            dropped_events_count: 4,
            links: vec![Link {
                trace_id: hex("0af7651916cd43dd8448eb211c80319c"),
                span_id: hex("b7ad6b7169203331"),
                trace_state: "congo=t61rcWkgMzE".into(),
                attributes: vec![attr("link.reason", text("retry"))],
                dropped_attributes_count: 1,
                flags: 1,
            }],
            dropped_links_count: 5,
            status: Some(Status {
                message: "card declined".into(),
                code: 2,
            }),
        };
        let mut resource = resource("checkout");
        resource
            .iter_mut()
            .for_each(|r| r.dropped_attributes_count = 1);
        let mut scope = scope("io.opentelemetry.grpc-1.6", "2.9.0");
        scope.iter_mut().for_each(|s| {
            s.attributes = vec![attr("otel.scope.team", text("payments"))];
            s.dropped_attributes_count = 2;
        });
        let scope_spans = vec![ScopeSpans {
            scope,
            spans: vec![span],
            schema_url: SCHEMA.into(),
        }];
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource,
                scope_spans,
                schema_url: SCHEMA.into(),
            }],
        }
    }

    fn payment_metrics() -> ExportMetricsServiceRequest {
        let number = |attributes, start, value, flags, exemplars| NumberDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: TIME,
            value: Some(value),
            exemplars,
            flags,
        };
        let metric = |name: &str, unit: &str, data, metadata| Metric {
            name: name.into(),
            unit: unit.into(),
            data: Some(data),
            metadata,
            ..Default::default()
        };
        let gauge = Data::Gauge(Gauge {
            data_points: vec![
                number(
                    vec![attr("payment.network", text("visa"))],
                    0,
                    Number::AsDouble(0.42),
                    0,
                    vec![],
                ),
                number(vec![], 0, Number::AsInt(-3), 1, vec![]),
            ],
        });
        let exemplar = Exemplar {
            filtered_attributes: vec![attr("user.tier", text("gold"))],
            time_unix_nano: TIME,
            span_id: hex(SPAN_ID),
            trace_id: hex(TRACE_ID),
            value: Some(exemplar::Value::AsDouble(0.75)),
        };
        let method_route = vec![
            attr("http.request.method", text("POST")),
            attr("http.route", text("/api/charge")),
        ];
        let sum = Data::Sum(Sum {
            data_points: vec![number(
                method_route,
                START,
                Number::AsInt(1234),
                0,
                vec![exemplar],
            )],
            aggregation_temporality: 2,
            is_monotonic: true,
        });
        let histogram = Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                attributes: vec![attr("url.path", text("/api/charge"))],
                start_time_unix_nano: START,
                time_unix_nano: TIME,
                count: 12,
                sum: Some(3.5),
                bucket_counts: vec![2, 7, 3],
                explicit_bounds: vec![0.1, 0.5],
                exemplars: vec![Exemplar {
                    time_unix_nano: TIME,
                    value: Some(exemplar::Value::AsInt(7)),
                    ..Default::default()
                }],
                flags: 0,
                min: Some(0.0),
                max: Some(1.25),
            }],
            aggregation_temporality: 1,
        });
        let exponential = Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                attributes: vec![attr("payment.currency", text("USD"))],
                start_time_unix_nano: START,
                time_unix_nano: TIME,
                count: 9,
                sum: Some(412.5),
                scale: -2,
                zero_count: 1,
                positive: Some(Buckets {
                    offset: -1,
                    bucket_counts: vec![3, 5],
                }),
                negative: Some(Buckets {
                    offset: 2,
                    bucket_counts: vec![0],
                }),
                flags: 1,
                exemplars: vec![],
                min: Some(0.5),
                max: Some(300.0),
                zero_threshold: 0.001,
            }],
            aggregation_temporality: 2,
        });
        let summary = Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                attributes: vec![attr("payment.network", text("amex"))],
                start_time_unix_nano: START,
                time_unix_nano: TIME,
                count: 5,
                sum: 640.5,
                quantile_values: vec![
                    ValueAtQuantile {
                        quantile: 0.5,
                        value: 110.0,
                    },
                    ValueAtQuantile {
                        quantile: 0.99,
                        value: 305.25,
                    },
                ],
                flags: 0,
            }],
        });
        let mut queue_depth = metric("payment.queue.depth", "{charge}", gauge, vec![]);
        queue_depth.description = "Charges waiting on the card network".into();
        let metrics = vec![
            queue_depth,
            metric(
                "http.server.request.count",
                "{request}",
                sum,
                vec![attr("otel.metric.source", text("sdk"))],
            ),
            metric("http.server.request.duration", "s", histogram, vec![]),
            metric("payment.amount", "USD", exponential, vec![]),
            metric("payment.authorization.latency", "ms", summary, vec![]),
        ];
        let scope = scope("io.opentelemetry.runtime-telemetry", "2.9.0");
        let scope_metrics = vec![ScopeMetrics {
            scope,
            metrics,
            schema_url: String::new(),
        }];
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: resource("payment"),
                scope_metrics,
                schema_url: String::new(),
            }],
        }
    }

    fn cart_logs() -> ExportLogsServiceRequest {
        let body = |value: Option<Any>| LogRecord {
            body: Some(AnyValue { value }),
            ..Default::default()
        };
        let array = vec![
            any(text("sku-1")),
            any(Any::IntValue(2)),
            AnyValue { value: None },
        ];
        let order = KeyValue {
            key: "order.rush".into(),
            value: None,
            ..Default::default()
        };
        let kvlist = vec![attr("order.id", text("A-1001")), order];
        let log_records = vec![
            LogRecord {
                time_unix_nano: TIME,
                observed_time_unix_nano: TIME + 500_000,
                severity_number: 9,
                severity_text: "INFO".into(),
                body: Some(any(text("item added to cart"))),
                attributes: vec![attr("app.cart.items.count", Any::IntValue(3))],
                dropped_attributes_count: 1,
                flags: 1,
                trace_id: hex(TRACE_ID),
                span_id: hex(SPAN_ID),
                event_name: "cart.item.added".into(),
            },
            body(Some(Any::BoolValue(false))),
            body(Some(Any::IntValue(-42))),
            body(Some(Any::DoubleValue(0.0))),
            body(Some(Any::ArrayValue(ArrayValue { values: array }))),
            body(Some(Any::KvlistValue(KeyValueList { values: kvlist }))),
            body(Some(Any::BytesValue(b"cart".to_vec()))),
            body(None),
            LogRecord {
                severity_number: 17,
                ..Default::default()
            },
        ];
        let scope_logs = vec![ScopeLogs {
            scope: scope("cart.logging", ""),
            log_records,
            schema_url: String::new(),
        }];
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: resource("cart"),
                scope_logs,
                schema_url: SCHEMA.into(),
            }],
        }
    }

    /// Rewrites every object key to snake_case (`traceId` → `trace_id`).
    fn snake_case_keys(value: &mut Value) {
        match value {
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut inner) in entries {
                    snake_case_keys(&mut inner);
                    let snake = key.chars().fold(String::new(), |mut out, c| {
                        if c.is_ascii_uppercase() {
                            out.push('_');
                        }
                        out.push(c.to_ascii_lowercase());
                        out
                    });
                    map.insert(snake, inner);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(snake_case_keys),
            _ => {}
        }
    }

    /// Adds a field no OTLP version defines to every object.
    fn add_unknown_fields(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.values_mut().for_each(add_unknown_fields);
                map.insert(
                    "futureField".into(),
                    json!({"traceId": "not hex", "kind": [true]}),
                );
            }
            Value::Array(items) => items.iter_mut().for_each(add_unknown_fields),
            _ => {}
        }
    }

    /// Writes every decimal-string integer as a JSON number, returning how many it changed.
    fn ints_as_numbers(value: &mut Value) -> usize {
        match value {
            Value::String(digits) => match digits.parse::<i64>() {
                Ok(number) => {
                    *value = json!(number);
                    1
                }
                Err(_) => 0,
            },
            Value::Object(map) => map.values_mut().map(ints_as_numbers).sum(),
            Value::Array(items) => items.iter_mut().map(ints_as_numbers).sum(),
            _ => 0,
        }
    }

    #[test]
    fn trace_request_with_every_span_field_matches_prost_bytes() {
        let got = transcode(Signal::Traces, CHECKOUT_TRACES.as_bytes()).unwrap();
        assert_prost_bytes(&got, &checkout_traces());
    }

    #[test]
    fn metrics_request_with_every_data_kind_matches_prost_bytes() {
        let got = transcode(Signal::Metrics, PAYMENT_METRICS.as_bytes()).unwrap();
        assert_prost_bytes(&got, &payment_metrics());
    }

    #[test]
    fn logs_request_with_every_body_kind_matches_prost_bytes() {
        let got = transcode(Signal::Logs, CART_LOGS.as_bytes()).unwrap();
        assert_prost_bytes(&got, &cart_logs());
    }

    #[test]
    fn int64_fields_accept_json_numbers_as_well_as_decimal_strings() {
        let (mut traces, mut metrics, mut logs) = (
            parse(CHECKOUT_TRACES),
            parse(PAYMENT_METRICS),
            parse(CART_LOGS),
        );
        assert_eq!(
            [ints_as_numbers(&mut traces), ints_as_numbers(&mut metrics)],
            [4, 25]
        );
        assert_eq!(ints_as_numbers(&mut logs), 4);
        assert_prost_bytes(&run(Signal::Traces, &traces), &checkout_traces());
        assert_prost_bytes(&run(Signal::Metrics, &metrics), &payment_metrics());
        assert_prost_bytes(&run(Signal::Logs, &logs), &cart_logs());
    }

    #[test]
    fn enums_accept_value_names() {
        let mut traces = parse(CHECKOUT_TRACES);
        let span = traces
            .pointer_mut("/resourceSpans/0/scopeSpans/0/spans/0")
            .unwrap();
        span["kind"] = json!("SPAN_KIND_SERVER");
        span["status"]["code"] = json!("STATUS_CODE_ERROR");
        assert_prost_bytes(&run(Signal::Traces, &traces), &checkout_traces());

        let mut metrics = parse(PAYMENT_METRICS);
        let list = metrics
            .pointer_mut("/resourceMetrics/0/scopeMetrics/0/metrics")
            .unwrap();
        list[1]["sum"]["aggregationTemporality"] = json!("AGGREGATION_TEMPORALITY_CUMULATIVE");
        list[2]["histogram"]["aggregationTemporality"] = json!("AGGREGATION_TEMPORALITY_DELTA");
        assert_prost_bytes(&run(Signal::Metrics, &metrics), &payment_metrics());

        let mut logs = parse(CART_LOGS);
        let records = logs
            .pointer_mut("/resourceLogs/0/scopeLogs/0/logRecords")
            .unwrap();
        records[0]["severityNumber"] = json!("SEVERITY_NUMBER_INFO");
        records[8]["severityNumber"] = json!("SEVERITY_NUMBER_ERROR");
        assert_prost_bytes(&run(Signal::Logs, &logs), &cart_logs());
    }

    #[test]
    fn snake_case_field_names_are_accepted() {
        let (mut traces, mut metrics, mut logs) = (
            parse(CHECKOUT_TRACES),
            parse(PAYMENT_METRICS),
            parse(CART_LOGS),
        );
        [&mut traces, &mut metrics, &mut logs]
            .into_iter()
            .for_each(snake_case_keys);
        assert!(traces["resource_spans"][0]["scope_spans"][0]["spans"][0]["trace_id"].is_string());
        assert_prost_bytes(&run(Signal::Traces, &traces), &checkout_traces());
        assert_prost_bytes(&run(Signal::Metrics, &metrics), &payment_metrics());
        assert_prost_bytes(&run(Signal::Logs, &logs), &cart_logs());
    }

    #[test]
    fn unknown_fields_are_ignored_at_every_level() {
        let (mut traces, mut metrics, mut logs) = (
            parse(CHECKOUT_TRACES),
            parse(PAYMENT_METRICS),
            parse(CART_LOGS),
        );
        [&mut traces, &mut metrics, &mut logs]
            .into_iter()
            .for_each(add_unknown_fields);
        assert!(
            traces["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["status"]["futureField"]
                .is_object()
        );
        assert_prost_bytes(&run(Signal::Traces, &traces), &checkout_traces());
        assert_prost_bytes(&run(Signal::Metrics, &metrics), &payment_metrics());
        assert_prost_bytes(&run(Signal::Logs, &logs), &cart_logs());
    }

    fn span(name: &str, trace_id: &str) -> Value {
        json!({"traceId": trace_id, "spanId": SPAN_ID, "name": name})
    }

    fn span_names(got: &Transcoded) -> Vec<Vec<String>> {
        let request = ExportTraceServiceRequest::decode(got.protobuf.as_slice()).unwrap();
        let scopes = request.resource_spans.iter().flat_map(|r| &r.scope_spans);
        scopes
            .map(|s| s.spans.iter().map(|span| span.name.clone()).collect())
            .collect()
    }

    #[test]
    fn span_with_short_trace_id_is_rejected_and_its_neighbours_kept() {
        let short = &TRACE_ID[1..];
        let request = json!({"resourceSpans": [{"resource": {}, "scopeSpans": [
            {"spans": [span("GET /", TRACE_ID)]},
            {"spans": [span("GET /api/products", TRACE_ID), span("GET /api/cart", TRACE_ID),
                       span("POST /api/cart", TRACE_ID), span("POST /api/checkout", short),
                       span("GET /api/recommendations", TRACE_ID)]}]}]});
        let got = run(Signal::Traces, &request);
        assert_eq!(got.rejected_items, 1);
        assert_eq!(
            got.first_rejection.as_deref(),
            Some(
                "resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex digits, found 31"
            )
        );
        let kept = [
            "GET /api/products",
            "GET /api/cart",
            "POST /api/cart",
            "GET /api/recommendations",
        ];
        assert_eq!(
            span_names(&got),
            vec![vec!["GET /".to_owned()], kept.map(String::from).to_vec()]
        );
    }

    #[test]
    fn wrongly_typed_fields_inside_a_span_reject_only_that_span() {
        let spans = [
            json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "name": "GET /api/cart", "attributes": {}}),
            json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "name": "GET /api/cart", "kind": true}),
            json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "name": "GET /api/cart", "kind": "SPAN_KIND_SERVERLESS"}),
            json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "name": 5}),
            json!({"traceId": TRACE_ID, "spanId": "", "name": "GET /api/cart"}),
            json!({"traceId": "zz8efff798038103d269b633813fc60c", "spanId": SPAN_ID}),
            json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "startTimeUnixNano": "1.7e18"}),
            json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "attributes": [{"key": "k", "value": {"intValue": "12a"}}]}),
            json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "events": [{"name": "retry", "droppedAttributesCount": -1}]}),
            json!({"traceId": TRACE_ID, "spanId": SPAN_ID, "status": {"code": 1, "message": "ok"}, "name": "GET /"}),
        ];
        let mut reasons = Vec::new();
        for span in &spans {
            let request = json!({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]});
            let got = run(Signal::Traces, &request);
            let reason = got.first_rejection.unwrap_or_default();
            reasons.push(
                reason
                    .trim_start_matches("resourceSpans[0].scopeSpans[0].spans[0].")
                    .to_owned(),
            );
            assert_eq!(
                got.rejected_items,
                u64::from(!reasons.last().unwrap().is_empty())
            );
        }
        assert_eq!(
            reasons,
            [
                "attributes: expected an array, found an object",
                "kind: expected an enum number or value name, found true",
                "kind: unknown enum value name \"SPAN_KIND_SERVERLESS\"",
                "name: expected a string, found 5",
                "spanId: expected 16 hex digits, found none",
                "traceId: expected 32 hex digits, found non-hex character 'z'",
                "startTimeUnixNano: expected an unsigned integer (a number or a decimal string), found \"1.7e18\"",
                "attributes[0].value.intValue: expected an integer (a number or a decimal string), found \"12a\"",
                "events[0].droppedAttributesCount: expected an unsigned integer (a number or a decimal string), found -1",
                "",
            ]
        );
    }

    fn metrics_with(metrics: Value) -> Value {
        json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": metrics}]}]})
    }

    fn point(value: Value) -> Value {
        json!({"timeUnixNano": "1700000000000000000", "asDouble": value})
    }

    fn decode_metrics(got: &Transcoded) -> Vec<Metric> {
        let request = ExportMetricsServiceRequest::decode(got.protobuf.as_slice()).unwrap();
        let scopes = request
            .resource_metrics
            .into_iter()
            .flat_map(|r| r.scope_metrics);
        scopes.flat_map(|s| s.metrics).collect()
    }

    #[test]
    fn non_numeric_as_double_rejects_the_point_instead_of_emptying_it() {
        let points = [point(json!(0.42)), point(json!("abc")), point(json!("2.5"))];
        let got = run(
            Signal::Metrics,
            &metrics_with(json!([{"name": "cart.size", "gauge": {"dataPoints": points}}])),
        );
        assert_eq!(got.rejected_items, 1);
        assert_eq!(
            got.first_rejection.as_deref(),
            Some(
                "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[1].asDouble: expected a number, found \"abc\""
            )
        );
        let Some(Data::Gauge(gauge)) = decode_metrics(&got).remove(0).data else {
            panic!("gauge expected")
        };
        let values: Vec<_> = gauge.data_points.iter().map(|p| p.value).collect();
        assert_eq!(
            values,
            [Some(Number::AsDouble(0.42)), Some(Number::AsDouble(2.5))]
        );
    }

    #[test]
    fn special_double_strings_are_numbers() {
        let points = [
            point(json!("NaN")),
            point(json!("Infinity")),
            point(json!("-Infinity")),
        ];
        let histogram =
            json!({"dataPoints": [{"explicitBounds": ["-Infinity", 0, "1e3"], "max": "Infinity"}]});
        let request = metrics_with(
            json!([{"name": "cpu", "gauge": {"dataPoints": points}}, {"name": "lat", "histogram": histogram}]),
        );
        let got = run(Signal::Metrics, &request);
        assert_eq!(got.rejected_items, 0);
        let metrics = decode_metrics(&got);
        let Some(Data::Gauge(gauge)) = &metrics[0].data else {
            panic!("gauge expected")
        };
        let doubles: Vec<f64> = gauge
            .data_points
            .iter()
            .map(|p| match p.value {
                Some(Number::AsDouble(double)) => double,
                _ => 0.0,
            })
            .collect();
        assert!(
            doubles[0].is_nan() && doubles[1] == f64::INFINITY && doubles[2] == f64::NEG_INFINITY
        );
        let Some(Data::Histogram(histogram)) = &metrics[1].data else {
            panic!("histogram expected")
        };
        assert_eq!(
            histogram.data_points[0].explicit_bounds,
            [f64::NEG_INFINITY, 0.0, 1000.0]
        );
        assert_eq!(histogram.data_points[0].max, Some(f64::INFINITY));
    }

    #[test]
    fn number_point_with_both_as_double_and_as_int_is_rejected() {
        let both = json!({"asDouble": 1.5, "asInt": "2"});
        let got = run(
            Signal::Metrics,
            &metrics_with(json!([{"name": "q", "gauge": {"dataPoints": [both, point(json!(3))]}}])),
        );
        assert_eq!(got.rejected_items, 1);
        assert_eq!(
            got.first_rejection.as_deref(),
            Some(
                "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]: holds both asDouble and asInt"
            )
        );
        let Some(Data::Gauge(gauge)) = decode_metrics(&got).remove(0).data else {
            panic!("gauge expected")
        };
        assert_eq!(gauge.data_points.len(), 1);
    }

    #[test]
    fn invalid_metric_data_rejects_its_points_counted_where_countable() {
        let three = [point(json!(1)), point(json!(2)), point(json!(3))];
        let request = metrics_with(json!([
            {"name": "checkout.orders", "sum": "x"},
            {"name": "checkout.revenue", "sum": {"aggregationTemporality": "BOGUS", "dataPoints": three}},
            {"name": "checkout.latency", "histogram": {"dataPoints": 5}},
            {"name": "checkout.queue", "gauge": {"dataPoints": [point(json!(7))]}},
            {"name": 17, "gauge": {"dataPoints": [point(json!(1)), point(json!(2))]}},
            "not a metric",
        ]));
        let got = run(Signal::Metrics, &request);
        assert_eq!(got.rejected_items, 1 + 3 + 1 + 2 + 1);
        assert_eq!(
            got.first_rejection.as_deref(),
            Some(
                "resourceMetrics[0].scopeMetrics[0].metrics[0].sum: expected an object, found \"x\""
            )
        );
        let kept: Vec<_> = decode_metrics(&got).into_iter().map(|m| m.name).collect();
        assert_eq!(kept, ["checkout.queue"]);
    }

    #[test]
    fn metric_with_both_gauge_and_sum_rejects_the_points_of_both() {
        let gauge = json!({"dataPoints": [point(json!(1)), point(json!(2))]});
        let sum = json!({"aggregationTemporality": 2, "dataPoints": [point(json!(3))]});
        let got = run(
            Signal::Metrics,
            &metrics_with(json!([{"name": "cart.items", "gauge": gauge, "sum": sum}])),
        );
        assert_eq!(got.rejected_items, 3);
        assert_eq!(
            got.first_rejection.as_deref(),
            Some(
                "resourceMetrics[0].scopeMetrics[0].metrics[0]: holds both gauge and sum; a metric holds one kind of data"
            )
        );
        assert_eq!(decode_metrics(&got), []);
    }

    #[test]
    fn metric_without_data_is_kept_with_no_points() {
        let got = run(
            Signal::Metrics,
            &metrics_with(json!([{"name": "shipping.quote", "unit": "USD"}])),
        );
        assert_eq!(got.rejected_items, 0);
        let expected = Metric {
            name: "shipping.quote".into(),
            unit: "USD".into(),
            ..Default::default()
        };
        assert_eq!(decode_metrics(&got), [expected]);
    }

    #[test]
    fn invalid_resource_or_scope_rejects_every_item_beneath_it() {
        let spans = |names: &[&str]| {
            names
                .iter()
                .map(|name| span(name, TRACE_ID))
                .collect::<Vec<_>>()
        };
        let request = json!({"resourceSpans": [
            {"resource": "checkout", "scopeSpans": [{"spans": spans(&["a", "b"])}, {"spans": spans(&["c", "d", "e"])}]},
            {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payment"}}]},
             "scopeSpans": [{"scope": 7, "spans": spans(&["f", "g"])}, {"spans": spans(&["charge"])}, []]},
            {"scopeSpans": "oops"},
            {"schemaUrl": 1.5, "scopeSpans": [{"spans": spans(&["h"])}]},
            42]});
        let got = run(Signal::Traces, &request);
        assert_eq!(got.rejected_items, 5 + 2 + 1 + 1 + 1 + 1);
        assert_eq!(
            got.first_rejection.as_deref(),
            Some("resourceSpans[0].resource: expected an object, found \"checkout\"")
        );
        assert_eq!(span_names(&got), [["charge"]]);
    }

    #[test]
    fn null_fields_read_as_absent() {
        let request = json!({"resourceSpans": [{"resource": null, "schemaUrl": null, "scopeSpans": [{"scope": null,
            "spans": [{"traceId": TRACE_ID, "spanId": SPAN_ID, "parentSpanId": null, "name": "GET /",
                       "status": null, "attributes": null, "kind": null}]}]}]});
        let span = Span {
            trace_id: hex(TRACE_ID),
            span_id: hex(SPAN_ID),
            name: "GET /".into(),
            ..Default::default()
        };
        let scope_spans = vec![ScopeSpans {
            spans: vec![span],
            ..Default::default()
        }];
        let expected = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans,
                ..Default::default()
            }],
        };
        assert_prost_bytes(&run(Signal::Traces, &request), &expected);
        let empty = run(Signal::Traces, &json!({"resourceSpans": null}));
        assert_eq!((empty.protobuf.len(), empty.rejected_items), (0, 0));
    }

    fn logs_with(records: Value) -> Value {
        json!({"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]})
    }

    fn decode_records(got: &Transcoded) -> Vec<LogRecord> {
        let request = ExportLogsServiceRequest::decode(got.protobuf.as_slice()).unwrap();
        let scopes = request.resource_logs.into_iter().flat_map(|r| r.scope_logs);
        scopes.flat_map(|s| s.log_records).collect()
    }

    #[test]
    fn log_record_ids_may_be_empty_but_not_malformed() {
        let records = json!([
            {"spanId": "00f067aa0ba902b", "body": {"stringValue": "short span id"}},
            {"traceId": "", "spanId": "", "body": {"stringValue": "no trace context"}},
            {"traceId": TRACE_ID, "spanId": SPAN_ID, "body": {"stringValue": "in a trace"}},
            {"traceId": "5b8efff798038103d269b633813fc60g", "body": {"stringValue": "non-hex"}}]);
        let got = run(Signal::Logs, &logs_with(records));
        assert_eq!(got.rejected_items, 2);
        assert_eq!(
            got.first_rejection.as_deref(),
            Some(
                "resourceLogs[0].scopeLogs[0].logRecords[0].spanId: expected 16 hex digits, found 15"
            )
        );
        let ids: Vec<_> = decode_records(&got)
            .into_iter()
            .map(|r| (r.trace_id, r.span_id))
            .collect();
        assert_eq!(ids, [(vec![], vec![]), (hex(TRACE_ID), hex(SPAN_ID))]);
    }

    #[test]
    fn bytes_value_accepts_base64_with_or_without_padding() {
        let records = json!([{"body": {"bytesValue": "Y2hlY2tvdXQ="}}, {"body": {"bytesValue": "Y2hlY2tvdXQ"}},
                             {"body": {"bytesValue": "-_8"}}, {"body": {"bytesValue": "Y2h!dA=="}}]);
        let got = run(Signal::Logs, &logs_with(records));
        assert_eq!(got.rejected_items, 1);
        assert_eq!(
            got.first_rejection.as_deref(),
            Some(
                "resourceLogs[0].scopeLogs[0].logRecords[3].body.bytesValue: expected base64, found '!' at position 3"
            )
        );
        let bodies: Vec<_> = decode_records(&got).into_iter().map(|r| r.body).collect();
        let bytes = |b: &[u8]| Some(any(Any::BytesValue(b.to_vec())));
        assert_eq!(
            bodies,
            [bytes(b"checkout"), bytes(b"checkout"), bytes(&[0xfb, 0xff])]
        );
    }

    #[test]
    fn any_value_nesting_is_bounded_without_overflowing_the_stack() {
        let nested = |levels: usize| {
            (0..levels).fold(
                json!({"stringValue": "leaf"}),
                |inner, _| json!({"arrayValue": {"values": [inner]}}),
            )
        };
        let got = run(
            Signal::Logs,
            &logs_with(json!([{"body": nested(31)}, {"body": nested(32)}])),
        );
        assert_eq!(got.rejected_items, 1);
        let reason = got.first_rejection.clone().unwrap_or_default();
        assert!(
            reason.starts_with(
                "resourceLogs[0].scopeLogs[0].logRecords[1].body.arrayValue.values[0]."
            ),
            "{reason}"
        );
        assert!(
            reason.ends_with(".values[0]: values nest more than 32 levels deep"),
            "{reason}"
        );
        let mut body = decode_records(&got).remove(0).body;
        let mut depth = 0;
        while let Some(AnyValue {
            value: Some(Any::ArrayValue(array)),
        }) = body
        {
            (body, depth) = (array.values.into_iter().next(), depth + 1);
        }
        assert_eq!((depth, body), (31, Some(any(text("leaf")))));
        let too_deep = serde_json::to_vec(&logs_with(json!([{"body": nested(200)}]))).unwrap();
        assert!(matches!(
            transcode(Signal::Logs, &too_deep),
            Err(JsonError::Syntax(_))
        ));
    }

    #[test]
    fn malformed_requests_are_errors() {
        let error = |signal, json: &[u8]| transcode(signal, json).unwrap_err().to_string();
        assert_eq!(
            error(Signal::Traces, b"[]"),
            "expected an OTLP export request (a JSON object), found an array"
        );
        assert_eq!(
            error(Signal::Logs, b"null"),
            "expected an OTLP export request (a JSON object), found null"
        );
        assert_eq!(
            error(Signal::Traces, br#"{"resourceSpans": {}}"#),
            "resourceSpans: expected an array, found an object"
        );
        assert_eq!(
            error(Signal::Metrics, br#"{"resource_metrics": 3}"#),
            "resource_metrics: expected an array, found 3"
        );
        let truncated = &CHECKOUT_TRACES.as_bytes()[..CHECKOUT_TRACES.len() / 2];
        assert!(matches!(
            transcode(Signal::Traces, truncated),
            Err(JsonError::Syntax(_))
        ));
        assert!(error(Signal::Traces, truncated).starts_with("invalid JSON: EOF while parsing"));
        let not_utf8 = b"{\"resourceLogs\": [{\"schemaUrl\": \"caf\xe9\"}]}";
        assert!(matches!(
            transcode(Signal::Logs, not_utf8),
            Err(JsonError::Syntax(_))
        ));
    }

    #[test]
    fn detect_signal_reads_the_top_level_key() {
        let detect = |json: &str| detect_signal(json.as_bytes()).unwrap();
        assert_eq!(detect(CHECKOUT_TRACES), Some(Signal::Traces));
        assert_eq!(detect(PAYMENT_METRICS), Some(Signal::Metrics));
        assert_eq!(detect(CART_LOGS), Some(Signal::Logs));
        assert_eq!(detect(r#"{"resource_logs": []}"#), Some(Signal::Logs));
        assert_eq!(detect("{}"), None);
        assert_eq!(detect(r#"{"resourceSpans": null}"#), None);
        let mixed = detect_signal(br#"{"resourceSpans": [], "resourceLogs": []}"#).unwrap_err();
        assert_eq!(
            mixed.to_string(),
            "the line holds both resourceSpans and resourceLogs; a file-exporter line holds one signal"
        );
        assert!(matches!(
            detect_signal(b"[1]"),
            Err(JsonError::NotAnObject { .. })
        ));
    }
}
