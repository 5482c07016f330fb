//! The store suite: every behaviour is checked against both backends, the
//! embedded SQLite file and a real PostgreSQL (a throwaway cluster started
//! once per test binary by the test kit); backend-specific checks follow.

mod postgres_only;
mod property;
mod sqlite_only;
mod suite;

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use otel_parity_proto::v1 as pb;
use otel_parity_testkit::postgres::PostgresCluster;

use super::*;

/// 2026-09-21T00:00:00Z in Unix nanoseconds: windows start here (a whole hour).
pub(super) const T0: u64 =
    1_790_000_000_000_000_000 - 1_790_000_000_000_000_000 % 3_600_000_000_000;
pub(super) const SECOND: u64 = 1_000_000_000;
pub(super) const MINUTE: u64 = 60 * SECOND;
/// One push interval.
pub(super) const WINDOW: u64 = 10 * SECOND;

/// Retention under which the test data (weeks old) still reads to the
/// minute and nothing expires on its own.
pub(super) fn keep_everything() -> Retention {
    let year = Duration::from_secs(365 * 24 * 3600);
    Retention {
        rollups: year * 10,
        minute_rollups: year * 10,
        idempotency_window: year * 10,
    }
}

/// Which backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Sqlite,
    Postgres,
}

/// One cluster for the tests that run at the same time; stopped (and its
/// directory removed) when the last of them drops it.
fn cluster() -> Arc<PostgresCluster> {
    static SHARED: Mutex<Weak<PostgresCluster>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(cluster) = shared.upgrade() {
        return cluster;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pg-tests");
    let cluster =
        Arc::new(PostgresCluster::start(&root).unwrap_or_else(|e| {
            panic!("{e} (scripts/test installs the Debian package postgresql)")
        }));
    *shared = Arc::downgrade(&cluster);
    cluster
}

/// A fresh, empty store of `kind` and what keeps it alive.
pub(super) struct TestStore {
    pub store: Store,
    pub location: StoreLocation,
    pub retention: Retention,
    _cluster: Option<Arc<PostgresCluster>>,
    _file: Option<TempPath>,
}

/// A path in the temp directory, removed (with SQLite's WAL) on drop.
pub(super) struct TempPath(pub std::path::PathBuf);

impl TempPath {
    pub fn new(test: &str) -> TempPath {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "otel-parity-store-{}-{}-{test}.db",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let path = TempPath(std::env::temp_dir().join(name));
        path.remove();
        path
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        self.remove();
    }
}

impl TestStore {
    pub async fn new(kind: Kind, test: &str, retention: Retention) -> TestStore {
        let (location, cluster, file) = match kind {
            Kind::Sqlite => {
                let file = TempPath::new(test);
                (StoreLocation::Sqlite(file.0.clone()), None, Some(file))
            }
            Kind::Postgres => {
                let cluster = cluster();
                static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let name = format!(
                    "t{}_{}",
                    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                    test.replace('-', "_")
                );
                let url = cluster.create_database(&name).unwrap();
                (StoreLocation::Postgres(url), Some(cluster), None)
            }
        };
        let store = Store::open(&location, retention).await.unwrap();
        TestStore {
            store,
            location,
            retention,
            _cluster: cluster,
            _file: file,
        }
    }

    /// Another store on the same database: an analyzer replica (PostgreSQL),
    /// or the same file reopened (SQLite).
    pub async fn reopen(&self) -> Store {
        Store::open(&self.location, self.retention).await.unwrap()
    }

    /// Why reopening the database fails.
    pub async fn reopen_err(&self) -> StoreError {
        Store::open(&self.location, self.retention)
            .await
            .unwrap_err()
    }
}

/// The checkout service of the OpenTelemetry demo as one receiver saw it over
/// one window: `server_spans` POST /checkout requests, each also counted by
/// the request-duration histogram, two data points per request.
pub(super) fn checkout(server_spans: u64) -> pb::EnvironmentFingerprint {
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

/// Receiver `receiver`'s push of window number `window` (10 s each from T0).
pub(super) fn push(
    environment: &str,
    receiver: &str,
    window: u64,
    sequence: u64,
    spans: u64,
) -> PushRequest {
    PushRequest {
        environment: environment.into(),
        receiver_instance: receiver.into(),
        window_start_unix_nano: T0 + window * WINDOW,
        window_end_unix_nano: T0 + (window + 1) * WINDOW,
        sequence,
        fingerprint: Some(checkout(spans)),
    }
}

pub(super) fn received(request: &PushRequest) -> u64 {
    request.window_end_unix_nano + SECOND / 10
}

/// (POST /checkout spans, http.server.request.duration data points).
pub(super) fn checkout_counts(merged: &MergedFingerprint) -> (u64, u64) {
    let service = &merged.fingerprint.services["shop/checkout"];
    let metric = &service.metrics["http.server.request.duration"];
    (service.span_operations[0].spans, metric.data_points)
}

/// Stores each push, asserting it is new.
pub(super) async fn insert_all(store: &Store, pushes: &[PushRequest]) {
    for request in pushes {
        assert_eq!(
            store.insert_push(request, received(request)).await.unwrap(),
            Inserted::New
        );
    }
}

/// The environment merged over all time.
pub(super) async fn everything(store: &Store, environment: &str) -> MergedFingerprint {
    store
        .fingerprint(environment, 0, u64::MAX)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("nothing stored for {environment}"))
}
