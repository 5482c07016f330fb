//! The analyzer's store: every accepted push, durable before it is
//! acknowledged, merged into rollups so that what a report reads does not
//! grow with the number of pushes.
//!
//! - **Writes.** A push is validated, then written with others that arrived
//!   at the same time in one transaction (group commit) and acknowledged
//!   after that commit. Its key (environment, receiver instance, window
//!   start, sequence) is kept for the idempotency window, so a retried push
//!   is stored once; its fingerprint waits as a *pending* push.
//! - **Rollups.** A roll-up pass merges pending pushes into one-minute and
//!   one-hour rollups per environment and deletes them, in one transaction:
//!   after a crash, whatever was not rolled up is still pending, and nothing
//!   is counted twice. Minute rollups are kept for `minute_retention`, hour
//!   rollups for `retention`.
//! - **Reads** merge the rollups that cover a range (whole hours inside it,
//!   minutes at its edges, see [`buckets::RangePlan`]) and the pushes still
//!   pending in it, in one snapshot, through connections of their own.
//!
//! Two backends: embedded SQLite (one file, one analyzer) and PostgreSQL
//! (several analyzer replicas sharing one database).

pub mod buckets;
mod handoff;
mod location;
mod postgres;
pub mod rollup;
mod sqlite;
mod sqlite_writer;
mod validate;

pub use self::location::{StoreLocation, redact_url};
use self::validate::{ValidPush, validate};

use std::sync::Arc;
use std::time::Duration;

use otel_parity_model::limits::FingerprintLimits;
use otel_parity_proto::v1::{EnvironmentFingerprint, PushRequest};

use self::buckets::RangePlan;
use self::rollup::{CorruptRollup, RangeMerge, RollupPass};

/// Pending pushes merged per roll-up pass, at most.
const ROLLUP_BATCH: usize = 2_000;

/// How long each part of the store is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Hour rollups (and so the longest range a report can cover).
    pub rollups: Duration,
    /// Minute rollups: ranges within this read their edges to the minute.
    pub minute_rollups: Duration,
    /// Push keys: a retried push is recognised for this long after the
    /// first arrived.
    pub idempotency_window: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            rollups: Duration::from_secs(7 * 24 * 3600),
            minute_rollups: Duration::from_secs(3 * 3600),
            idempotency_window: Duration::from_secs(3600),
        }
    }
}

/// Why the store failed, naming the database or the push.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// `--store` is not a store location.
    #[error("invalid store {spec:?}: {reason}")]
    Location {
        /// What was given (password hidden).
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database could not be opened as an otel-parity store.
    #[error("cannot open store {path}: {reason}")]
    Open {
        /// The database (file path, or URL without password).
        path: String,
        /// The backend's reason (e.g. "file is not a database").
        reason: String,
    },
    /// The database was written by a newer otel-parity.
    #[error(
        "store {location} has schema version {found}, but this otel-parity only knows versions \
         up to {supported}: it was written by a newer release; upgrade otel-parity or use \
         another store"
    )]
    UnsupportedSchema {
        /// The database.
        location: String,
        /// The version found in it.
        found: u32,
        /// The newest version this code knows.
        supported: u32,
    },
    /// A schema migration failed; the database stays at the previous version.
    #[error("cannot migrate store {location} to schema version {version}: {reason}")]
    Migrate {
        /// The database.
        location: String,
        /// The version the failed step would have reached.
        version: u32,
        /// The backend's reason.
        reason: String,
    },
    /// A read or write on an open store failed (disk full, database down…):
    /// retryable.
    #[error("store unavailable: {0}")]
    Backend(String),
    /// A rollup does not decode: the row is named so it can be removed.
    #[error(transparent)]
    Corrupt(#[from] CorruptRollup),
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

/// What a backend did with one push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    /// Stored as the pending push with this id.
    New(i64),
    /// A push with the same key was already stored.
    Duplicate,
}

impl From<Stored> for Inserted {
    fn from(stored: Stored) -> Inserted {
        match stored {
            Stored::New(_) => Inserted::New,
            Stored::Duplicate => Inserted::Duplicate,
        }
    }
}

/// One environment as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EnvironmentSummary {
    /// The environment's name (e.g. "production", "staging").
    pub name: String,
    /// Distinct receiver instances that pushed for it (estimated beyond a
    /// few hundred).
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

/// What a roll-up pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollupOutcome {
    /// Pending pushes merged into rollups.
    pub rolled_up: u64,
    /// Pending pushes that could not be read, logged and dropped.
    pub unreadable: u64,
    /// Rollup rows written.
    pub rows: u64,
    /// Whether the pass took as many pushes as a pass takes: more may wait.
    pub batch_full: bool,
}

/// What a retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retired {
    /// Push keys past the idempotency window.
    pub push_keys: u64,
    /// Minute rollups past `minute_rollups`.
    pub minute_rollups: u64,
    /// Hour rollups past `rollups`.
    pub hour_rollups: u64,
}

/// Changes whenever what a read could return changes: readers that saw the
/// same marker may reuse what they computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangeMarker(u64, u64);

/// Retention as absolute cutoffs, computed once per pass.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetentionCutoffs {
    push_keys_received_before: u64,
    minutes_before: u64,
    hours_ended_before: u64,
}

/// One row of per-environment totals (a rollup or a pending push).
#[derive(Debug, Clone)]
pub(crate) struct EnvironmentTotals {
    environment: String,
    /// HLL over receivers (rollups), empty for a pending push.
    receivers: Vec<u8>,
    /// The pending push's receiver, when this row is one.
    receiver_instance: Option<String>,
    pushes: u64,
    window_start: u64,
    window_end: u64,
}

/// The analyzer's durable store.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Arc<Backend>,
    retention: Retention,
    /// Caps every pushed fingerprint is checked against.
    limits: FingerprintLimits,
    /// Woken by every new push, for the roll-up task.
    pushed: Arc<tokio::sync::Notify>,
    /// Pushes stored here, still decoded, for the next roll-up pass.
    handoff: Arc<handoff::Handoff>,
}

#[derive(Debug)]
enum Backend {
    Sqlite {
        writer: sqlite_writer::SqliteWriter,
        readers: Arc<sqlite::SqliteReaders>,
    },
    Postgres(postgres::PostgresStore),
}

impl Store {
    /// Opens (creating and migrating if needed) the store at `location`.
    pub async fn open(location: &StoreLocation, retention: Retention) -> Result<Store, StoreError> {
        let backend = match location {
            StoreLocation::Sqlite(path) => {
                let path = path.clone();
                sqlite_backend(run_blocking(move || sqlite::open(&path)).await?)?
            }
            StoreLocation::SqliteTemporary => {
                sqlite_backend(run_blocking(sqlite::open_temporary).await?)?
            }
            StoreLocation::Postgres(url) => {
                Backend::Postgres(postgres::PostgresStore::connect(url).await?)
            }
        };
        Ok(Store {
            backend: Arc::new(backend),
            retention,
            limits: FingerprintLimits::default(),
            pushed: Arc::new(tokio::sync::Notify::new()),
            handoff: Arc::default(),
        })
    }

    /// The store checking pushed fingerprints against `limits` (the
    /// receivers' default caps until set).
    pub fn with_limits(mut self, limits: FingerprintLimits) -> Store {
        self.limits = limits;
        self
    }

    /// A private, empty SQLite store (tests, `serve` without a data directory).
    pub async fn open_temporary() -> Result<Store, StoreError> {
        Store::open(&StoreLocation::SqliteTemporary, Retention::default()).await
    }

    /// Validates and stores one push durably (committed) before returning.
    /// Storing a key already stored is [`Inserted::Duplicate`] and changes
    /// nothing; an invalid push (its envelope, or a fingerprint over a cap,
    /// with a sketch that does not decode or counts a receiver never makes)
    /// is [`StoreError::InvalidPush`] naming the first bad field, and stores
    /// nothing.
    pub async fn insert_push(
        &self,
        push: &PushRequest,
        received_at_unix_nano: u64,
    ) -> Result<Inserted, StoreError> {
        let valid = validate(push, received_at_unix_nano, &self.limits)?;
        Ok(self.store(valid).await?.into())
    }

    /// [`Store::insert_push`] for a push the caller owns (the push
    /// service's): its decoded fingerprint goes to the next roll-up pass,
    /// which then need not decode the stored bytes again.
    pub async fn insert_owned_push(
        &self,
        mut push: PushRequest,
        received_at_unix_nano: u64,
    ) -> Result<Inserted, StoreError> {
        let valid = validate(&push, received_at_unix_nano, &self.limits)?;
        let encoded_len = valid.fingerprint.len();
        let stored = self.store(valid).await?;
        if let (Stored::New(id), Some(fingerprint)) = (stored, push.fingerprint.take()) {
            self.handoff.put(id, fingerprint, encoded_len);
        }
        Ok(stored.into())
    }

    async fn store(&self, push: ValidPush) -> Result<Stored, StoreError> {
        let stored = match &*self.backend {
            Backend::Sqlite { writer, .. } => writer.insert(push).await,
            Backend::Postgres(pg) => pg.insert(push).await,
        }?;
        if let Stored::New(_) = stored {
            self.pushed.notify_one();
        }
        Ok(stored)
    }

    /// Completes when a push is stored by this process (one may have been
    /// stored since the last call), or after `timeout`.
    pub async fn wait_for_pushes(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.pushed.notified()).await;
    }

    /// Merges up to a batch of pending pushes into their rollups.
    pub async fn roll_up(&self) -> Result<RollupOutcome, StoreError> {
        let pass = match &*self.backend {
            Backend::Sqlite { writer, readers } => {
                let readers = Arc::clone(readers);
                let handoff = Arc::clone(&self.handoff);
                let pass = run_blocking(move || {
                    readers.read(|tx| {
                        let pending = sqlite::pending(tx, ROLLUP_BATCH)?;
                        let decoded = handoff.take(pending.iter().map(|push| push.id));
                        rollup::roll_up(pending, decoded, |key| sqlite::rollup_row(tx, key))
                    })
                })
                .await?;
                if pass.consumed.is_empty() {
                    return Ok(RollupOutcome::default());
                }
                let outcome = outcome_of(&pass);
                writer.commit_rollup(pass).await?;
                return Ok(outcome);
            }
            Backend::Postgres(pg) => pg.roll_up(ROLLUP_BATCH, &self.handoff).await?,
        };
        Ok(pass)
    }

    /// Rolls up until nothing is pending (tests, and shutdown).
    pub async fn roll_up_all(&self) -> Result<RollupOutcome, StoreError> {
        let mut total = RollupOutcome::default();
        loop {
            let outcome = self.roll_up().await?;
            total.rolled_up += outcome.rolled_up;
            total.unreadable += outcome.unreadable;
            total.rows += outcome.rows;
            if !outcome.batch_full {
                return Ok(total);
            }
        }
    }

    /// `environment`'s pushes whose windows fall in `[since, until)`, merged:
    /// rollups for whole buckets and pushes still pending. `None` when there
    /// is none.
    pub async fn fingerprint(
        &self,
        environment: &str,
        since_unix_nano: u64,
        until_unix_nano: u64,
    ) -> Result<Option<MergedFingerprint>, StoreError> {
        let now = otel_parity_runtime::time::unix_nanos_now();
        let minutes_kept_from = now.saturating_sub(nanos(self.retention.minute_rollups));
        let plan = RangePlan::new(since_unix_nano, until_unix_nano, minutes_kept_from);
        let (rows, pending) = match &*self.backend {
            Backend::Sqlite { readers, .. } => {
                let readers = Arc::clone(readers);
                let environment = environment.to_owned();
                run_blocking(move || {
                    readers.read(|tx| {
                        let rows = sqlite::planned_rows(tx, &environment, &plan)?;
                        let pending = sqlite::pending_in(tx, &environment, &plan_ranges(&plan))?;
                        Ok((rows, pending))
                    })
                })
                .await?
            }
            Backend::Postgres(pg) => pg.read_range(environment, &plan).await?,
        };
        let mut merge = RangeMerge::new();
        for row in &rows {
            merge.add(row)?;
        }
        for push in pending {
            // A push that cannot be read is dropped by the next roll-up pass,
            // which logs it; a report goes on without it.
            if let Err(reason) = merge.add_push(push) {
                tracing::warn!(%reason, "pending push left out of a report");
            }
        }
        let (pushes, receivers, start, end) = (
            merge.pushes,
            merge.receivers(),
            merge.window_start,
            merge.window_end,
        );
        Ok(merge.finish().map(|fingerprint| MergedFingerprint {
            fingerprint,
            pushes,
            receivers,
            window_start_unix_nano: start,
            window_end_unix_nano: end,
        }))
    }

    /// Every stored environment with its receivers, pushes and time range,
    /// sorted by name.
    pub async fn environments(&self) -> Result<Vec<EnvironmentSummary>, StoreError> {
        let totals = match &*self.backend {
            Backend::Sqlite { readers, .. } => {
                let readers = Arc::clone(readers);
                run_blocking(move || readers.read(sqlite::environment_totals)).await?
            }
            Backend::Postgres(pg) => pg.environment_totals().await?,
        };
        Ok(summarize(totals))
    }

    /// Deletes push keys, minute and hour rollups that retention no longer
    /// needs, as of `now_unix_nano`.
    pub async fn apply_retention(&self, now_unix_nano: u64) -> Result<Retired, StoreError> {
        let cutoffs = RetentionCutoffs {
            push_keys_received_before: now_unix_nano
                .saturating_sub(nanos(self.retention.idempotency_window)),
            minutes_before: now_unix_nano.saturating_sub(nanos(self.retention.minute_rollups)),
            hours_ended_before: now_unix_nano.saturating_sub(nanos(self.retention.rollups)),
        };
        match &*self.backend {
            Backend::Sqlite { writer, .. } => writer.apply_retention(cutoffs).await,
            Backend::Postgres(pg) => pg.apply_retention(cutoffs).await,
        }
    }

    /// A marker that changes whenever rollups or pending pushes change.
    pub async fn change_marker(&self) -> Result<ChangeMarker, StoreError> {
        let (a, b) = match &*self.backend {
            Backend::Sqlite { readers, .. } => {
                let readers = Arc::clone(readers);
                run_blocking(move || readers.read(sqlite::change_marker)).await?
            }
            Backend::Postgres(pg) => pg.change_marker().await?,
        };
        Ok(ChangeMarker(a, b))
    }

    /// Pushes stored and not yet rolled up.
    pub async fn pending_pushes(&self) -> Result<u64, StoreError> {
        match &*self.backend {
            Backend::Sqlite { readers, .. } => {
                let readers = Arc::clone(readers);
                run_blocking(move || readers.read(sqlite::pending_count)).await
            }
            Backend::Postgres(pg) => pg.pending_count().await,
        }
    }

    /// Whether the store answers a read and takes writes now (`/readyz`).
    pub async fn check(&self) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Sqlite { writer, .. } => writer.check().await,
            Backend::Postgres(pg) => pg.check().await,
        }
    }

    /// Closes the store at shutdown, once nothing reads or writes any more:
    /// the SQLite file is checkpointed and left without its -wal and -shm
    /// files; PostgreSQL connections are closed.
    pub async fn close(&self) {
        match &*self.backend {
            Backend::Sqlite { writer, .. } => {
                if let Err(error) = writer.close().await {
                    tracing::warn!(%error, "store not closed cleanly");
                }
            }
            Backend::Postgres(pg) => pg.close(),
        }
    }

    /// Which backend, for logs: `sqlite:PATH` or the URL without password.
    pub fn describe(&self) -> String {
        match &*self.backend {
            Backend::Sqlite { readers, .. } => format!("sqlite:{}", readers.path().display()),
            Backend::Postgres(pg) => pg.describe(),
        }
    }
}

/// The SQLite backend over an opened database: its writer thread and readers.
fn sqlite_backend(
    (writer, readers): (rusqlite::Connection, sqlite::SqliteReaders),
) -> Result<Backend, StoreError> {
    let readers = Arc::new(readers);
    Ok(Backend::Sqlite {
        writer: sqlite_writer::SqliteWriter::start(writer, Arc::clone(&readers))?,
        readers,
    })
}

fn outcome_of(pass: &RollupPass) -> RollupOutcome {
    let unreadable = pass.unreadable.len() as u64;
    for (id, reason) in &pass.unreadable {
        tracing::error!(pending_push = id, %reason, "stored push cannot be read; dropped");
    }
    RollupOutcome {
        rolled_up: pass.consumed.len() as u64 - unreadable,
        unreadable,
        rows: pass.rows.len() as u64,
        batch_full: pass.consumed.len() >= ROLLUP_BATCH,
    }
}

/// The window-start ranges a plan covers, for pending pushes.
fn plan_ranges(plan: &RangePlan) -> Vec<std::ops::Range<u64>> {
    plan.ranges().map(|(_, range)| range.clone()).collect()
}

/// Per-environment totals of rollup rows and pending pushes, by name.
fn summarize(totals: Vec<EnvironmentTotals>) -> Vec<EnvironmentSummary> {
    let mut by_environment: std::collections::BTreeMap<String, (RangeMerge, u64, u64)> =
        std::collections::BTreeMap::new();
    for row in totals {
        let entry = by_environment
            .entry(row.environment.clone())
            .or_insert_with(|| (RangeMerge::new(), u64::MAX, 0));
        entry.1 = entry.1.min(row.window_start);
        entry.2 = entry.2.max(row.window_end);
        entry
            .0
            .count_receivers(&row.receivers, row.receiver_instance.as_deref());
        entry.0.pushes += row.pushes;
    }
    by_environment
        .into_iter()
        .map(|(name, (merge, first, last))| EnvironmentSummary {
            name,
            receivers: merge.receivers(),
            pushes: merge.pushes,
            first_window_start_unix_nano: first,
            last_window_end_unix_nano: last,
        })
        .collect()
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Runs blocking store work (SQLite) off the async threads.
async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
}

#[cfg(test)]
mod tests;
