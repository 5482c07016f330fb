//! Log records.

use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use serde_json::Value;

use super::common::any_value;
use super::message::{Encoded, JsonMessage, Path, Presence, SPAN_ID_BYTES, TRACE_ID_BYTES};

pub(super) fn log_record(value: &Value, path: &Path) -> Encoded {
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
