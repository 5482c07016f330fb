//! The SQLite store's writer thread: the one connection that writes. Pushes
//! that arrive while a transaction commits wait and go into the next one
//! together (group commit), so the cost of an fsync is shared; each push is
//! answered after the commit that made it durable.
//!
//! After a failed write the thread opens a new connection before the next
//! one: SQLite opens a file it may not write (a read-only mount, a wrong
//! owner) read-only for good, so only a new connection sees it writable
//! again once that is fixed. Until then the old connection stays. A
//! readiness check is a write too (see [`sqlite::check_writable`]): the
//! store reports the last write's failure until a write commits.

use std::sync::{Arc, mpsc};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::rollup::RollupPass;
use super::sqlite::SqliteReaders;
use super::{RetentionCutoffs, Retired, StoreError, Stored, ValidPush, sqlite};

/// Pushes committed in one transaction, at most.
const MAX_GROUP: usize = 512;

enum Command {
    Insert(ValidPush, oneshot::Sender<Result<Stored, StoreError>>),
    CommitRollup(RollupPass, oneshot::Sender<Result<(), StoreError>>),
    Retain(
        RetentionCutoffs,
        oneshot::Sender<Result<Retired, StoreError>>,
    ),
    Check(oneshot::Sender<Result<(), StoreError>>),
    Close(oneshot::Sender<Result<(), StoreError>>),
}

/// A handle to the writer thread; the thread ends when the last handle is
/// dropped, after finishing what was queued.
#[derive(Debug)]
pub(super) struct SqliteWriter {
    commands: mpsc::Sender<Command>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Insert(..) => "Insert",
            Command::CommitRollup(..) => "CommitRollup",
            Command::Retain(..) => "Retain",
            Command::Check(..) => "Check",
            Command::Close(..) => "Close",
        })
    }
}

impl SqliteWriter {
    /// Starts the writer thread on `connection`, a connection to the
    /// database `readers` read.
    pub(super) fn start(
        connection: Connection,
        readers: Arc<SqliteReaders>,
    ) -> Result<SqliteWriter, StoreError> {
        let (commands, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("otel-parity-store-writer".into())
            .spawn(move || run(connection, &readers, queue))
            .map_err(|e| StoreError::Backend(format!("cannot start the store writer: {e}")))?;
        Ok(SqliteWriter { commands })
    }

    /// Stores one push; answered after its transaction committed.
    pub(super) async fn insert(&self, push: ValidPush) -> Result<Stored, StoreError> {
        self.ask(|reply| Command::Insert(push, reply)).await
    }

    /// Writes a roll-up pass in one transaction.
    pub(super) async fn commit_rollup(&self, pass: RollupPass) -> Result<(), StoreError> {
        self.ask(|reply| Command::CommitRollup(pass, reply)).await
    }

    /// Deletes what retention no longer needs.
    pub(super) async fn apply_retention(
        &self,
        cutoffs: RetentionCutoffs,
    ) -> Result<Retired, StoreError> {
        self.ask(|reply| Command::Retain(cutoffs, reply)).await
    }

    /// Whether the database takes a write transaction now.
    pub(super) async fn check(&self) -> Result<(), StoreError> {
        self.ask(Command::Check).await
    }

    /// Closes the database (SQLite checkpoints the WAL into the file and
    /// removes the -wal and -shm files when the last connection closes) and
    /// stops the thread; later calls fail.
    pub(super) async fn close(&self) -> Result<(), StoreError> {
        self.ask(Command::Close).await
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Command,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .map_err(|_| StoreError::Backend("the store writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the store writer stopped before answering".into()))?
    }
}

fn run(connection: Connection, readers: &SqliteReaders, queue: mpsc::Receiver<Command>) {
    let mut connection = Some(connection);
    let mut inserts: Vec<(ValidPush, oneshot::Sender<Result<Stored, StoreError>>)> = Vec::new();
    let mut others = Vec::new();
    // The last write's failure, until a write succeeds: readiness reports it.
    let mut failing: Option<StoreError> = None;
    while let Ok(first) = queue.recv() {
        if failing.is_some() {
            connection = reconnect(connection, readers);
        }
        let mut next = Some(first);
        // Everything already queued goes into this round.
        while let Some(command) = next {
            match command {
                Command::Insert(push, reply) => inserts.push((push, reply)),
                other => others.push(other),
            }
            next = if inserts.len() < MAX_GROUP {
                queue.try_recv().ok()
            } else {
                None
            };
        }
        if !inserts.is_empty() {
            let (pushes, replies): (Vec<_>, Vec<_>) = inserts.drain(..).unzip();
            match open(&mut connection).and_then(|c| sqlite::insert_batch(c, &pushes)) {
                Ok(results) => {
                    failing = None;
                    for (reply, result) in replies.into_iter().zip(results) {
                        let _ = reply.send(Ok(result));
                    }
                }
                Err(error) => {
                    tracing::error!(%error, pushes = pushes.len(), "pushes not stored");
                    failing = Some(error.clone());
                    for reply in replies {
                        let _ = reply.send(Err(error.clone()));
                    }
                }
            }
        }
        for command in others.drain(..) {
            match command {
                Command::CommitRollup(pass, reply) => {
                    let result =
                        open(&mut connection).and_then(|c| sqlite::commit_rollup(c, &pass));
                    failing = result.as_ref().err().cloned();
                    let _ = reply.send(result);
                }
                Command::Retain(cutoffs, reply) => {
                    let result =
                        open(&mut connection).and_then(|c| sqlite::apply_retention(c, &cutoffs));
                    if let Err(error) = &result {
                        failing = Some(error.clone());
                    }
                    let _ = reply.send(result);
                }
                Command::Check(reply) => {
                    // After a failed write, only a write that commits says
                    // the store is back (whatever stops writes, even when
                    // nothing else is written meanwhile).
                    let result = open(&mut connection)
                        .and_then(|c| sqlite::check_writable(c, failing.is_some()));
                    failing = result.as_ref().err().cloned();
                    let _ = reply.send(result);
                }
                Command::Close(reply) => {
                    drop(connection.take());
                    readers.close_idle();
                    let _ = reply.send(Ok(()));
                    return;
                }
                Command::Insert(..) => unreachable!("inserts are grouped above"),
            }
        }
    }
}

/// A new connection in place of `old`, which is closed first, with the
/// readers' idle ones: only when none is left open does SQLite look at the
/// file afresh (a file it opened read-only stays so for the process while
/// any connection to it is open). `None` when the file cannot be opened
/// now; the next failed write tries again.
fn reconnect(old: Option<Connection>, readers: &SqliteReaders) -> Option<Connection> {
    drop(old);
    readers.close_idle();
    sqlite::connect(readers.path())
        .inspect_err(|error| tracing::warn!(%error, "store writer cannot reopen the database"))
        .ok()
}

/// The writer's connection, or why there is none.
fn open(connection: &mut Option<Connection>) -> Result<&mut Connection, StoreError> {
    connection
        .as_mut()
        .ok_or_else(|| StoreError::Backend("the database could not be reopened".into()))
}
