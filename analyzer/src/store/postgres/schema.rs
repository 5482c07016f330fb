//! The PostgreSQL schema: versioned migrations, applied once by whichever
//! replica takes the advisory lock first.

use super::super::{StoreError, redact_url};
use super::pg;

/// Schema migrations, applied in order under an advisory lock; step `i`
/// brings the database to version `i + 1`. Never edit a released step.
const MIGRATIONS: &[&str] = &[
    // 1: push keys for the idempotency window, pending pushes, rollups.
    "CREATE TABLE otel_parity_push_keys (
        environment TEXT NOT NULL,
        receiver_instance TEXT NOT NULL,
        window_start_unix_nano BIGINT NOT NULL,
        sequence BIGINT NOT NULL,
        received_at_unix_nano BIGINT NOT NULL,
        PRIMARY KEY (environment, receiver_instance, window_start_unix_nano, sequence)
    );
    CREATE INDEX otel_parity_push_keys_by_received_at
        ON otel_parity_push_keys (received_at_unix_nano);
    CREATE TABLE otel_parity_pending_pushes (
        id BIGSERIAL PRIMARY KEY,
        environment TEXT NOT NULL,
        receiver_instance TEXT NOT NULL,
        window_start_unix_nano BIGINT NOT NULL,
        window_end_unix_nano BIGINT NOT NULL,
        fingerprint BYTEA NOT NULL
    );
    CREATE INDEX otel_parity_pending_pushes_by_environment_window
        ON otel_parity_pending_pushes (environment, window_start_unix_nano);
    CREATE SEQUENCE otel_parity_rollup_versions;
    CREATE TABLE otel_parity_rollups (
        environment TEXT NOT NULL,
        level_seconds INTEGER NOT NULL,
        bucket_start_unix_nano BIGINT NOT NULL,
        pushes BIGINT NOT NULL,
        window_start_unix_nano BIGINT NOT NULL,
        window_end_unix_nano BIGINT NOT NULL,
        receivers BYTEA NOT NULL,
        fingerprint BYTEA NOT NULL,
        version BIGINT NOT NULL,
        PRIMARY KEY (environment, level_seconds, bucket_start_unix_nano)
    );",
    // 2: the newest rollup version (every change check asks for it) from an
    // index rather than a scan.
    "CREATE INDEX otel_parity_rollups_by_version ON otel_parity_rollups (version);",
];

/// Any fixed number: the advisory lock that serializes migrations.
const MIGRATION_LOCK: i64 = 0x6f74_656c_7061_7231;
/// Brings the database's schema to this release's, under an advisory lock
/// (replicas starting together migrate once); refuses a newer schema.
pub(super) async fn migrate(
    client: &mut tokio_postgres::Client,
    url: &str,
) -> Result<(), StoreError> {
    let transaction = client.transaction().await.map_err(pg)?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg)?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS otel_parity_schema (version INTEGER NOT NULL);
             INSERT INTO otel_parity_schema
                 SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM otel_parity_schema);",
        )
        .await
        .map_err(pg)?;
    let version: i32 = transaction
        .query_one("SELECT version FROM otel_parity_schema", &[])
        .await
        .map_err(pg)?
        .get(0);
    let version = u32::try_from(version).unwrap_or(0);
    let supported = MIGRATIONS.len() as u32;
    if version > supported {
        return Err(StoreError::UnsupportedSchema {
            location: redact_url(url),
            found: version,
            supported,
        });
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let target = step as i32 + 1;
        let migrate_error = |e: tokio_postgres::Error| StoreError::Migrate {
            location: redact_url(url),
            version: target as u32,
            reason: match pg(e) {
                StoreError::Backend(reason) => reason,
                other => other.to_string(),
            },
        };
        transaction
            .batch_execute(sql)
            .await
            .map_err(migrate_error)?;
        transaction
            .execute("UPDATE otel_parity_schema SET version = $1", &[&target])
            .await
            .map_err(migrate_error)?;
    }
    transaction.commit().await.map_err(pg)
}
