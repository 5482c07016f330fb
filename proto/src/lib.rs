//! The contract between otel-parity's receiver and analyzer: the fingerprint
//! messages and the `parity.v1.ParityService` push service, generated from
//! `parity/v1/*.proto`. Serde impls follow the proto3 JSON mapping, which is
//! the snapshot file format.

mod json_double;

/// `parity.v1`: fingerprint messages and the push service.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/parity.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/parity.v1.serde.rs"));
}

#[cfg(test)]
mod tests {
    use super::v1;

    #[test]
    fn snapshots_from_newer_releases_with_unknown_fields_still_read() {
        let json = r#"{"receiverInstance":"rx-1","futureField":{"x":1},"environments":{"prod":{"services":{}}}}"#;
        let snapshot: v1::Snapshot = serde_json::from_str(json).expect("reads");
        assert_eq!(snapshot.receiver_instance, "rx-1");
        assert!(snapshot.environments.contains_key("prod"));
    }

    #[test]
    fn non_finite_doubles_are_written_as_proto3_json_strings_and_read_back() {
        // A histogram bound of NaN (with a payload, as fuzzing found in
        // `ingest_metrics`) used to be written as `null`, and the snapshot
        // holding it could not be read.
        let layout = v1::BucketLayout {
            bounds: vec![
                0.005,
                f64::from_bits(0xffff_0a08_126e_6f69),
                f64::INFINITY,
                f64::NEG_INFINITY,
                10.0,
            ],
            data_points: 1,
        };
        let json = serde_json::to_string(&layout).expect("serializes");
        assert_eq!(
            json,
            r#"{"bounds":[0.005,"NaN","Infinity","-Infinity",10.0],"dataPoints":"1"}"#
        );
        let read: v1::BucketLayout = serde_json::from_str(&json).expect("reads back");
        assert_eq!(read.bounds.len(), 5);
        assert!(read.bounds[1].is_nan());
        assert_eq!(read.bounds[2..], [f64::INFINITY, f64::NEG_INFINITY, 10.0]);

        let durations = v1::DurationHistogram {
            p50_us: f64::NAN,
            p99_us: f64::INFINITY,
            ..Default::default()
        };
        let json = serde_json::to_string(&durations).expect("serializes");
        assert_eq!(json, r#"{"p50Us":"NaN","p99Us":"Infinity"}"#);
        let read: v1::DurationHistogram = serde_json::from_str(&json).expect("reads back");
        assert!(read.p50_us.is_nan());
        assert_eq!(read.p99_us, f64::INFINITY);
    }

    #[test]
    fn maps_serialize_sorted_by_key_with_uint64_as_strings() {
        let logs = v1::LogShape {
            records: 3,
            severities: [("WARN", 1), ("ERROR", 1), ("INFO", 1)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            attribute_keys: ["z.key", "a.key", "m.key"]
                .into_iter()
                .map(|k| (k.to_owned(), 7u64))
                .collect(),
            ..Default::default()
        };
        let json = serde_json::to_string(&logs).expect("serializes");
        assert_eq!(
            json,
            r#"{"records":"3","severities":{"ERROR":"1","INFO":"1","WARN":"1"},"attributeKeys":{"a.key":"7","m.key":"7","z.key":"7"}}"#
        );
    }
}
