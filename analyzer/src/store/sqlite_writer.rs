//! The SQLite store's writer thread: the one connection that writes. Pushes
//! that arrive while a transaction commits wait and go into the next one
//! together (group commit), so the cost of an fsync is shared; each push is
//! answered after the commit that made it durable.

use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::rollup::RollupPass;
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
        })
    }
}

impl SqliteWriter {
    /// Starts the writer thread on `connection`.
    pub(super) fn start(connection: Connection) -> Result<SqliteWriter, StoreError> {
        let (commands, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("otel-parity-store-writer".into())
            .spawn(move || run(connection, queue))
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

fn run(mut connection: Connection, queue: mpsc::Receiver<Command>) {
    let mut inserts: Vec<(ValidPush, oneshot::Sender<Result<Stored, StoreError>>)> = Vec::new();
    let mut others = Vec::new();
    // The last write's failure, until a write succeeds: readiness reports it.
    let mut failing: Option<StoreError> = None;
    while let Ok(first) = queue.recv() {
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
            match sqlite::insert_batch(&mut connection, &pushes) {
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
                    let result = sqlite::commit_rollup(&mut connection, &pass);
                    failing = result.as_ref().err().cloned();
                    let _ = reply.send(result);
                }
                Command::Retain(cutoffs, reply) => {
                    let _ = reply.send(sqlite::apply_retention(&mut connection, &cutoffs));
                }
                Command::Check(reply) => {
                    let result = sqlite::check_writable(&mut connection)
                        .and_then(|()| failing.clone().map_or(Ok(()), Err));
                    let _ = reply.send(result);
                }
                Command::Insert(..) => unreachable!("inserts are grouped above"),
            }
        }
    }
}
