//! OTLP/JSON export requests converted to protobuf wire bytes, so the fingerprint engine (which
//! walks protobuf) also runs on `application/json` requests and Collector file-exporter lines.
//!
//! Strict where opentelemetry-proto's serde path is lenient: a span, data point or log record
//! with a wrongly typed or invalid field is left out and counted in
//! [`Transcoded::rejected_items`], never converted with the field quietly emptied. A problem in
//! a resource, scope or metric rejects every item beneath it; a problem with the request itself
//! is a [`JsonError`]. Not the hot path: it parses into `serde_json::Value`.

mod common;
mod encode;
mod layout;
mod logs;
mod message;
mod metrics;
mod rejections;
mod scalars;
mod traces;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

use serde_json::{Map, Value};

use crate::Signal;
use layout::Layout;
use message::{JsonMessage, Path, lookup};
use rejections::{Rejections, convert_all};
use scalars::describe;

/// An OTLP/JSON export request converted to protobuf wire bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcoded {
    /// ExportTraceServiceRequest / ExportMetricsServiceRequest / ExportLogsServiceRequest bytes.
    pub protobuf: Vec<u8>,
    /// Items (spans, data points, log records) left out because they were invalid.
    pub rejected_items: u64,
    /// Why the first rejected item was rejected, naming its JSON path, e.g.
    /// `resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex digits, found 31`.
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
    /// A field above the items (the resource or scope lists and entries) has the wrong
    /// type: the request does not match OTLP and cannot be decoded.
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
    convert_all(
        resources,
        1,
        &mut protobuf,
        &mut rejections,
        |value, path, rejections| layout.resource_entry(value, path, rejections),
    )
    .map_err(|invalid| JsonError::Field {
        path: invalid.path,
        problem: invalid.problem,
    })?;
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
