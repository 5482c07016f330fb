//! The embedded SQLite store: one file under the data directory, one
//! analyzer. One writer connection (on the store's writer thread: batches of
//! pushes in one transaction each, roll-up passes, retention) and a few
//! reader connections, which WAL lets run beside the writer, so reports never
//! wait for pushes nor pushes for reports.
//!
//! SQLite integers are signed, so `u64` nanosecond timestamps and sequence
//! numbers are stored as `i64`. Unix nanoseconds fit until the year 2262; a
//! push carrying a larger value is refused as invalid rather than wrapped.
//! Bounds given to queries saturate at `i64::MAX` instead.

use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row, TransactionBehavior, params};

use super::buckets::Level;
use super::rollup::RollupPass;
use super::{RetentionCutoffs, Retired, StoreError, Stored, ValidPush};

mod reads;

pub(super) use self::reads::{
    change_marker, environment_totals, pending, pending_count, pending_in, planned_rows, rollup_row,
};

/// Schema migrations, applied in order. Step `i` brings the database to
/// version `i + 1`, recorded in `PRAGMA user_version`. Never edit a released
/// step: append a new one.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: pushes, keyed for idempotent retries; the index serves time-range
    // reads of one environment and retention deletes.
    "CREATE TABLE pushes (
        environment TEXT NOT NULL,
        receiver_instance TEXT NOT NULL,
        window_start_unix_nano INTEGER NOT NULL,
        sequence INTEGER NOT NULL,
        window_end_unix_nano INTEGER NOT NULL,
        received_at_unix_nano INTEGER NOT NULL,
        fingerprint BLOB NOT NULL,
        PRIMARY KEY (environment, receiver_instance, window_start_unix_nano, sequence)
    );
    CREATE INDEX pushes_by_environment_window_end
        ON pushes (environment, window_end_unix_nano);",
    // 2: rollups. A push's key is kept (push_keys) for the idempotency
    // window; its fingerprint waits in pending_pushes until a roll-up pass
    // merges it into its minute and hour rows and deletes it, in one
    // transaction. Pushes stored by release 1 become pending.
    "CREATE TABLE push_keys (
        environment TEXT NOT NULL,
        receiver_instance TEXT NOT NULL,
        window_start_unix_nano INTEGER NOT NULL,
        sequence INTEGER NOT NULL,
        received_at_unix_nano INTEGER NOT NULL,
        PRIMARY KEY (environment, receiver_instance, window_start_unix_nano, sequence)
    ) WITHOUT ROWID;
    CREATE INDEX push_keys_by_received_at ON push_keys (received_at_unix_nano);
    CREATE TABLE pending_pushes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        environment TEXT NOT NULL,
        receiver_instance TEXT NOT NULL,
        window_start_unix_nano INTEGER NOT NULL,
        window_end_unix_nano INTEGER NOT NULL,
        fingerprint BLOB NOT NULL
    );
    CREATE INDEX pending_pushes_by_environment_window
        ON pending_pushes (environment, window_start_unix_nano);
    CREATE TABLE rollups (
        environment TEXT NOT NULL,
        level_seconds INTEGER NOT NULL,
        bucket_start_unix_nano INTEGER NOT NULL,
        pushes INTEGER NOT NULL,
        window_start_unix_nano INTEGER NOT NULL,
        window_end_unix_nano INTEGER NOT NULL,
        receivers BLOB NOT NULL,
        fingerprint BLOB NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (environment, level_seconds, bucket_start_unix_nano)
    );
    INSERT INTO push_keys
        SELECT environment, receiver_instance, window_start_unix_nano, sequence,
               received_at_unix_nano
        FROM pushes;
    INSERT INTO pending_pushes (environment, receiver_instance, window_start_unix_nano,
                                window_end_unix_nano, fingerprint)
        SELECT environment, receiver_instance, window_start_unix_nano,
               window_end_unix_nano, fingerprint
        FROM pushes ORDER BY window_start_unix_nano;
    DROP TABLE pushes;",
    // 3: the newest rollup version (every roll-up upsert and every change
    // check asks for it) from an index, not from a scan that reads each
    // row's fingerprint overflow pages to reach the column after it.
    "CREATE INDEX rollups_by_version ON rollups (version);",
];

/// The schema version this code writes and understands.
pub(super) const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How long a statement waits for another connection's lock on the file.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Reader connections kept open between reads.
const IDLE_READERS: usize = 4;

/// Where the database is, and whether it is removed when the store closes.
#[derive(Debug)]
pub(super) struct SqliteFile {
    path: PathBuf,
    temporary: bool,
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        if self.temporary {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = self.path.clone().into_os_string();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Reads through a small pool of connections of their own.
pub(super) struct SqliteReaders {
    file: SqliteFile,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReaders")
            .field("path", &self.file.path)
            .finish_non_exhaustive()
    }
}

/// Opens (creating if needed) the database at `path`, migrates it, and
/// returns the writer connection and the readers.
pub(super) fn open(path: &Path) -> Result<(Connection, SqliteReaders), StoreError> {
    open_file(SqliteFile {
        path: path.to_owned(),
        temporary: false,
    })
}

/// A private database in the temp directory, removed when the store closes
/// (tests, and `serve` without a data directory).
pub(super) fn open_temporary() -> Result<(Connection, SqliteReaders), StoreError> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "otel-parity-{}-{}.db",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let file = SqliteFile {
        path: std::env::temp_dir().join(name),
        temporary: true,
    };
    drop(SqliteFile {
        path: file.path.clone(),
        temporary: true,
    });
    open_file(file)
}

fn open_file(file: SqliteFile) -> Result<(Connection, SqliteReaders), StoreError> {
    let writer = connect(&file.path)?;
    let writer = migrated(writer, &file.path)?;
    Ok((
        writer,
        SqliteReaders {
            file,
            idle: Mutex::new(Vec::new()),
        },
    ))
}

/// A connection to the database at `path`, set up as every connection of
/// the store is (WAL, full sync, the busy timeout).
pub(super) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let open_error = |source: rusqlite::Error| {
        let mut reason = sqlite_reason(&source);
        if source.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen) && path.exists() {
            reason.push_str(
                " (the file exists: SQLite also creates its -wal and -shm files beside it, \
                 so the directory must be writable)",
            );
        }
        StoreError::Open {
            path: path.display().to_string(),
            reason,
        }
    };
    let connection = Connection::open(path).map_err(open_error)?;
    // Reading the schema makes SQLite check the file header now, so a file
    // that is not a database fails here with its path.
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .and_then(|()| connection.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())))
        .and_then(|()| connection.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())))
        .and_then(|()| connection.pragma_update(None, "synchronous", "FULL"))
        .map_err(open_error)?;
    Ok(connection)
}

fn migrated(mut connection: Connection, path: &Path) -> Result<Connection, StoreError> {
    let read_error = |source| StoreError::Open {
        path: path.display().to_string(),
        reason: sqlite_reason(&source),
    };
    let version = user_version(&connection).map_err(read_error)?;
    if version > SCHEMA_VERSION {
        return Err(unsupported(path, version));
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let target = step as u32 + 1;
        let migrate_error = |source| StoreError::Migrate {
            location: path.display().to_string(),
            version: target,
            reason: sqlite_reason(&source),
        };
        // IMMEDIATE takes the write lock first, so of two processes
        // migrating one file, the second sees the first's result.
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(migrate_error)?;
        let current = user_version(&transaction).map_err(migrate_error)?;
        if current > step as u32 {
            if current > SCHEMA_VERSION {
                return Err(unsupported(path, current));
            }
            continue;
        }
        transaction
            .execute_batch(sql)
            .and_then(|()| transaction.pragma_update(None, "user_version", target))
            .and_then(|()| transaction.commit())
            .map_err(migrate_error)?;
    }
    Ok(connection)
}

fn user_version(connection: &Connection) -> rusqlite::Result<u32> {
    connection.pragma_query_value(None, "user_version", |row| row.get(0))
}

fn unsupported(path: &Path, found: u32) -> StoreError {
    StoreError::UnsupportedSchema {
        location: path.display().to_string(),
        found,
        supported: SCHEMA_VERSION,
    }
}

/// SQLite's reason, with the extended code for I/O and disk errors (what an
/// operator greps for).
fn sqlite_reason(error: &rusqlite::Error) -> String {
    error.to_string()
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Backend(sqlite_reason(&error))
    }
}

/// Stores a batch of validated pushes in one transaction: each key once,
/// each new push pending roll-up. Durable when this returns.
pub(super) fn insert_batch(
    connection: &mut Connection,
    pushes: &[ValidPush],
) -> Result<Vec<Stored>, StoreError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut results = Vec::with_capacity(pushes.len());
    {
        let mut key = transaction.prepare_cached(
            "INSERT INTO push_keys (environment, receiver_instance, window_start_unix_nano,
                sequence, received_at_unix_nano)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO NOTHING",
        )?;
        let mut pending = transaction.prepare_cached(
            "INSERT INTO pending_pushes (environment, receiver_instance,
                window_start_unix_nano, window_end_unix_nano, fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for push in pushes {
            let new = key.execute(params![
                push.environment,
                push.receiver_instance,
                push.window_start,
                push.sequence,
                push.received_at,
            ])? == 1;
            results.push(if new {
                pending.execute(params![
                    push.environment,
                    push.receiver_instance,
                    push.window_start,
                    push.window_end,
                    push.fingerprint,
                ])?;
                Stored::New(transaction.last_insert_rowid())
            } else {
                Stored::Duplicate
            });
        }
    }
    transaction.commit()?;
    Ok(results)
}

/// Writes a roll-up pass: the rows' new contents and the pending pushes they
/// absorbed, deleted, in one transaction.
pub(super) fn commit_rollup(
    connection: &mut Connection,
    pass: &RollupPass,
) -> Result<(), StoreError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut upsert = transaction.prepare_cached(
            "INSERT INTO rollups (environment, level_seconds, bucket_start_unix_nano, pushes,
                window_start_unix_nano, window_end_unix_nano, receivers, fingerprint, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
                     (SELECT coalesce(max(version), 0) + 1 FROM rollups))
             ON CONFLICT (environment, level_seconds, bucket_start_unix_nano) DO UPDATE SET
                pushes = excluded.pushes,
                window_start_unix_nano = excluded.window_start_unix_nano,
                window_end_unix_nano = excluded.window_end_unix_nano,
                receivers = excluded.receivers,
                fingerprint = excluded.fingerprint,
                version = (SELECT coalesce(max(version), 0) + 1 FROM rollups)",
        )?;
        for row in &pass.rows {
            upsert.execute(params![
                row.key.environment,
                row.key.level.seconds(),
                stored(row.key.bucket_start),
                stored(row.pushes),
                stored(row.window_start),
                stored(row.window_end),
                row.receivers,
                row.fingerprint,
            ])?;
        }
        let mut consumed =
            transaction.prepare_cached("DELETE FROM pending_pushes WHERE id = ?1")?;
        for id in &pass.consumed {
            consumed.execute([id])?;
        }
    }
    transaction.commit()?;
    Ok(())
}

/// Whether the database takes a write now: the write lock, and a write of
/// the file's header that changes nothing (SQLite grants the lock on a file
/// it could only open read-only, and refuses the first write). `commit`
/// commits that write, so that it must reach the disk too (after a failed
/// write: the disk may be full); otherwise it is rolled back.
pub(super) fn check_writable(connection: &mut Connection, commit: bool) -> Result<(), StoreError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = user_version(&transaction)?;
    transaction.pragma_update(None, "user_version", version)?;
    if commit {
        transaction.commit()?;
    } else {
        transaction.rollback()?;
    }
    Ok(())
}

/// Deletes what retention no longer needs, in one transaction.
pub(super) fn apply_retention(
    connection: &mut Connection,
    cutoffs: &RetentionCutoffs,
) -> Result<Retired, StoreError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let keys = transaction.execute(
        "DELETE FROM push_keys WHERE received_at_unix_nano < ?1",
        [stored(cutoffs.push_keys_received_before)],
    )?;
    let minutes = transaction.execute(
        "DELETE FROM rollups WHERE level_seconds = ?1 AND bucket_start_unix_nano < ?2",
        params![
            Level::Minute.seconds(),
            stored(Level::Minute.bucket_of(cutoffs.minutes_before))
        ],
    )?;
    // A bucket goes when all of it is older than retention.
    let hours = transaction.execute(
        "DELETE FROM rollups WHERE level_seconds = ?1 AND bucket_start_unix_nano <= ?2",
        params![
            Level::Hour.seconds(),
            stored(
                cutoffs
                    .hours_ended_before
                    .saturating_sub(Level::Hour.nanos())
            )
        ],
    )?;
    transaction.commit()?;
    Ok(Retired {
        push_keys: keys as u64,
        minute_rollups: minutes as u64,
        hour_rollups: hours as u64,
    })
}

/// A value stored from a `u64`: callers validated it fits.
fn stored(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Reads back a value stored from a `u64` (see the module doc); a negative
/// one can only come from outside otel-parity and is reported, not wrapped.
fn get_u64(row: &Row<'_>, column: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(column)?;
    u64::try_from(value).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(column, value))
}

/// A BLOB column; anything else was not written by otel-parity.
fn blob(row: &Row<'_>, column: usize) -> rusqlite::Result<Vec<u8>> {
    match row.get_ref(column)? {
        ValueRef::Blob(bytes) => Ok(bytes.to_vec()),
        other => Err(rusqlite::Error::FromSqlConversionFailure(
            column,
            other.data_type(),
            format!("stored as {} instead of a BLOB", other.data_type()).into(),
        )),
    }
}
