//! The SQLite file: its modes, its migrations, and files that are not ours.

use rusqlite::Connection;

use prost::Message;

use super::*;

async fn open(path: &std::path::Path) -> Result<Store, StoreError> {
    Store::open(&StoreLocation::Sqlite(path.to_owned()), keep_everything()).await
}

fn user_version(path: &std::path::Path) -> u32 {
    Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn file_is_written_ahead_with_full_sync_and_migrated_once() {
    let db = TempPath::new("modes");
    drop(open(&db.0).await.unwrap());
    let raw = Connection::open(&db.0).unwrap();
    let mode: String = raw
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(raw);
    // Migrations create tables without IF NOT EXISTS: a second run would fail.
    for _ in 0..2 {
        drop(open(&db.0).await.unwrap());
        assert_eq!(user_version(&db.0), sqlite::SCHEMA_VERSION);
    }
}

#[tokio::test]
async fn the_newest_rollup_version_is_read_from_an_index() {
    let db = TempPath::new("version-index");
    drop(open(&db.0).await.unwrap());
    let raw = Connection::open(&db.0).unwrap();
    // A scan would read every row's fingerprint to reach the column after it.
    let plan: Vec<String> = raw
        .prepare("EXPLAIN QUERY PLAN SELECT coalesce(max(version), 0) FROM rollups")
        .unwrap()
        .query_map([], |row| row.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        plan,
        ["SEARCH rollups USING COVERING INDEX rollups_by_version"]
    );
}

#[tokio::test]
async fn pushes_stored_by_release_one_are_rolled_up_after_the_upgrade() {
    let db = TempPath::new("upgrade");
    {
        // The schema and rows release 1 wrote.
        let raw = Connection::open(&db.0).unwrap();
        raw.execute_batch(sqlite::MIGRATIONS[0]).unwrap();
        raw.pragma_update(None, "user_version", 1).unwrap();
        for request in [
            push("production", "otelcol-a", 0, 1, 30),
            push("production", "otelcol-b", 0, 4, 12),
        ] {
            raw.execute(
                "INSERT INTO pushes VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![
                    request.environment,
                    request.receiver_instance,
                    request.window_start_unix_nano as i64,
                    request.sequence as i64,
                    request.window_end_unix_nano as i64,
                    received(&request) as i64,
                    request.fingerprint.as_ref().unwrap().encode_to_vec()
                ],
            )
            .unwrap();
        }
    }
    let store = open(&db.0).await.unwrap();
    assert_eq!(user_version(&db.0), sqlite::SCHEMA_VERSION);
    assert_eq!(store.pending_pushes().await.unwrap(), 2);
    assert_eq!(
        checkout_counts(&everything(&store, "production").await),
        (42, 84)
    );
    assert_eq!(store.roll_up_all().await.unwrap().rolled_up, 2);
    assert_eq!(
        checkout_counts(&everything(&store, "production").await),
        (42, 84)
    );
    // Their keys came along: a retry is still a duplicate.
    let retry = push("production", "otelcol-a", 0, 1, 30);
    assert_eq!(
        store.insert_push(&retry, T0).await.unwrap(),
        Inserted::Duplicate
    );
}

#[tokio::test]
async fn database_from_a_newer_release_is_refused_and_left_alone() {
    let db = TempPath::new("future");
    drop(open(&db.0).await.unwrap());
    Connection::open(&db.0)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let error = open(&db.0).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::UnsupportedSchema {
                found: 99,
                supported: 3,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&db.0.display().to_string()), "{message}");
    assert!(message.contains("schema version 99"), "{message}");
    assert!(message.contains("newer release"), "{message}");
    assert_eq!(user_version(&db.0), 99);
}

#[tokio::test]
async fn corrupt_rollup_is_an_error_naming_the_row() {
    let db = TempPath::new("corrupt");
    let store = open(&db.0).await.unwrap();
    insert_all(
        &store,
        &[
            push("production", "otelcol-a", 0, 1, 30),
            push("staging", "otelcol-s", 0, 1, 3),
        ],
    )
    .await;
    store.roll_up_all().await.unwrap();
    Connection::open(&db.0)
        .unwrap()
        .execute(
            "UPDATE rollups SET fingerprint = x'0a05ffffff' WHERE environment = 'production'",
            [],
        )
        .unwrap();
    let error = store
        .fingerprint("production", 0, u64::MAX)
        .await
        .unwrap_err();
    let StoreError::Corrupt(corrupt) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(corrupt.environment, "production");
    assert_eq!(corrupt.bucket_start, T0);
    assert!(
        error.to_string().contains("fingerprint does not decode"),
        "{error}"
    );
    // Other environments still read.
    assert_eq!(
        checkout_counts(&everything(&store, "staging").await),
        (3, 6)
    );
}

#[tokio::test]
async fn file_that_is_not_a_database_is_refused_naming_it() {
    let db = TempPath::new("not-sqlite");
    std::fs::write(
        &db.0,
        "environment: staging\nlisten: 0.0.0.0:8080\n".repeat(100),
    )
    .unwrap();
    let error = open(&db.0).await.unwrap_err();
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&db.0.display().to_string()), "{message}");
    assert!(message.contains("not a database"), "{message}");
}

#[tokio::test]
async fn truncated_database_file_is_refused_naming_it() {
    let db = TempPath::new("truncated");
    {
        let store = open(&db.0).await.unwrap();
        for window in 0..50 {
            let request = push("production", "otelcol-a", window, window, 30);
            store
                .insert_push(&request, received(&request))
                .await
                .unwrap();
        }
        store.roll_up_all().await.unwrap();
    }
    // Checkpointed into the main file, so that truncating it loses pages.
    Connection::open(&db.0)
        .unwrap()
        .pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    let bytes = std::fs::read(&db.0).unwrap();
    assert!(bytes.len() > 4096, "{}", bytes.len());
    for length in [40, 4096 + 100] {
        std::fs::write(&db.0, &bytes[..length]).unwrap();
        let error = open(&db.0).await.unwrap_err();
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

#[tokio::test]
async fn missing_data_directory_is_an_open_error_naming_the_path() {
    let path = std::env::temp_dir()
        .join("otel-parity-no-such-dir-7f3a")
        .join("otel-parity.db");
    let error = open(&path).await.unwrap_err();
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    assert!(
        error.to_string().contains("otel-parity-no-such-dir-7f3a"),
        "{error}"
    );
}

#[test]
fn store_can_be_shared_between_tasks() {
    fn shared<T: Send + Sync + Clone>() {}
    shared::<Store>();
}

#[test]
fn locations_parse_and_hide_passwords() {
    assert_eq!(
        StoreLocation::parse("sqlite:/var/lib/otel-parity/otel-parity.db").unwrap(),
        StoreLocation::Sqlite("/var/lib/otel-parity/otel-parity.db".into())
    );
    let pg = StoreLocation::parse("postgres://parity:s3cret@db:5432/parity").unwrap();
    assert_eq!(pg.redacted(), "postgres://parity:***@db:5432/parity");
    assert!(!format!("{pg:?}").is_empty());
    for (spec, reason) in [
        ("sqlite:", "needs a file path"),
        ("mysql://u:p@h/db", "expected sqlite:PATH or postgres://"),
        ("/var/lib/otel-parity.db", "expected sqlite:PATH"),
    ] {
        let error = StoreLocation::parse(spec).unwrap_err().to_string();
        assert!(error.contains(reason), "{spec}: {error}");
        assert!(!error.contains("p@h"), "{error}");
    }
    let error = StoreLocation::parse("postgres://u:hunter2@host:notaport/db")
        .unwrap_err()
        .to_string();
    assert!(error.contains("invalid store"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
}
