//! Fixed-size, mergeable summaries: HyperLogLog distinct counts and HDR
//! duration histograms.

use datasketches::hll::{HllSketch, HllType};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use otel_parity_proto::v1 as pb;

/// Precision (log2 of registers) for series cardinality: ~0.8% standard error.
pub const SERIES_LG_K: u8 = 14;
/// Precision for per-key value and instance counts: ~1.6% standard error.
pub const VALUES_LG_K: u8 = 12;
/// The largest precision any receiver writes, and so the precision a merged
/// sketch keeps: unions never lose accuracy the inputs had.
pub const MAX_LG_K: u8 = SERIES_LG_K;
/// Significant digits of every duration histogram (1% resolution). Sketches
/// with another precision are not a receiver's.
pub const DURATION_SIGNIFICANT_DIGITS: u8 = 2;

/// Leaves the sketch bytes of `service` out, keeping the estimates: for
/// people (the API) and for small files (fuzz seeds), where the bytes mean
/// nothing and would be most of the size.
pub fn clear_sketch_bytes(service: &mut pb::ServiceFingerprint) {
    if let Some(instances) = service
        .resource
        .as_mut()
        .and_then(|resource| resource.instances.as_mut())
    {
        instances.hll.clear();
    }
    for metric in service.metrics.values_mut() {
        if let Some(series) = metric.series.as_mut() {
            series.hll.clear();
        }
        for key in metric.attribute_keys.values_mut() {
            if let Some(values) = key.values.as_mut() {
                values.hll.clear();
            }
        }
    }
    for operation in &mut service.span_operations {
        if let Some(duration) = operation.duration.as_mut() {
            duration.hdr.clear();
        }
    }
}

/// A distinct-count sketch over 64-bit hashes. Apache DataSketches HLL with
/// its default seed, so sketches from different receivers union correctly.
#[derive(Debug, Clone)]
pub struct DistinctCount {
    sketch: HllSketch,
}

impl DistinctCount {
    /// An empty sketch with `2^lg_k` registers (4-bit, the smallest form).
    pub fn new(lg_k: u8) -> Self {
        let sketch = HllSketch::new(lg_k, HllType::Hll4)
            .or_else(|_| HllSketch::new(VALUES_LG_K, HllType::Hll4));
        match sketch {
            Ok(sketch) => DistinctCount { sketch },
            // lg_k constants are within DataSketches' 4..=21 range.
            Err(_) => unreachable!("HLL precision constants are valid"),
        }
    }

    /// Records one hashed value.
    #[inline]
    pub fn insert(&mut self, hash: u64) {
        self.sketch.update(hash);
    }

    /// The distinct-count estimate.
    pub fn estimate(&self) -> f64 {
        self.sketch.estimate()
    }

    /// Heap bytes the sketch holds (grows from a sparse list up to the fixed
    /// dense size).
    pub fn memory_bytes(&self) -> usize {
        self.sketch.estimated_size()
    }

    /// The snapshot form: estimate plus the serialized sketch.
    pub fn to_proto(&self) -> pb::Cardinality {
        pb::Cardinality {
            estimate: self.estimate().round(),
            hll: self.sketch.serialize(),
        }
    }
}

/// Span durations in microseconds, [`DURATION_SIGNIFICANT_DIGITS`] significant digits.
#[derive(Debug, Clone)]
pub struct DurationHistogram {
    histogram: Histogram<u64>,
}

impl Default for DurationHistogram {
    fn default() -> Self {
        match Histogram::new(DURATION_SIGNIFICANT_DIGITS) {
            Ok(histogram) => DurationHistogram { histogram },
            Err(_) => unreachable!("2 significant digits is a valid HDR precision"),
        }
    }
}

impl DurationHistogram {
    /// Records one duration given in nanoseconds.
    #[inline]
    pub fn record_nanos(&mut self, nanos: u64) {
        // Sub-microsecond spans count as 1 µs so that the lowest bucket is 1.
        let micros = (nanos / 1_000).max(1);
        // The histogram auto-resizes, growing (rarely) to the largest value
        // seen; recording cannot fail below u64::MAX / 2.
        let _ = self.histogram.record(micros.min(u64::MAX / 4));
    }

    /// The snapshot form: count, percentiles and the V2-serialized histogram.
    pub fn to_proto(&self) -> pb::DurationHistogram {
        duration_proto(&self.histogram)
    }
}

/// The snapshot form of an HDR duration histogram (microseconds): count,
/// percentiles for people, and the V2 serialization for merging.
pub fn duration_proto(histogram: &Histogram<u64>) -> pb::DurationHistogram {
    let mut hdr = Vec::new();
    // Serializing into a Vec cannot fail for a valid histogram.
    if V2Serializer::new().serialize(histogram, &mut hdr).is_err() {
        hdr.clear();
    }
    let percentile = |q: f64| histogram.value_at_quantile(q) as f64;
    pb::DurationHistogram {
        count: histogram.len(),
        p50_us: percentile(0.5),
        p90_us: percentile(0.9),
        p99_us: percentile(0.99),
        hdr,
    }
}

/// Bytes of a V2 HDR header: cookie, payload length, normalizing offset,
/// significant digits, lowest and highest trackable value, ratio.
const HDR_V2_HEADER: usize = 40;
/// The cookie of the uncompressed V2 encoding (8-byte words), the one
/// [`duration_proto`] writes.
const HDR_V2_COOKIE: u32 = 0x1c84_9313;

/// Decodes a serialized HLL sketch, refusing precisions no receiver writes.
pub(crate) fn decode_hll(bytes: &[u8]) -> Result<HllSketch, String> {
    let sketch =
        HllSketch::deserialize(bytes).map_err(|e| format!("HLL sketch does not decode: {e}"))?;
    if sketch.lg_config_k() > MAX_LG_K {
        return Err(format!(
            "HLL precision {} is above the largest a receiver writes ({MAX_LG_K})",
            sketch.lg_config_k()
        ));
    }
    Ok(sketch)
}

/// Decodes a V2-serialized HDR duration histogram, refusing other encodings
/// and precisions. The header is checked first because the decoder sizes its
/// buffers from the header's claims (payload length, value range) before it
/// reads any payload: a 40-byte sketch could otherwise ask for gigabytes.
pub(crate) fn decode_hdr(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    let word = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_be_bytes)
    };
    if bytes.len() < HDR_V2_HEADER {
        return Err(format!(
            "HDR histogram is {} bytes, shorter than its {HDR_V2_HEADER}-byte header",
            bytes.len()
        ));
    }
    if word(0) != HDR_V2_COOKIE {
        return Err(format!(
            "HDR histogram is not in the V2 encoding receivers write (cookie {:#010x})",
            word(0)
        ));
    }
    let payload = word(4) as usize;
    if payload > bytes.len() - HDR_V2_HEADER {
        return Err(format!(
            "HDR histogram claims a {payload}-byte payload, {} bytes follow its header",
            bytes.len() - HDR_V2_HEADER
        ));
    }
    if word(12) != u32::from(DURATION_SIGNIFICANT_DIGITS) {
        return Err(format!(
            "HDR precision of {} significant digits, receivers write {DURATION_SIGNIFICANT_DIGITS}",
            word(12)
        ));
    }
    Deserializer::new()
        .deserialize::<u64, _>(&mut &bytes[..])
        .map_err(|e| format!("HDR histogram does not decode: {e:?}"))
}

/// A serialized HLL sketch of `values` at precision `lg_k`, as a receiver
/// writes one (the unit tests' sketches).
#[cfg(test)]
pub(crate) fn hll_of(lg_k: u8, values: impl IntoIterator<Item = u64>) -> pb::Cardinality {
    let mut sketch = HllSketch::new(lg_k, HllType::Hll4).unwrap();
    for v in values {
        sketch.update(v);
    }
    pb::Cardinality {
        estimate: sketch.estimate().round(),
        hll: sketch.serialize(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded_durations() -> Vec<u8> {
        let mut h = DurationHistogram::default();
        for ms in [3, 12, 12, 250] {
            h.record_nanos(ms * 1_000_000);
        }
        h.to_proto().hdr
    }

    #[test]
    fn durations_decode_as_they_were_encoded() {
        let histogram = decode_hdr(&encoded_durations()).unwrap();
        assert_eq!(histogram.len(), 4);
        assert_eq!(histogram.count_at(12_000), 2);
    }

    #[test]
    fn hdr_header_claiming_4_gib_of_counts_is_refused_before_allocating() {
        // Found by fuzzing (`push`): the header's counts length, 0xfe00_0003 here as in the
        // crashing push, made the decoder allocate 4 GiB while checking a push.
        let mut hdr = encoded_durations();
        hdr[4..8].copy_from_slice(&0xfe00_0003u32.to_be_bytes());
        let error = decode_hdr(&hdr).unwrap_err();
        assert_eq!(
            error,
            format!(
                "HDR histogram claims a 4261412867-byte payload, {} bytes follow its header",
                hdr.len() - 40
            )
        );
    }

    #[test]
    fn hdr_headers_receivers_never_write_are_refused() {
        let mut five_digits = encoded_durations();
        five_digits[12..16].copy_from_slice(&5u32.to_be_bytes());
        assert!(
            decode_hdr(&five_digits)
                .unwrap_err()
                .contains("5 significant digits")
        );
        let mut compressed = encoded_durations();
        compressed[0..4].copy_from_slice(&0x1c84_9314u32.to_be_bytes());
        assert!(decode_hdr(&compressed).unwrap_err().contains("0x1c849314"));
        assert!(
            decode_hdr(&encoded_durations()[..10])
                .unwrap_err()
                .contains("shorter than its 40-byte header")
        );
    }

    #[test]
    fn sketches_built_apart_union_to_the_count_of_all_values() {
        let mut a = DistinctCount::new(SERIES_LG_K);
        let mut b = DistinctCount::new(SERIES_LG_K);
        for i in 0..50_000u64 {
            a.insert(i);
            b.insert(i + 25_000);
        }
        let mut union = datasketches::hll::HllUnion::new(SERIES_LG_K).unwrap();
        union.update(&HllSketch::deserialize(&a.to_proto().hll).unwrap());
        union.update(&HllSketch::deserialize(&b.to_proto().hll).unwrap());
        let estimate = union.estimate();
        assert!((estimate - 75_000.0).abs() / 75_000.0 < 0.02, "{estimate}");
    }

    #[test]
    fn duration_percentiles_are_within_one_percent() {
        let mut h = DurationHistogram::default();
        for ms in 1..=100u64 {
            h.record_nanos(ms * 1_000_000);
        }
        let p = h.to_proto();
        assert_eq!(p.count, 100);
        assert!((p.p50_us - 50_000.0).abs() <= 500.0, "{}", p.p50_us);
        assert!((p.p99_us - 99_000.0).abs() <= 990.0, "{}", p.p99_us);
    }

    #[test]
    fn clearing_sketch_bytes_keeps_every_estimate() {
        let cardinality = || hll_of(VALUES_LG_K, [1, 2, 3]);
        let mut durations = DurationHistogram::default();
        durations.record_nanos(12_000_000);
        let durations = durations.to_proto();
        let p50_us = durations.p50_us;
        let mut service = pb::ServiceFingerprint {
            resource: Some(pb::ResourceShape {
                instances: Some(cardinality()),
                ..Default::default()
            }),
            metrics: [(
                "m".to_owned(),
                pb::MetricShape {
                    series: Some(cardinality()),
                    attribute_keys: [(
                        "k".to_owned(),
                        pb::AttributeKeyShape {
                            count: 1,
                            values: Some(cardinality()),
                        },
                    )]
                    .into(),
                    ..Default::default()
                },
            )]
            .into(),
            span_operations: vec![pb::SpanOperation {
                duration: Some(durations),
                ..Default::default()
            }],
            ..Default::default()
        };
        clear_sketch_bytes(&mut service);
        let instances = service.resource.as_ref().and_then(|r| r.instances.as_ref());
        let metric = &service.metrics["m"];
        let values = metric.attribute_keys["k"].values.as_ref();
        let duration = service.span_operations[0].duration.as_ref();
        for cardinality in [instances, metric.series.as_ref(), values] {
            let cardinality = cardinality.expect("kept");
            assert!(cardinality.hll.is_empty());
            assert_eq!(cardinality.estimate, 3.0);
        }
        let duration = duration.expect("kept");
        assert!(duration.hdr.is_empty());
        assert_eq!((duration.count, duration.p50_us), (1, p50_us));
    }
}
