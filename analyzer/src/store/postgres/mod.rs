//! The PostgreSQL store: several analyzer replicas share one database, any
//! replica takes any push, and all of them read the same rollups.
//!
//! What it relies on (so a PostgreSQL-compatible engine works unchanged):
//! `INSERT … ON CONFLICT DO NOTHING`, data-modifying CTEs with `RETURNING`,
//! `SELECT … FOR UPDATE SKIP LOCKED`, `pg_advisory_xact_lock` (migrations),
//! sequences, `REPEATABLE READ` snapshots, `bytea` and `bigint`.
//!
//! - A push is one statement (its key, and if the key is new its pending
//!   row), committed before it is acknowledged. Concurrent pushes on the
//!   pool's connections share WAL flushes: PostgreSQL's own group commit.
//! - A roll-up pass claims pending pushes with `SKIP LOCKED` (replicas never
//!   wait for each other's pushes), locks the rollup rows it will update in
//!   key order (no deadlocks between replicas), and writes rows and deletes
//!   the pushes in one transaction. A replica killed mid-pass leaves its
//!   pushes pending for the next pass, of any replica.
//! - Connections come from a pool that reconnects by itself: while the
//!   database is down, calls fail as [`StoreError::Backend`] (retryable).

mod schema;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

use super::buckets::{Level, RangePlan};
use super::handoff::Handoff;
use super::rollup::{PassInProgress, PendingPush, RollupKey, RollupRow};
use super::{
    EnvironmentTotals, RetentionCutoffs, Retired, RollupOutcome, StoreError, Stored, ValidPush,
    redact_url,
};

/// Connections per replica.
const POOL_SIZE: usize = 16;
/// How long a call waits for a connection before failing as unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `open` keeps trying a database that is not up yet.
const STARTUP_WAIT: Duration = Duration::from_secs(30);

/// Checks that `url` parses as a PostgreSQL connection URL.
pub(super) fn check_url(url: &str) -> Result<(), StoreError> {
    tokio_postgres::Config::from_str(url)
        .map(drop)
        .map_err(|e| StoreError::Location {
            spec: redact_url(url),
            reason: e.to_string(),
        })
}

/// A pool of connections to one database.
pub(super) struct PostgresStore {
    pool: Pool,
    url: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &redact_url(&self.url))
            .finish_non_exhaustive()
    }
}

/// A read-only transaction that sees one snapshot of the database
/// (REPEATABLE READ), so that rollups and pending pushes read together agree.
async fn snapshot(
    client: &mut deadpool_postgres::Object,
) -> Result<deadpool_postgres::Transaction<'_>, StoreError> {
    client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg)
}

/// tokio-postgres errors print "db error" alone; the server's message is
/// in the source.
fn pg(error: tokio_postgres::Error) -> StoreError {
    match error.as_db_error() {
        Some(db) => StoreError::Backend(format!("{}: {}", db.code().code(), db.message())),
        None => StoreError::Backend(error.to_string()),
    }
}

fn stored(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A pending push as read by `SELECT id, environment, receiver_instance,
/// window_start_unix_nano, window_end_unix_nano, fingerprint`.
fn pending_push(row: &tokio_postgres::Row) -> Result<PendingPush, StoreError> {
    Ok(PendingPush {
        id: row.get(0),
        environment: row.get(1),
        receiver_instance: row.get(2),
        window_start: read_u64(row.get(3))?,
        window_end: read_u64(row.get(4))?,
        fingerprint: row.get(5),
    })
}

fn read_u64(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Backend(format!("negative value {value} stored")))
}

impl PostgresStore {
    /// Connects (waiting up to half a minute for a database that is starting)
    /// and migrates the schema.
    pub(super) async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let open_error = |reason: String| StoreError::Open {
            path: redact_url(url),
            reason,
        };
        let config =
            tokio_postgres::Config::from_str(url).map_err(|e| open_error(e.to_string()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| open_error(e.to_string()))?;
        let store = PostgresStore {
            pool,
            url: url.to_owned(),
        };
        let deadline = tokio::time::Instant::now() + STARTUP_WAIT;
        loop {
            match store.migrate().await {
                Ok(()) => return Ok(store),
                Err(StoreError::Backend(reason)) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!(store = %redact_url(url), %reason, "database not reachable yet; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(StoreError::Backend(reason)) => return Err(open_error(reason)),
                Err(other) => return Err(other),
            }
        }
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| {
            StoreError::Backend(format!("cannot reach {}: {e}", redact_url(&self.url)))
        })
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        schema::migrate(&mut *self.client().await?, &self.url).await
    }

    /// Stores one push (key and pending row in one statement).
    pub(super) async fn insert(&self, push: ValidPush) -> Result<Stored, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "WITH new_key AS (
                    INSERT INTO otel_parity_push_keys (environment, receiver_instance,
                        window_start_unix_nano, sequence, received_at_unix_nano)
                    VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT DO NOTHING
                    RETURNING 1
                 )
                 INSERT INTO otel_parity_pending_pushes (environment, receiver_instance,
                     window_start_unix_nano, window_end_unix_nano, fingerprint)
                 SELECT $1, $2, $3, $6, $7 FROM new_key
                 RETURNING id",
            )
            .await
            .map_err(pg)?;
        let params: [&(dyn ToSql + Sync); 7] = [
            &push.environment,
            &push.receiver_instance,
            &push.window_start,
            &push.sequence,
            &push.received_at,
            &push.window_end,
            &push.fingerprint,
        ];
        let inserted = client.query_opt(&statement, &params).await.map_err(pg)?;
        Ok(match inserted {
            Some(row) => Stored::New(row.get(0)),
            None => Stored::Duplicate,
        })
    }

    /// One roll-up pass over up to `limit` pending pushes no other replica
    /// is rolling up.
    pub(super) async fn roll_up(
        &self,
        limit: usize,
        handoff: &Handoff,
    ) -> Result<RollupOutcome, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let rows = transaction
            .query(
                "SELECT id, environment, receiver_instance, window_start_unix_nano,
                        window_end_unix_nano, fingerprint
                 FROM otel_parity_pending_pushes ORDER BY id LIMIT $1
                 FOR UPDATE SKIP LOCKED",
                &[&i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .await
            .map_err(pg)?;
        let pending = rows
            .iter()
            .map(pending_push)
            .collect::<Result<Vec<_>, _>>()?;
        if pending.is_empty() {
            return Ok(RollupOutcome::default());
        }
        let decoded = handoff.take(pending.iter().map(|push| push.id));
        let pass = PassInProgress::start(pending, decoded);
        let mut current = BTreeMap::new();
        for key in pass.keys() {
            let params: [&(dyn ToSql + Sync); 3] = [
                &key.environment,
                &(key.level.seconds() as i32),
                &stored(key.bucket_start),
            ];
            // A placeholder first, so that two replicas creating the same
            // row both find it to lock.
            transaction
                .execute(
                    "INSERT INTO otel_parity_rollups VALUES ($1, $2, $3, 0, 0, 0, '', '', 0)
                     ON CONFLICT DO NOTHING",
                    &params,
                )
                .await
                .map_err(pg)?;
            let row = transaction
                .query_one(
                    "SELECT pushes, window_start_unix_nano, window_end_unix_nano, receivers,
                            fingerprint
                     FROM otel_parity_rollups
                     WHERE environment = $1 AND level_seconds = $2 AND bucket_start_unix_nano = $3
                     FOR UPDATE",
                    &params,
                )
                .await
                .map_err(pg)?;
            let pushes = read_u64(row.get(0))?;
            if pushes > 0 {
                current.insert(
                    key.clone(),
                    RollupRow {
                        key,
                        pushes,
                        window_start: read_u64(row.get(1))?,
                        window_end: read_u64(row.get(2))?,
                        receivers: row.get(3),
                        fingerprint: row.get(4),
                    },
                );
            }
        }
        let pass = pass.finish(current)?;
        for row in &pass.rows {
            let params: [&(dyn ToSql + Sync); 8] = [
                &row.key.environment,
                &(row.key.level.seconds() as i32),
                &stored(row.key.bucket_start),
                &stored(row.pushes),
                &stored(row.window_start),
                &stored(row.window_end),
                &row.receivers,
                &row.fingerprint,
            ];
            transaction
                .execute(
                    "UPDATE otel_parity_rollups SET pushes = $4, window_start_unix_nano = $5,
                         window_end_unix_nano = $6, receivers = $7, fingerprint = $8,
                         version = nextval('otel_parity_rollup_versions')
                     WHERE environment = $1 AND level_seconds = $2 AND bucket_start_unix_nano = $3",
                    &params,
                )
                .await
                .map_err(pg)?;
        }
        transaction
            .execute(
                "DELETE FROM otel_parity_pending_pushes WHERE id = ANY($1)",
                &[&pass.consumed],
            )
            .await
            .map_err(pg)?;
        transaction.commit().await.map_err(pg)?;
        Ok(super::outcome_of(&pass))
    }

    /// The rollups `plan` reads and the pending pushes in its ranges, from
    /// one snapshot.
    pub(super) async fn read_range(
        &self,
        environment: &str,
        plan: &RangePlan,
    ) -> Result<(Vec<RollupRow>, Vec<PendingPush>), StoreError> {
        let mut client = self.client().await?;
        let transaction = snapshot(&mut client).await?;
        let mut rows = Vec::new();
        for (level, range) in plan.ranges() {
            let found = transaction
                .query(
                    "SELECT bucket_start_unix_nano, pushes, window_start_unix_nano,
                            window_end_unix_nano, receivers, fingerprint
                     FROM otel_parity_rollups
                     WHERE environment = $1 AND level_seconds = $2 AND pushes > 0
                       AND bucket_start_unix_nano >= $3 AND bucket_start_unix_nano < $4
                     ORDER BY bucket_start_unix_nano",
                    &[
                        &environment,
                        &(level.seconds() as i32),
                        &stored(range.start),
                        &stored(range.end),
                    ],
                )
                .await
                .map_err(pg)?;
            for row in found {
                rows.push(RollupRow {
                    key: RollupKey {
                        environment: environment.to_owned(),
                        level,
                        bucket_start: read_u64(row.get(0))?,
                    },
                    pushes: read_u64(row.get(1))?,
                    window_start: read_u64(row.get(2))?,
                    window_end: read_u64(row.get(3))?,
                    receivers: row.get(4),
                    fingerprint: row.get(5),
                });
            }
        }
        let mut pending = Vec::new();
        for range in super::plan_ranges(plan) {
            let found = transaction
                .query(
                    "SELECT id, environment, receiver_instance, window_start_unix_nano,
                            window_end_unix_nano, fingerprint
                     FROM otel_parity_pending_pushes
                     WHERE environment = $1 AND window_start_unix_nano >= $2
                       AND window_start_unix_nano < $3
                     ORDER BY id",
                    &[&environment, &stored(range.start), &stored(range.end)],
                )
                .await
                .map_err(pg)?;
            for row in &found {
                pending.push(pending_push(row)?);
            }
        }
        transaction.commit().await.map_err(pg)?;
        Ok((rows, pending))
    }

    /// Every environment's hour rollups and pending pushes, for totals.
    pub(super) async fn environment_totals(&self) -> Result<Vec<EnvironmentTotals>, StoreError> {
        let mut client = self.client().await?;
        let transaction = snapshot(&mut client).await?;
        let mut totals = Vec::new();
        for row in transaction
            .query(
                "SELECT environment, receivers, pushes, window_start_unix_nano,
                        window_end_unix_nano
                 FROM otel_parity_rollups WHERE level_seconds = $1 AND pushes > 0",
                &[&(Level::Hour.seconds() as i32)],
            )
            .await
            .map_err(pg)?
        {
            totals.push(EnvironmentTotals {
                environment: row.get(0),
                receivers: row.get(1),
                receiver_instance: None,
                pushes: read_u64(row.get(2))?,
                window_start: read_u64(row.get(3))?,
                window_end: read_u64(row.get(4))?,
            });
        }
        for row in transaction
            .query(
                "SELECT environment, receiver_instance, window_start_unix_nano,
                        window_end_unix_nano
                 FROM otel_parity_pending_pushes",
                &[],
            )
            .await
            .map_err(pg)?
        {
            totals.push(EnvironmentTotals {
                environment: row.get(0),
                receivers: Vec::new(),
                receiver_instance: Some(row.get(1)),
                pushes: 1,
                window_start: read_u64(row.get(2))?,
                window_end: read_u64(row.get(3))?,
            });
        }
        transaction.commit().await.map_err(pg)?;
        Ok(totals)
    }

    /// Deletes expired push keys and rollups.
    pub(super) async fn apply_retention(
        &self,
        cutoffs: RetentionCutoffs,
    ) -> Result<Retired, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let push_keys = transaction
            .execute(
                "DELETE FROM otel_parity_push_keys WHERE received_at_unix_nano < $1",
                &[&stored(cutoffs.push_keys_received_before)],
            )
            .await
            .map_err(pg)?;
        let minute_rollups = transaction
            .execute(
                "DELETE FROM otel_parity_rollups
                 WHERE level_seconds = $1 AND bucket_start_unix_nano < $2",
                &[
                    &(Level::Minute.seconds() as i32),
                    &stored(Level::Minute.bucket_of(cutoffs.minutes_before)),
                ],
            )
            .await
            .map_err(pg)?;
        let hour_rollups = transaction
            .execute(
                "DELETE FROM otel_parity_rollups
                 WHERE level_seconds = $1 AND bucket_start_unix_nano <= $2",
                &[
                    &(Level::Hour.seconds() as i32),
                    &stored(
                        cutoffs
                            .hours_ended_before
                            .saturating_sub(Level::Hour.nanos()),
                    ),
                ],
            )
            .await
            .map_err(pg)?;
        transaction.commit().await.map_err(pg)?;
        Ok(Retired {
            push_keys,
            minute_rollups,
            hour_rollups,
        })
    }

    /// (newest rollup version and rollup count, newest pending id).
    pub(super) async fn change_marker(&self) -> Result<(u64, u64), StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT (SELECT coalesce(max(version), 0) * 1000003 + count(*)
                         FROM otel_parity_rollups),
                        (SELECT coalesce(max(id), 0) FROM otel_parity_pending_pushes)",
                &[],
            )
            .await
            .map_err(pg)?;
        Ok((read_u64(row.get(0))?, read_u64(row.get(1))?))
    }

    /// Pushes waiting to be rolled up.
    pub(super) async fn pending_count(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT count(*) FROM otel_parity_pending_pushes", &[])
            .await
            .map_err(pg)?;
        read_u64(row.get(0))
    }

    /// Whether the database answers now.
    pub(super) async fn check(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await.map_err(pg)?;
        Ok(())
    }

    /// Closes the pool's connections; later calls fail.
    pub(super) fn close(&self) {
        self.pool.close();
    }

    /// The database URL without its password.
    pub(super) fn describe(&self) -> String {
        redact_url(&self.url)
    }
}
