//! The analyzer's store: every accepted push, kept in one embedded SQLite file
//! under the data directory so that a restart loses nothing acknowledged.
//!
//! A push is committed (WAL, `synchronous=FULL`: fsynced) before
//! [`Store::insert_push`] returns, so the push service may acknowledge it
//! then. Pushes are keyed by (environment, receiver instance, window start,
//! sequence): a receiver that retries a push it is unsure about stores it once.
//!
//! SQLite integers are signed, so the `u64` nanosecond timestamps and sequence
//! numbers of a push are stored as `i64`. Unix nanoseconds fit until the year
//! 2262; a push carrying a larger value is refused as invalid rather than
//! wrapped. Bounds given to queries saturate at `i64::MAX` instead.
//!
//! Every call takes the connection's lock and may wait on the disk: async
//! callers should run it on a blocking thread.

use std::path::{Path, PathBuf};

use otel_parity_proto::v1::{EnvironmentFingerprint, PushRequest};
use parking_lot::Mutex;
use prost::Message;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row, TransactionBehavior, params};

use otel_parity_model::merge::merge_environment;

/// Schema migrations, applied in order. Step `i` brings the database to
/// version `i + 1`, recorded in `PRAGMA user_version`. Never edit a released
/// step: append a new one.
const MIGRATIONS: &[&str] = &[
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
];

/// The schema version this code writes and understands.
const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How long a statement waits for another process's lock on the file.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Why the store failed, naming the file or the push.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened as an otel-parity database.
    #[error("cannot open store {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's reason (e.g. "file is not a database").
        source: rusqlite::Error,
    },
    /// The database was written by a newer otel-parity.
    #[error(
        "store {} has schema version {found}, but this otel-parity only knows versions up to \
         {supported}: it was written by a newer release; upgrade otel-parity or use another \
         data directory",
        path.display()
    )]
    UnsupportedSchema {
        /// The database file.
        path: PathBuf,
        /// `PRAGMA user_version` found in the file.
        found: u32,
        /// The newest version this code knows.
        supported: u32,
    },
    /// A schema migration failed; the database stays at the previous version.
    #[error("cannot migrate store {} to schema version {version}: {source}", path.display())]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// The version the failed step would have reached.
        version: u32,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// A read or write on an open store failed.
    #[error("store query failed: {0}")]
    Query(#[from] rusqlite::Error),
    /// A stored fingerprint does not decode: the row is named so it can be removed.
    #[error(
        "stored fingerprint of environment {environment:?}, receiver {receiver_instance:?}, \
         sequence {sequence} is corrupt: {reason}"
    )]
    CorruptFingerprint {
        /// The row's environment.
        environment: String,
        /// The row's receiver instance.
        receiver_instance: String,
        /// The row's sequence number.
        sequence: u64,
        /// Why it does not decode.
        reason: String,
    },
    /// A push was refused before anything was stored.
    #[error("invalid push: {0}")]
    InvalidPush(String),
}

/// Whether a push was new or a retry of one already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// The push was stored.
    New,
    /// A push with the same key was already stored; nothing changed.
    Duplicate,
}

/// One environment as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EnvironmentSummary {
    /// The environment's name (e.g. "production", "staging").
    pub name: String,
    /// Distinct receiver instances that pushed for it.
    pub receivers: u64,
    /// Pushes stored.
    pub pushes: u64,
    /// Start of its earliest stored window, Unix epoch nanoseconds.
    pub first_window_start_unix_nano: u64,
    /// End of its latest stored window, Unix epoch nanoseconds.
    pub last_window_end_unix_nano: u64,
}

/// An environment's fingerprint merged over a time range.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedFingerprint {
    /// Every selected push's fingerprint, merged.
    pub fingerprint: EnvironmentFingerprint,
    /// Pushes merged.
    pub pushes: u64,
    /// Distinct receiver instances among them.
    pub receivers: u64,
    /// Start of the earliest merged window, Unix epoch nanoseconds.
    pub window_start_unix_nano: u64,
    /// End of the latest merged window, Unix epoch nanoseconds.
    pub window_end_unix_nano: u64,
}

/// The analyzer's durable store of pushes (one SQLite connection).
pub struct Store {
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database file at `path` and brings its
    /// schema up to date. The parent directory must exist.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let connection = Connection::open(path).map_err(open_error)?;
        // Reading the schema makes SQLite check the file header now, so a
        // file that is not a database fails here with its path.
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .and_then(|()| {
                connection.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            })
            .and_then(|()| {
                connection.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            })
            .and_then(|()| connection.pragma_update(None, "synchronous", "FULL"))
            .map_err(open_error)?;
        Store::migrated(connection, path)
    }

    /// Opens a private, empty store in memory (tests, `serve` without a data
    /// directory).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = Path::new(":memory:");
        let connection = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        Store::migrated(connection, path)
    }

    fn migrated(mut connection: Connection, path: &Path) -> Result<Store, StoreError> {
        let read_error = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let version = user_version(&connection).map_err(read_error)?;
        if version > SCHEMA_VERSION {
            return Err(unsupported(path, version));
        }
        for (step, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let target = step as u32 + 1;
            let migrate_error = |source| StoreError::Migrate {
                path: path.to_owned(),
                version: target,
                source,
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
        Ok(Store {
            connection: Mutex::new(connection),
        })
    }

    /// Validates and stores one push durably (committed) before returning.
    /// Storing a key already stored is [`Inserted::Duplicate`] and changes
    /// nothing; an invalid push is [`StoreError::InvalidPush`] and stores
    /// nothing.
    pub fn insert_push(
        &self,
        push: &PushRequest,
        received_at_unix_nano: u64,
    ) -> Result<Inserted, StoreError> {
        let fingerprint = validate(push)?;
        let invalid = |reason: String| StoreError::InvalidPush(describe(push, &reason));
        let stored = |field: &str, value: u64| {
            i64::try_from(value).map_err(|_| {
                invalid(format!(
                    "{field} {value} is beyond the year 2262 (largest storable is {})",
                    i64::MAX
                ))
            })
        };
        let row = (
            stored("window_start_unix_nano", push.window_start_unix_nano)?,
            stored("sequence", push.sequence)?,
            stored("window_end_unix_nano", push.window_end_unix_nano)?,
            stored("received_at_unix_nano", received_at_unix_nano)?,
        );
        let connection = self.connection.lock();
        let changed = connection.execute(
            "INSERT INTO pushes (environment, receiver_instance, window_start_unix_nano,
                sequence, window_end_unix_nano, received_at_unix_nano, fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT DO NOTHING",
            params![
                push.environment,
                push.receiver_instance,
                row.0,
                row.1,
                row.2,
                row.3,
                fingerprint.encode_to_vec()
            ],
        )?;
        Ok(if changed == 0 {
            Inserted::Duplicate
        } else {
            Inserted::New
        })
    }

    /// Every stored environment with its receivers, pushes and time range,
    /// sorted by name.
    pub fn environments(&self) -> Result<Vec<EnvironmentSummary>, StoreError> {
        let connection = self.connection.lock();
        let mut statement = connection.prepare(
            "SELECT environment, count(DISTINCT receiver_instance), count(*),
                    min(window_start_unix_nano), max(window_end_unix_nano)
             FROM pushes GROUP BY environment ORDER BY environment",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(EnvironmentSummary {
                name: row.get(0)?,
                receivers: get_u64(row, 1)?,
                pushes: get_u64(row, 2)?,
                first_window_start_unix_nano: get_u64(row, 3)?,
                last_window_end_unix_nano: get_u64(row, 4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Merges every push of `environment` whose window ends after
    /// `since_unix_nano` and starts before `until_unix_nano`, with
    /// [`merge_environment`]; `None` when there is none.
    pub fn fingerprint(
        &self,
        environment: &str,
        since_unix_nano: u64,
        until_unix_nano: u64,
    ) -> Result<Option<MergedFingerprint>, StoreError> {
        let connection = self.connection.lock();
        // Sorted so that the merge, and so list orders inside it, do not
        // depend on insertion order.
        let mut statement = connection.prepare(
            "SELECT receiver_instance, sequence, window_start_unix_nano,
                    window_end_unix_nano, fingerprint
             FROM pushes
             WHERE environment = ?1 AND window_end_unix_nano > ?2
               AND window_start_unix_nano < ?3
             ORDER BY window_start_unix_nano, receiver_instance, sequence",
        )?;
        let mut rows = statement.query(params![
            environment,
            saturating_i64(since_unix_nano),
            saturating_i64(until_unix_nano)
        ])?;
        let mut merged: Option<MergedFingerprint> = None;
        let mut receivers = std::collections::BTreeSet::new();
        while let Some(row) = rows.next()? {
            let receiver_instance: String = row.get(0)?;
            let sequence = get_u64(row, 1)?;
            let (start, end) = (get_u64(row, 2)?, get_u64(row, 3)?);
            let corrupt = |reason: String| StoreError::CorruptFingerprint {
                environment: environment.to_owned(),
                receiver_instance: receiver_instance.clone(),
                sequence,
                reason,
            };
            let fingerprint = match row.get_ref(4)? {
                ValueRef::Blob(bytes) => EnvironmentFingerprint::decode(bytes)
                    .map_err(|error| corrupt(error.to_string()))?,
                other => {
                    return Err(corrupt(format!(
                        "stored as {} instead of a protobuf BLOB",
                        other.data_type()
                    )));
                }
            };
            receivers.insert(receiver_instance);
            match merged.as_mut() {
                None => {
                    merged = Some(MergedFingerprint {
                        fingerprint,
                        pushes: 1,
                        receivers: 0,
                        window_start_unix_nano: start,
                        window_end_unix_nano: end,
                    })
                }
                Some(total) => {
                    merge_environment(&mut total.fingerprint, &fingerprint);
                    total.pushes += 1;
                    total.window_start_unix_nano = total.window_start_unix_nano.min(start);
                    total.window_end_unix_nano = total.window_end_unix_nano.max(end);
                }
            }
        }
        Ok(merged.map(|total| MergedFingerprint {
            receivers: receivers.len() as u64,
            ..total
        }))
    }

    /// Deletes pushes whose window ended before `unix_nano` (retention);
    /// returns how many.
    pub fn delete_older_than(&self, unix_nano: u64) -> Result<u64, StoreError> {
        let connection = self.connection.lock();
        let deleted = connection.execute(
            "DELETE FROM pushes WHERE window_end_unix_nano < ?1",
            [saturating_i64(unix_nano)],
        )?;
        Ok(deleted as u64)
    }

    /// Pushes stored (all environments), for metrics.
    pub fn push_count(&self) -> Result<u64, StoreError> {
        let connection = self.connection.lock();
        Ok(connection.query_row("SELECT count(*) FROM pushes", [], |row| get_u64(row, 0))?)
    }
}

/// Checks what the store relies on and returns the push's fingerprint.
fn validate(push: &PushRequest) -> Result<&EnvironmentFingerprint, StoreError> {
    let invalid = |reason: &str| Err(StoreError::InvalidPush(describe(push, reason)));
    if push.environment.is_empty() {
        return invalid("environment is empty");
    }
    if push.receiver_instance.is_empty() {
        return invalid("receiver_instance is empty");
    }
    if push.window_end_unix_nano < push.window_start_unix_nano {
        return invalid(&format!(
            "window_end_unix_nano {} is before window_start_unix_nano {}",
            push.window_end_unix_nano, push.window_start_unix_nano
        ));
    }
    match &push.fingerprint {
        Some(fingerprint) => Ok(fingerprint),
        None => invalid("fingerprint is missing"),
    }
}

/// Names the push in an error: which environment, receiver and sequence.
fn describe(push: &PushRequest, reason: &str) -> String {
    format!(
        "push of environment {:?} from receiver {:?}, sequence {}: {reason}",
        push.environment, push.receiver_instance, push.sequence
    )
}

fn user_version(connection: &Connection) -> rusqlite::Result<u32> {
    connection.pragma_query_value(None, "user_version", |row| row.get(0))
}

fn unsupported(path: &Path, found: u32) -> StoreError {
    StoreError::UnsupportedSchema {
        path: path.to_owned(),
        found,
        supported: SCHEMA_VERSION,
    }
}

/// Reads back a value stored from a `u64` (see the module doc); a negative
/// one can only come from outside otel-parity and is reported, not wrapped.
fn get_u64(row: &Row<'_>, column: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(column)?;
    u64::try_from(value).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(column, value))
}

/// A query bound: times past the year 2262 mean "after everything stored".
fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
