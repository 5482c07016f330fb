//! Metrics and their data points: gauge, sum, histogram, exponential histogram and summary,
//! with exemplars.

use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
use prost::encoding::encode_varint;
use serde_json::Value;

use super::encode::{put_len, put_varint};
use super::message::{
    Convert, Encoded, Invalid, JsonMessage, Path, Presence, SPAN_ID_BYTES, TRACE_ID_BYTES, lookup,
};
use super::rejections::{Rejections, items_in, keep_valid};
use super::scalars::{parse_bool, parse_f64, parse_u64};

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
pub(super) fn metric(value: &Value, path: &Path, rejections: &mut Rejections) -> Encoded {
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
pub(super) fn metric_items(value: &Value) -> u64 {
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
