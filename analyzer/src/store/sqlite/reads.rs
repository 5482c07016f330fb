//! The SQLite store's reads: each on a pooled connection of its own, in a
//! read transaction (WAL lets it run beside the writer).

use std::path::Path;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::super::buckets::{Level, RangePlan};
use super::super::rollup::{PendingPush, RollupKey, RollupRow};
use super::super::{EnvironmentTotals, StoreError};
use super::{IDLE_READERS, SqliteReaders, blob, connect, get_u64, stored};

impl SqliteReaders {
    /// Runs `read` in one read transaction (a consistent snapshot) on a
    /// connection of the pool.
    pub(in crate::store) fn read<T>(
        &self,
        read: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.idle.lock().pop();
        let mut connection = match pooled {
            Some(connection) => connection,
            None => connect(&self.file.path)?,
        };
        let result = connection
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(StoreError::from)
            .and_then(|transaction| {
                let value = read(&transaction)?;
                transaction.commit()?;
                Ok(value)
            });
        let mut idle = self.idle.lock();
        if idle.len() < IDLE_READERS {
            idle.push(connection);
        }
        result
    }

    /// Closes the connections kept between reads (SQLite shares what a
    /// process knows of a file between its connections, a read-only
    /// opening included, until the last one closes).
    pub(in crate::store) fn close_idle(&self) {
        self.idle.lock().clear();
    }

    /// The database file.
    pub(in crate::store) fn path(&self) -> &Path {
        &self.file.path
    }
}

/// Up to `limit` pending pushes, oldest first.
pub(in crate::store) fn pending(
    transaction: &rusqlite::Transaction<'_>,
    limit: usize,
) -> Result<Vec<PendingPush>, StoreError> {
    let mut statement = transaction.prepare_cached(
        "SELECT id, environment, receiver_instance, window_start_unix_nano,
                window_end_unix_nano, fingerprint
         FROM pending_pushes ORDER BY id LIMIT ?1",
    )?;
    let rows = statement.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], pending_push)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Pending pushes of `environment` whose window starts in one of `ranges`.
pub(in crate::store) fn pending_in(
    transaction: &rusqlite::Transaction<'_>,
    environment: &str,
    ranges: &[std::ops::Range<u64>],
) -> Result<Vec<PendingPush>, StoreError> {
    let mut statement = transaction.prepare_cached(
        "SELECT id, environment, receiver_instance, window_start_unix_nano,
                window_end_unix_nano, fingerprint
         FROM pending_pushes
         WHERE environment = ?1 AND window_start_unix_nano >= ?2
           AND window_start_unix_nano < ?3
         ORDER BY id",
    )?;
    let mut pushes = Vec::new();
    for range in ranges {
        let rows = statement.query_map(
            params![environment, stored(range.start), stored(range.end)],
            pending_push,
        )?;
        for row in rows {
            pushes.push(row?);
        }
    }
    Ok(pushes)
}

/// A pending push as read by `SELECT id, environment, receiver_instance,
/// window_start_unix_nano, window_end_unix_nano, fingerprint`.
fn pending_push(row: &rusqlite::Row<'_>) -> rusqlite::Result<PendingPush> {
    Ok(PendingPush {
        id: row.get(0)?,
        environment: row.get(1)?,
        receiver_instance: row.get(2)?,
        window_start: get_u64(row, 3)?,
        window_end: get_u64(row, 4)?,
        fingerprint: blob(row, 5)?,
    })
}

/// One rollup row, if it exists.
pub(in crate::store) fn rollup_row(
    transaction: &rusqlite::Transaction<'_>,
    key: &RollupKey,
) -> Result<Option<RollupRow>, StoreError> {
    let mut statement = transaction.prepare_cached(
        "SELECT pushes, window_start_unix_nano, window_end_unix_nano, receivers, fingerprint
         FROM rollups
         WHERE environment = ?1 AND level_seconds = ?2 AND bucket_start_unix_nano = ?3",
    )?;
    Ok(statement
        .query_row(
            params![
                key.environment,
                key.level.seconds(),
                stored(key.bucket_start)
            ],
            |row| {
                Ok(RollupRow {
                    key: key.clone(),
                    pushes: get_u64(row, 0)?,
                    window_start: get_u64(row, 1)?,
                    window_end: get_u64(row, 2)?,
                    receivers: blob(row, 3)?,
                    fingerprint: blob(row, 4)?,
                })
            },
        )
        .optional()?)
}

/// The rollup rows of `environment` that `plan` reads.
pub(in crate::store) fn planned_rows(
    transaction: &rusqlite::Transaction<'_>,
    environment: &str,
    plan: &RangePlan,
) -> Result<Vec<RollupRow>, StoreError> {
    let mut statement = transaction.prepare_cached(
        "SELECT level_seconds, bucket_start_unix_nano, pushes, window_start_unix_nano,
                window_end_unix_nano, receivers, fingerprint
         FROM rollups
         WHERE environment = ?1 AND level_seconds = ?2
           AND bucket_start_unix_nano >= ?3 AND bucket_start_unix_nano < ?4
         ORDER BY bucket_start_unix_nano",
    )?;
    let mut rows = Vec::new();
    for (level, range) in plan.ranges() {
        let found = statement.query_map(
            params![
                environment,
                level.seconds(),
                stored(range.start),
                stored(range.end)
            ],
            |row| {
                let key = RollupKey {
                    environment: environment.to_owned(),
                    level,
                    bucket_start: get_u64(row, 1)?,
                };
                Ok(RollupRow {
                    key,
                    pushes: get_u64(row, 2)?,
                    window_start: get_u64(row, 3)?,
                    window_end: get_u64(row, 4)?,
                    receivers: blob(row, 5)?,
                    fingerprint: blob(row, 6)?,
                })
            },
        )?;
        for row in found {
            rows.push(row?);
        }
    }
    Ok(rows)
}

/// Every environment's totals over its hour rollups and pending pushes.
pub(in crate::store) fn environment_totals(
    transaction: &rusqlite::Transaction<'_>,
) -> Result<Vec<EnvironmentTotals>, StoreError> {
    let mut statement = transaction.prepare_cached(
        "SELECT environment, receivers, pushes, window_start_unix_nano, window_end_unix_nano
         FROM rollups WHERE level_seconds = ?1
         ORDER BY environment",
    )?;
    let rows = statement.query_map([Level::Hour.seconds()], |row| {
        Ok(EnvironmentTotals {
            environment: row.get(0)?,
            receivers: blob(row, 1)?,
            pushes: get_u64(row, 2)?,
            window_start: get_u64(row, 3)?,
            window_end: get_u64(row, 4)?,
            receiver_instance: None,
        })
    })?;
    let mut totals: Vec<EnvironmentTotals> = rows.collect::<Result<_, _>>()?;
    let mut pending = transaction.prepare_cached(
        "SELECT environment, receiver_instance, window_start_unix_nano, window_end_unix_nano
         FROM pending_pushes ORDER BY environment",
    )?;
    let rows = pending.query_map([], |row| {
        Ok(EnvironmentTotals {
            environment: row.get(0)?,
            receivers: Vec::new(),
            pushes: 1,
            window_start: get_u64(row, 2)?,
            window_end: get_u64(row, 3)?,
            receiver_instance: Some(row.get(1)?),
        })
    })?;
    for row in rows {
        totals.push(row?);
    }
    Ok(totals)
}

/// The newest rollup version and the pending pushes: what changed since a
/// reader last looked.
pub(in crate::store) fn change_marker(
    transaction: &rusqlite::Transaction<'_>,
) -> Result<(u64, u64), StoreError> {
    Ok(transaction
        .prepare_cached(
            "SELECT (SELECT coalesce(max(version), 0) * 1000003 + count(*) FROM rollups),
                    (SELECT coalesce(max(id), 0) FROM pending_pushes)",
        )?
        .query_row([], |row| Ok((get_u64(row, 0)?, get_u64(row, 1)?)))?)
}

/// Pushes waiting to be rolled up.
pub(in crate::store) fn pending_count(
    transaction: &rusqlite::Transaction<'_>,
) -> Result<u64, StoreError> {
    Ok(transaction
        .prepare_cached("SELECT count(*) FROM pending_pushes")?
        .query_row([], |row| get_u64(row, 0))?)
}
