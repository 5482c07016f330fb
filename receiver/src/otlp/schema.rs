//! OTLP message layouts (field numbers from opentelemetry-proto) and the
//! validation schemas built from them. The fingerprint engine reads fields by
//! these numbers; `wire::validate` checks a request against the schemas first.

use crate::Signal;
use crate::wire::FieldKind::{Bytes, Custom, Fixed32, Fixed64, Message, String, Varint};
use crate::wire::{self, MAX_DEPTH, Schema, Value, WireError};

/// Field numbers, one module per OTLP message.
pub mod field {
    /// ExportXServiceRequest: the repeated resource blocks (same number for
    /// traces, metrics and logs).
    pub const REQUEST_RESOURCES: u32 = 1;

    /// ResourceSpans / ResourceMetrics / ResourceLogs.
    pub mod resource_block {
        pub const RESOURCE: u32 = 1;
        pub const SCOPES: u32 = 2;
        pub const SCHEMA_URL: u32 = 3;
    }
    /// Resource.
    pub mod resource {
        pub const ATTRIBUTES: u32 = 1;
    }
    /// ScopeSpans / ScopeMetrics / ScopeLogs.
    pub mod scope_block {
        pub const SCOPE: u32 = 1;
        pub const ITEMS: u32 = 2;
        pub const SCHEMA_URL: u32 = 3;
    }
    /// InstrumentationScope.
    pub mod scope {
        pub const NAME: u32 = 1;
        pub const VERSION: u32 = 2;
    }
    /// KeyValue.
    pub mod key_value {
        pub const KEY: u32 = 1;
        pub const VALUE: u32 = 2;
    }
    /// AnyValue (a oneof: the field number is the kind).
    pub mod any_value {
        pub const STRING: u32 = 1;
        pub const BOOL: u32 = 2;
        pub const INT: u32 = 3;
        pub const DOUBLE: u32 = 4;
        pub const ARRAY: u32 = 5;
        pub const KVLIST: u32 = 6;
        pub const BYTES: u32 = 7;
    }
    /// Span.
    pub mod span {
        pub const TRACE_ID: u32 = 1;
        pub const SPAN_ID: u32 = 2;
        pub const TRACE_STATE: u32 = 3;
        pub const PARENT_SPAN_ID: u32 = 4;
        pub const NAME: u32 = 5;
        pub const KIND: u32 = 6;
        pub const START_TIME: u32 = 7;
        pub const END_TIME: u32 = 8;
        pub const ATTRIBUTES: u32 = 9;
        pub const EVENTS: u32 = 11;
        pub const LINKS: u32 = 13;
        pub const STATUS: u32 = 15;
        pub const FLAGS: u32 = 16;
    }
    /// Span.Event.
    pub mod event {
        pub const NAME: u32 = 2;
    }
    /// Status.
    pub mod status {
        pub const CODE: u32 = 3;
    }
    /// Metric.
    pub mod metric {
        pub const NAME: u32 = 1;
        pub const UNIT: u32 = 3;
        pub const GAUGE: u32 = 5;
        pub const SUM: u32 = 7;
        pub const HISTOGRAM: u32 = 9;
        pub const EXPONENTIAL_HISTOGRAM: u32 = 10;
        pub const SUMMARY: u32 = 11;
    }
    /// Gauge, Sum, Histogram, ExponentialHistogram, Summary.
    pub mod metric_data {
        pub const DATA_POINTS: u32 = 1;
        pub const TEMPORALITY: u32 = 2;
        pub const IS_MONOTONIC: u32 = 3;
    }
    /// NumberDataPoint / HistogramDataPoint / ... attributes differ by type.
    pub mod point {
        pub const NUMBER_ATTRIBUTES: u32 = 7;
        pub const HISTOGRAM_ATTRIBUTES: u32 = 9;
        pub const EXPONENTIAL_ATTRIBUTES: u32 = 1;
        pub const SUMMARY_ATTRIBUTES: u32 = 7;
        pub const START_TIME: u32 = 2;
        pub const COUNT: u32 = 4;
        pub const EXPLICIT_BOUNDS: u32 = 7;
    }
    /// LogRecord.
    pub mod log {
        pub const SEVERITY_NUMBER: u32 = 2;
        pub const BODY: u32 = 5;
        pub const ATTRIBUTES: u32 = 6;
        pub const TRACE_ID: u32 = 9;
        pub const SPAN_ID: u32 = 10;
        pub const EVENT_NAME: u32 = 12;
    }
}

/// Validates an AnyValue: the hottest message of any request (every
/// attribute value), so it is checked by hand rather than through a schema.
fn validate_any_value(value: &[u8], depth: usize) -> Result<(), WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError::TooDeep);
    }
    for field in wire::fields(value) {
        match field? {
            (1, Value::Bytes(s)) if !wire::is_utf8(s) => {
                return Err(WireError::InvalidUtf8 { field: 1 });
            }
            (1 | 7, Value::Bytes(_)) | (2 | 3, Value::Varint(_)) | (4, Value::Fixed64(_)) => {}
            (5, Value::Bytes(array)) => {
                for element in wire::fields(array) {
                    match element? {
                        (1, Value::Bytes(v)) => validate_any_value(v, depth + 2)?,
                        (1, _) => return Err(WireError::WrongWireType { field: 1 }),
                        _ => {}
                    }
                }
            }
            (6, Value::Bytes(list)) => {
                for entry in wire::fields(list) {
                    match entry? {
                        (1, Value::Bytes(kv)) => validate_key_value(kv, depth + 2)?,
                        (1, _) => return Err(WireError::WrongWireType { field: 1 }),
                        _ => {}
                    }
                }
            }
            (number @ 1..=7, _) => return Err(WireError::WrongWireType { field: number }),
            _ => {}
        }
    }
    Ok(())
}

/// Validates a KeyValue (an attribute): UTF-8 key and a valid AnyValue.
fn validate_key_value(kv: &[u8], depth: usize) -> Result<(), WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError::TooDeep);
    }
    for field in wire::fields(kv) {
        match field? {
            (1, Value::Bytes(key)) if !wire::is_utf8(key) => {
                return Err(WireError::InvalidUtf8 { field: 1 });
            }
            (1, Value::Bytes(_)) => {}
            (2, Value::Bytes(value)) => validate_any_value(value, depth + 1)?,
            (number @ (1 | 2), _) => return Err(WireError::WrongWireType { field: number }),
            _ => {}
        }
    }
    Ok(())
}

/// An attribute list field: repeated KeyValue.
const KEY_VALUE: crate::wire::FieldKind = Custom(validate_key_value);
/// An AnyValue field (a log body).
const ANY_VALUE: crate::wire::FieldKind = Custom(validate_any_value);

static RESOURCE: Schema = Schema::new("Resource", &[(1, KEY_VALUE), (2, Varint)]);
static SCOPE: Schema = Schema::new(
    "InstrumentationScope",
    &[(1, String), (2, String), (3, KEY_VALUE), (4, Varint)],
);

static STATUS: Schema = Schema::new("Status", &[(2, String), (3, Varint)]);
static EVENT: Schema = Schema::new(
    "Span.Event",
    &[(1, Fixed64), (2, String), (3, KEY_VALUE), (4, Varint)],
);
static LINK: Schema = Schema::new(
    "Span.Link",
    &[
        (1, Bytes),
        (2, Bytes),
        (3, String),
        (4, KEY_VALUE),
        (5, Varint),
        (6, Fixed32),
    ],
);
static SPAN: Schema = Schema::new(
    "Span",
    &[
        (1, Bytes),
        (2, Bytes),
        (3, String),
        (4, Bytes),
        (5, String),
        (6, Varint),
        (7, Fixed64),
        (8, Fixed64),
        (9, KEY_VALUE),
        (10, Varint),
        (11, Message(&EVENT)),
        (12, Varint),
        (13, Message(&LINK)),
        (14, Varint),
        (15, Message(&STATUS)),
        (16, Fixed32),
    ],
);
static SCOPE_SPANS: Schema = Schema::new(
    "ScopeSpans",
    &[(1, Message(&SCOPE)), (2, Message(&SPAN)), (3, String)],
);
static RESOURCE_SPANS: Schema = Schema::new(
    "ResourceSpans",
    &[
        (1, Message(&RESOURCE)),
        (2, Message(&SCOPE_SPANS)),
        (3, String),
    ],
);
/// ExportTraceServiceRequest.
pub static TRACES_REQUEST: Schema = Schema::new(
    "ExportTraceServiceRequest",
    &[(1, Message(&RESOURCE_SPANS))],
);

static EXEMPLAR: Schema = Schema::new(
    "Exemplar",
    &[
        (7, KEY_VALUE),
        (2, Fixed64),
        (3, Fixed64),
        (6, Fixed64),
        (4, Bytes),
        (5, Bytes),
    ],
);
static NUMBER_POINT: Schema = Schema::new(
    "NumberDataPoint",
    &[
        (7, KEY_VALUE),
        (2, Fixed64),
        (3, Fixed64),
        (4, Fixed64),
        (6, Fixed64),
        (5, Message(&EXEMPLAR)),
        (8, Varint),
    ],
);
static HISTOGRAM_POINT: Schema = Schema::new(
    "HistogramDataPoint",
    &[
        (9, KEY_VALUE),
        (2, Fixed64),
        (3, Fixed64),
        (4, Fixed64),
        (5, Fixed64),
        (6, Fixed64),
        (7, Fixed64),
        (8, Message(&EXEMPLAR)),
        (10, Varint),
        (11, Fixed64),
        (12, Fixed64),
    ],
);
static BUCKETS: Schema = Schema::new(
    "ExponentialHistogramDataPoint.Buckets",
    &[(1, Varint), (2, Bytes)],
);
static EXPONENTIAL_POINT: Schema = Schema::new(
    "ExponentialHistogramDataPoint",
    &[
        (1, KEY_VALUE),
        (2, Fixed64),
        (3, Fixed64),
        (4, Fixed64),
        (5, Fixed64),
        (6, Varint),
        (7, Fixed64),
        (8, Message(&BUCKETS)),
        (9, Message(&BUCKETS)),
        (10, Varint),
        (11, Message(&EXEMPLAR)),
        (12, Fixed64),
        (13, Fixed64),
        (14, Fixed64),
    ],
);
static QUANTILE: Schema = Schema::new(
    "SummaryDataPoint.ValueAtQuantile",
    &[(1, Fixed64), (2, Fixed64)],
);
static SUMMARY_POINT: Schema = Schema::new(
    "SummaryDataPoint",
    &[
        (7, KEY_VALUE),
        (2, Fixed64),
        (3, Fixed64),
        (4, Fixed64),
        (5, Fixed64),
        (6, Message(&QUANTILE)),
        (8, Varint),
    ],
);
static GAUGE: Schema = Schema::new("Gauge", &[(1, Message(&NUMBER_POINT))]);
static SUM: Schema = Schema::new(
    "Sum",
    &[(1, Message(&NUMBER_POINT)), (2, Varint), (3, Varint)],
);
static HISTOGRAM: Schema = Schema::new("Histogram", &[(1, Message(&HISTOGRAM_POINT)), (2, Varint)]);
static EXPONENTIAL_HISTOGRAM: Schema = Schema::new(
    "ExponentialHistogram",
    &[(1, Message(&EXPONENTIAL_POINT)), (2, Varint)],
);
static SUMMARY: Schema = Schema::new("Summary", &[(1, Message(&SUMMARY_POINT))]);
static METRIC: Schema = Schema::new(
    "Metric",
    &[
        (1, String),
        (2, String),
        (3, String),
        (5, Message(&GAUGE)),
        (7, Message(&SUM)),
        (9, Message(&HISTOGRAM)),
        (10, Message(&EXPONENTIAL_HISTOGRAM)),
        (11, Message(&SUMMARY)),
        (12, KEY_VALUE),
    ],
);
static SCOPE_METRICS: Schema = Schema::new(
    "ScopeMetrics",
    &[(1, Message(&SCOPE)), (2, Message(&METRIC)), (3, String)],
);
static RESOURCE_METRICS: Schema = Schema::new(
    "ResourceMetrics",
    &[
        (1, Message(&RESOURCE)),
        (2, Message(&SCOPE_METRICS)),
        (3, String),
    ],
);
/// ExportMetricsServiceRequest.
pub static METRICS_REQUEST: Schema = Schema::new(
    "ExportMetricsServiceRequest",
    &[(1, Message(&RESOURCE_METRICS))],
);

static LOG_RECORD: Schema = Schema::new(
    "LogRecord",
    &[
        (1, Fixed64),
        (11, Fixed64),
        (2, Varint),
        (3, String),
        (5, ANY_VALUE),
        (6, KEY_VALUE),
        (7, Varint),
        (8, Fixed32),
        (9, Bytes),
        (10, Bytes),
        (12, String),
    ],
);
static SCOPE_LOGS: Schema = Schema::new(
    "ScopeLogs",
    &[(1, Message(&SCOPE)), (2, Message(&LOG_RECORD)), (3, String)],
);
static RESOURCE_LOGS: Schema = Schema::new(
    "ResourceLogs",
    &[
        (1, Message(&RESOURCE)),
        (2, Message(&SCOPE_LOGS)),
        (3, String),
    ],
);
/// ExportLogsServiceRequest.
pub static LOGS_REQUEST: Schema =
    Schema::new("ExportLogsServiceRequest", &[(1, Message(&RESOURCE_LOGS))]);

/// The export request schema of `signal`.
pub fn request_schema(signal: Signal) -> &'static Schema {
    match signal {
        Signal::Traces => &TRACES_REQUEST,
        Signal::Metrics => &METRICS_REQUEST,
        Signal::Logs => &LOGS_REQUEST,
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, ArrayValue, KeyValue, KeyValueList, any_value,
    };
    use prost::Message;

    use super::*;

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    #[test]
    fn attribute_values_of_every_kind_validate() {
        let nested = kv(
            "app.cart",
            any_value::Value::KvlistValue(KeyValueList {
                values: vec![
                    kv("items", any_value::Value::IntValue(3)),
                    kv("total", any_value::Value::DoubleValue(42.5)),
                    kv("gift", any_value::Value::BoolValue(true)),
                    kv("blob", any_value::Value::BytesValue(vec![0xff, 0x00])),
                    kv(
                        "skus",
                        any_value::Value::ArrayValue(ArrayValue {
                            values: vec![AnyValue {
                                value: Some(any_value::Value::StringValue("SKU-ü".into())),
                            }],
                        }),
                    ),
                ],
            }),
        );
        assert_eq!(validate_key_value(&nested.encode_to_vec(), 0), Ok(()));
    }

    #[test]
    fn invalid_utf8_deep_inside_a_kvlist_is_found() {
        let mut bytes = kv(
            "app.cart",
            any_value::Value::KvlistValue(KeyValueList {
                values: vec![kv("sku", any_value::Value::StringValue("ABC".into()))],
            }),
        )
        .encode_to_vec();
        let at = bytes.windows(3).position(|w| w == b"ABC").unwrap();
        bytes[at] = 0xc3; // a lead byte without its continuation
        assert_eq!(
            validate_key_value(&bytes, 0),
            Err(WireError::InvalidUtf8 { field: 1 })
        );
    }

    #[test]
    fn nesting_past_the_depth_limit_is_refused_not_overflowed() {
        let mut value = AnyValue {
            value: Some(any_value::Value::IntValue(1)),
        };
        for _ in 0..100 {
            value = AnyValue {
                value: Some(any_value::Value::ArrayValue(ArrayValue {
                    values: vec![value],
                })),
            };
        }
        assert_eq!(
            validate_any_value(&value.encode_to_vec(), 0),
            Err(WireError::TooDeep)
        );
    }

    #[test]
    fn wrong_wire_type_for_a_value_kind_is_refused() {
        // string_value (field 1) sent as a varint.
        assert_eq!(
            validate_any_value(&[0x08, 0x01], 0),
            Err(WireError::WrongWireType { field: 1 })
        );
        // An unknown field 9 is skipped, as protobuf requires.
        assert_eq!(validate_any_value(&[0x48, 0x01], 0), Ok(()));
    }
}
