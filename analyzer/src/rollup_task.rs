//! The background roll-up: merges pending pushes into rollups as they
//! arrive. It lingers a little after a pass that emptied the queue, so that
//! under steady load each pass takes many pushes at once (a rollup row is
//! decoded and encoded once per pass, not once per push). With nothing
//! pending it sleeps until a push arrives here, looking now and then for
//! pushes another replica stored and left (PostgreSQL).

use std::sync::Arc;
use std::time::Duration;

use crate::exposition::AnalyzerMetrics;
use crate::store::Store;

/// How long to wait for more pushes after a pass that took all there were.
const LINGER: Duration = Duration::from_millis(250);
/// How long an idle roll-up waits before it looks for pending pushes it was
/// not told of (stored by another replica that stopped before rolling them
/// up; reports read pending pushes meanwhile, so this is only about cost).
const IDLE_POLL: Duration = Duration::from_secs(10);
/// How long to wait after a failed pass (the store is unavailable).
const AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Rolls up until the task is aborted.
pub async fn run(store: Arc<Store>, metrics: Arc<AnalyzerMetrics>) {
    loop {
        match store.roll_up().await {
            Ok(outcome) => {
                metrics.count_unreadable_pushes(outcome.unreadable);
                let idle = outcome.rolled_up + outcome.unreadable == 0;
                if idle || !outcome.batch_full {
                    if let Ok(pending) = store.pending_pushes().await {
                        metrics.set_pending_pushes(pending);
                    }
                    store
                        .wait_for_pushes(if idle { IDLE_POLL } else { LINGER * 4 })
                        .await;
                    tokio::time::sleep(LINGER).await;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "roll-up failed; retrying");
                tokio::time::sleep(AFTER_FAILURE).await;
            }
        }
    }
}
