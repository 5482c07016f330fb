use std::sync::atomic::{AtomicU32, Ordering};

use otel_parity_proto::v1 as pb;

use super::*;

/// 2026-09-21T00:00:00Z in Unix nanoseconds: windows start here.
const T0: u64 = 1_790_000_000_000_000_000;
/// One push interval.
const SECOND: u64 = 1_000_000_000;
const WINDOW: u64 = 10 * SECOND;

/// A database file under the temp directory, removed (with its WAL) on drop.
struct TempDb(PathBuf);

impl TempDb {
    fn new(test: &str) -> TempDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "otel-parity-store-{}-{}-{test}.db",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let db = TempDb(std::env::temp_dir().join(name));
        db.remove();
        db
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The checkout service of the OpenTelemetry demo as one receiver saw it over
/// one window: `server_spans` POST /checkout requests, each also counted by
/// the request-duration histogram, two data points per request.
fn checkout(server_spans: u64) -> pb::EnvironmentFingerprint {
    let data_points = 2 * server_spans;
    let metric = pb::MetricShape {
        types: [("histogram".to_owned(), data_points)].into(),
        units: [("s".to_owned(), data_points)].into(),
        temporalities: [("cumulative".to_owned(), data_points)].into(),
        bucket_layouts: vec![pb::BucketLayout {
            bounds: vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
            data_points,
        }],
        attribute_keys: [
            "http.request.method",
            "http.route",
            "http.response.status_code",
        ]
        .into_iter()
        .map(|key| {
            let shape = pb::AttributeKeyShape {
                count: data_points,
                values: None,
            };
            (key.to_owned(), shape)
        })
        .collect(),
        data_points,
        ..Default::default()
    };
    let operation = pb::SpanOperation {
        name: "POST /checkout".into(),
        kind: pb::SpanKind::Server as i32,
        spans: server_spans,
        errors: server_spans / 10,
        attribute_keys: [
            ("http.request.method".to_owned(), server_spans),
            ("http.route".to_owned(), server_spans),
            ("url.scheme".to_owned(), server_spans),
        ]
        .into(),
        propagation: Some(pb::Propagation {
            remote_parent: server_spans,
            ..Default::default()
        }),
        ..Default::default()
    };
    let service = pb::ServiceFingerprint {
        namespace: "shop".into(),
        name: "checkout".into(),
        resource: Some(pb::ResourceShape {
            resources: 1,
            attribute_keys: [("service.version".to_owned(), 1)].into(),
            allowed_values: [(
                "service.version".to_owned(),
                pb::ValueCounts {
                    values: [("1.12.0".to_owned(), 1)].into(),
                },
            )]
            .into(),
            ..Default::default()
        }),
        metrics: [("http.server.request.duration".to_owned(), metric)].into(),
        span_operations: vec![operation],
        ingestion: Some(pb::Ingestion {
            traces: Some(pb::SignalIngestion {
                items: server_spans,
                requests: 1,
                bytes: 440 * server_spans,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    pb::EnvironmentFingerprint {
        services: [("shop/checkout".to_owned(), service)].into(),
        overflow: None,
    }
}

fn push(environment: &str, receiver: &str, window: u64, sequence: u64, spans: u64) -> PushRequest {
    PushRequest {
        environment: environment.into(),
        receiver_instance: receiver.into(),
        window_start_unix_nano: T0 + window * WINDOW,
        window_end_unix_nano: T0 + (window + 1) * WINDOW,
        sequence,
        fingerprint: Some(checkout(spans)),
    }
}

fn received(request: &PushRequest) -> u64 {
    request.window_end_unix_nano + SECOND / 10
}

/// (POST /checkout spans, http.server.request.duration data points).
fn checkout_counts(merged: &MergedFingerprint) -> (u64, u64) {
    let service = &merged.fingerprint.services["shop/checkout"];
    let metric = &service.metrics["http.server.request.duration"];
    (service.span_operations[0].spans, metric.data_points)
}

fn store_with(pushes: &[PushRequest]) -> Store {
    let store = Store::open_in_memory().unwrap();
    for request in pushes {
        assert_eq!(
            store.insert_push(request, received(request)).unwrap(),
            Inserted::New
        );
    }
    store
}

#[test]
fn pushes_of_two_receivers_merge_with_counts_added() {
    let store = store_with(&[
        push("production", "otelcol-a", 0, 1, 30),
        push("production", "otelcol-b", 0, 4, 12),
    ]);
    let merged = store
        .fingerprint("production", 0, u64::MAX)
        .unwrap()
        .unwrap();
    assert_eq!(checkout_counts(&merged), (42, 84));
    let service = &merged.fingerprint.services["shop/checkout"];
    assert_eq!(service.span_operations.len(), 1);
    assert_eq!(service.span_operations[0].errors, 3 + 1);
    assert_eq!(
        service.resource.as_ref().unwrap().allowed_values["service.version"].values["1.12.0"],
        2
    );
    let metric = &service.metrics["http.server.request.duration"];
    assert_eq!(metric.bucket_layouts[0].data_points, 84);
    assert_eq!(metric.attribute_keys["http.route"].count, 84);
    assert_eq!((merged.pushes, merged.receivers), (2, 2));
    assert_eq!(
        (merged.window_start_unix_nano, merged.window_end_unix_nano),
        (T0, T0 + WINDOW)
    );
}

#[test]
fn retried_push_is_a_duplicate_and_is_not_counted_twice() {
    let first = push("production", "otelcol-a", 0, 1, 30);
    let store = store_with(&[first.clone(), push("production", "otelcol-b", 0, 4, 12)]);
    // The retry carries the same key; even a different body changes nothing.
    let mut retry = first.clone();
    retry.fingerprint = Some(checkout(1_000));
    assert_eq!(
        store
            .insert_push(&first, received(&first) + SECOND)
            .unwrap(),
        Inserted::Duplicate
    );
    assert_eq!(
        store
            .insert_push(&retry, received(&first) + 2 * SECOND)
            .unwrap(),
        Inserted::Duplicate
    );
    let merged = store
        .fingerprint("production", 0, u64::MAX)
        .unwrap()
        .unwrap();
    assert_eq!(checkout_counts(&merged), (42, 84));
    assert_eq!(merged.pushes, 2);
    assert_eq!(store.push_count().unwrap(), 2);
}

#[test]
fn same_sequence_in_a_new_window_is_a_new_push() {
    // A receiver that restarts counts its sequence from 1 again.
    let store = store_with(&[push("staging", "otelcol-a", 0, 1, 30)]);
    let restarted = push("staging", "otelcol-a", 6, 1, 5);
    assert_eq!(
        store.insert_push(&restarted, received(&restarted)).unwrap(),
        Inserted::New
    );
    let merged = store.fingerprint("staging", 0, u64::MAX).unwrap().unwrap();
    assert_eq!(checkout_counts(&merged), (35, 70));
    assert_eq!((merged.pushes, merged.receivers), (2, 1));
}

#[test]
fn environments_list_receivers_pushes_and_time_range_sorted_by_name() {
    let store = store_with(&[
        push("staging", "otelcol-s", 2, 9, 3),
        push("production", "otelcol-a", 0, 1, 30),
        push("production", "otelcol-b", 1, 4, 12),
        push("production", "otelcol-a", 3, 2, 25),
    ]);
    let summary = |name: &str, receivers, pushes, first: u64, last: u64| EnvironmentSummary {
        name: name.into(),
        receivers,
        pushes,
        first_window_start_unix_nano: T0 + first * WINDOW,
        last_window_end_unix_nano: T0 + last * WINDOW,
    };
    assert_eq!(
        store.environments().unwrap(),
        vec![
            summary("production", 2, 3, 0, 4),
            summary("staging", 1, 1, 2, 3)
        ]
    );
    assert_eq!(store.push_count().unwrap(), 4);
}

#[test]
fn time_range_keeps_only_windows_that_overlap_it() {
    let store = store_with(&[
        push("production", "otelcol-a", 0, 1, 30),
        push("production", "otelcol-a", 1, 2, 20),
        push("production", "otelcol-a", 2, 3, 10),
    ]);
    // Since mid-window 1: windows 1 and 2.
    let recent = store
        .fingerprint("production", T0 + 15 * SECOND, u64::MAX)
        .unwrap()
        .unwrap();
    assert_eq!(checkout_counts(&recent), (30, 60));
    assert_eq!(recent.pushes, 2);
    assert_eq!(recent.window_start_unix_nano, T0 + WINDOW);
    // Until the end of window 0: window 1 starts there, so it is out.
    let first = store
        .fingerprint("production", 0, T0 + WINDOW)
        .unwrap()
        .unwrap();
    assert_eq!(checkout_counts(&first), (30, 60));
    assert_eq!(first.window_end_unix_nano, T0 + WINDOW);
    // Since the end of the last window: nothing.
    assert_eq!(
        store
            .fingerprint("production", T0 + 3 * WINDOW, u64::MAX)
            .unwrap(),
        None
    );
    assert_eq!(store.fingerprint("development", 0, u64::MAX).unwrap(), None);
}

#[test]
fn delete_older_than_removes_exactly_windows_that_ended_before() {
    let store = store_with(&[
        push("production", "otelcol-a", 0, 1, 30),
        push("production", "otelcol-a", 1, 2, 20),
        push("production", "otelcol-a", 2, 3, 10),
        push("staging", "otelcol-s", 0, 1, 3),
    ]);
    // Window 1 ends exactly at the cutoff: kept.
    assert_eq!(store.delete_older_than(T0 + 2 * WINDOW).unwrap(), 2);
    assert_eq!(store.push_count().unwrap(), 2);
    let names: Vec<_> = store
        .environments()
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["production"]);
    let kept = store
        .fingerprint("production", 0, u64::MAX)
        .unwrap()
        .unwrap();
    assert_eq!(checkout_counts(&kept), (30, 60));
    assert_eq!(store.delete_older_than(T0 + 2 * WINDOW).unwrap(), 0);
}

#[test]
fn acknowledged_pushes_survive_closing_and_reopening_the_file() {
    let db = TempDb::new("durable");
    let pushes = [
        push("production", "otelcol-a", 0, 1, 30),
        push("production", "otelcol-b", 0, 4, 12),
        push("staging", "otelcol-s", 0, 1, 7),
    ];
    let (environments, merged) = {
        let store = Store::open(&db.0).unwrap();
        for request in &pushes {
            store.insert_push(request, received(request)).unwrap();
        }
        let connection = store.connection.lock();
        let mode: String = connection
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        let synchronous: i64 = connection
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(
            (mode.as_str(), synchronous),
            ("wal", 2),
            "WAL with synchronous=FULL"
        );
        drop(connection);
        (
            store.environments().unwrap(),
            store.fingerprint("production", 0, u64::MAX).unwrap(),
        )
    };
    let store = Store::open(&db.0).unwrap();
    assert_eq!(store.push_count().unwrap(), 3);
    assert_eq!(store.environments().unwrap(), environments);
    let reopened = store.fingerprint("production", 0, u64::MAX).unwrap();
    assert_eq!(reopened, merged);
    assert_eq!(checkout_counts(&reopened.unwrap()), (42, 84));
    assert_eq!(
        store.insert_push(&pushes[2], 0).unwrap(),
        Inserted::Duplicate
    );
}

#[test]
fn reopening_runs_no_migration_twice() {
    let db = TempDb::new("reopen");
    drop(Store::open(&db.0).unwrap());
    // Version 1 creates the table without IF NOT EXISTS: a second run would fail.
    for _ in 0..2 {
        let store = Store::open(&db.0).unwrap();
        let version = user_version(&store.connection.lock()).unwrap();
        assert_eq!(version, 1);
    }
}

#[test]
fn database_from_a_newer_release_is_refused_and_left_alone() {
    let db = TempDb::new("future");
    drop(Store::open(&db.0).unwrap());
    let raw = Connection::open(&db.0).unwrap();
    raw.pragma_update(None, "user_version", 99).unwrap();
    drop(raw);
    let error = Store::open(&db.0).unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::UnsupportedSchema {
                found: 99,
                supported: 1,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&db.0.display().to_string()), "{message}");
    assert!(message.contains("schema version 99"), "{message}");
    assert!(message.contains("newer release"), "{message}");
    let raw = Connection::open(&db.0).unwrap();
    assert_eq!(user_version(&raw).unwrap(), 99);
}

#[test]
fn invalid_pushes_are_refused_naming_the_problem_and_nothing_is_stored() {
    let valid = push("staging", "otelcol-s", 0, 1, 3);
    let with = |change: fn(&mut PushRequest)| {
        let mut request = valid.clone();
        change(&mut request);
        request
    };
    let cases = [
        (with(|p| p.environment.clear()), "environment is empty"),
        (
            with(|p| p.receiver_instance.clear()),
            "receiver_instance is empty",
        ),
        (
            with(|p| p.window_end_unix_nano = p.window_start_unix_nano - 1),
            "window_end_unix_nano 1789999999999999999 is before window_start_unix_nano",
        ),
        (with(|p| p.fingerprint = None), "fingerprint is missing"),
        (
            with(|p| {
                p.window_start_unix_nano = i64::MAX as u64 + 1;
                p.window_end_unix_nano = u64::MAX;
            }),
            "window_start_unix_nano 9223372036854775808 is beyond the year 2262",
        ),
        (
            with(|p| p.sequence = u64::MAX),
            "sequence 18446744073709551615 is beyond",
        ),
    ];
    let store = Store::open_in_memory().unwrap();
    for (request, reason) in &cases {
        let error = store.insert_push(request, T0).unwrap_err();
        assert!(matches!(error, StoreError::InvalidPush(_)), "{error:?}");
        assert!(
            error.to_string().contains(reason),
            "{error} lacks {reason:?}"
        );
    }
    assert!(matches!(
        store.insert_push(&valid, u64::MAX),
        Err(StoreError::InvalidPush(_))
    ));
    assert_eq!(store.push_count().unwrap(), 0);
    assert_eq!(store.environments().unwrap(), []);
}

#[test]
fn corrupt_fingerprint_blob_is_an_error_naming_the_row() {
    let store = store_with(&[
        push("production", "otelcol-a", 0, 1, 30),
        push("production", "otelcol-b", 0, 7, 12),
    ]);
    for (garbage, reason) in [
        (
            rusqlite::types::Value::Blob(b"not a fingerprint".to_vec()),
            "wire type",
        ),
        (
            rusqlite::types::Value::Text("{}".into()),
            "stored as Text instead of a protobuf BLOB",
        ),
    ] {
        store
            .connection
            .lock()
            .execute(
                "UPDATE pushes SET fingerprint = ?1 WHERE receiver_instance = 'otelcol-b'",
                [garbage],
            )
            .unwrap();
        let error = store.fingerprint("production", 0, u64::MAX).unwrap_err();
        let StoreError::CorruptFingerprint {
            environment,
            receiver_instance,
            sequence,
            ..
        } = &error
        else {
            panic!("{error:?}");
        };
        assert_eq!(
            (environment.as_str(), receiver_instance.as_str(), *sequence),
            ("production", "otelcol-b", 7)
        );
        assert!(error.to_string().contains(reason), "{error}");
    }
    // Other environments and the counts still read.
    assert_eq!(store.push_count().unwrap(), 2);
}

#[test]
fn file_that_is_not_a_database_is_refused_naming_it() {
    let db = TempDb::new("not-sqlite");
    std::fs::write(
        &db.0,
        "environment: staging\nlisten: 0.0.0.0:8080\n".repeat(100),
    )
    .unwrap();
    let error = Store::open(&db.0).unwrap_err();
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&db.0.display().to_string()), "{message}");
    assert!(message.contains("not a database"), "{message}");
}

#[test]
fn truncated_database_file_is_refused_naming_it() {
    let db = TempDb::new("truncated");
    {
        let store = Store::open(&db.0).unwrap();
        for window in 0..50 {
            let request = push("production", "otelcol-a", window, window, 30);
            store.insert_push(&request, received(&request)).unwrap();
        }
    }
    let bytes = std::fs::read(&db.0).unwrap();
    assert!(bytes.len() > 4096, "{}", bytes.len());
    for length in [40, 4096 + 100] {
        std::fs::write(&db.0, &bytes[..length]).unwrap();
        let error = Store::open(&db.0).unwrap_err();
        assert!(
            matches!(error, StoreError::Open { .. }),
            "{length}: {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(&db.0.display().to_string()), "{message}");
        assert!(
            message.contains("database disk image is malformed"),
            "{message}"
        );
    }
}

#[test]
fn missing_data_directory_is_an_open_error_naming_the_path() {
    let path = std::env::temp_dir()
        .join("otel-parity-no-such-dir-7f3a")
        .join("otel-parity.db");
    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    assert!(
        error.to_string().contains("otel-parity-no-such-dir-7f3a"),
        "{error}"
    );
}

#[test]
fn store_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Store>();
}
