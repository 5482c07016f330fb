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

/// Significant digits of span-duration histograms: 1% error.
pub const DURATION_SIGNIFICANT_DIGITS: u8 = 2;

/// HdrHistogram's V2 encoding as `duration_proto` writes it (uncompressed): its cookie, and
/// the bytes before the counts (cookie, counts length, normalizing offset, significant
/// digits, lowest and highest trackable value, integer-to-double ratio).
const HDR_V2_COOKIE: u32 = 0x1c84_9313;
const HDR_V2_HEADER_BYTES: usize = 40;

/// Span durations in microseconds, `DURATION_SIGNIFICANT_DIGITS` significant digits.
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

/// Decodes a duration histogram as `duration_proto` encodes it. The header is checked first:
/// the decoder allocates what a header claims (up to 4 GiB of counts, a counts array for 5
/// significant digits) before reading a byte of it, so a few bytes in a push or a snapshot
/// could otherwise take all the analyzer's memory.
pub fn decode_duration(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    let word = |at: usize| -> Option<u32> {
        let word = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(word))
    };
    let (Some(cookie), Some(counts_claimed), Some(digits)) = (word(0), word(4), word(12)) else {
        return Err(format!(
            "HDR histogram of {} bytes is shorter than its header",
            bytes.len()
        ));
    };
    if cookie != HDR_V2_COOKIE {
        return Err(format!(
            "HDR histogram cookie {cookie:#010x} is not the uncompressed V2 encoding receivers write"
        ));
    }
    let counts = bytes.len().saturating_sub(HDR_V2_HEADER_BYTES);
    if counts_claimed as usize > counts {
        return Err(format!(
            "HDR histogram claims {counts_claimed} bytes of counts but holds {counts}"
        ));
    }
    if digits > u32::from(DURATION_SIGNIFICANT_DIGITS) {
        return Err(format!(
            "HDR precision of {digits} significant digits is above the \
             {DURATION_SIGNIFICANT_DIGITS} receivers write"
        ));
    }
    Deserializer::new()
        .deserialize::<u64, _>(&mut &bytes[..])
        .map_err(|e| format!("HDR histogram does not decode: {e:?}"))
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
        let histogram = decode_duration(&encoded_durations()).unwrap();
        assert_eq!(histogram.len(), 4);
        assert_eq!(histogram.count_at(12_000), 2);
    }

    #[test]
    fn hdr_header_claiming_4_gib_of_counts_is_refused_before_allocating() {
        // Found by fuzzing (`push`): the header's counts length, 0xfe00_0003 here as in the
        // crashing push, made the decoder allocate 4 GiB while checking a push.
        let mut hdr = encoded_durations();
        hdr[4..8].copy_from_slice(&0xfe00_0003u32.to_be_bytes());
        let error = decode_duration(&hdr).unwrap_err();
        assert_eq!(
            error,
            format!(
                "HDR histogram claims 4261412867 bytes of counts but holds {}",
                hdr.len() - 40
            )
        );
    }

    #[test]
    fn hdr_headers_receivers_never_write_are_refused() {
        let mut five_digits = encoded_durations();
        five_digits[12..16].copy_from_slice(&5u32.to_be_bytes());
        assert!(
            decode_duration(&five_digits)
                .unwrap_err()
                .contains("5 significant digits")
        );
        let mut compressed = encoded_durations();
        compressed[0..4].copy_from_slice(&0x1c84_9314u32.to_be_bytes());
        assert!(
            decode_duration(&compressed)
                .unwrap_err()
                .contains("0x1c849314")
        );
        assert!(
            decode_duration(&encoded_durations()[..10])
                .unwrap_err()
                .contains("shorter than its header")
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
}
