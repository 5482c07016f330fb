//! Spans, with their events, links and status.

use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use serde_json::Value;

use super::message::{Encoded, JsonMessage, Path, Presence, SPAN_ID_BYTES, TRACE_ID_BYTES};

pub(super) fn span(value: &Value, path: &Path) -> Encoded {
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
