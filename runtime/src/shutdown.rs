//! Orderly stops: one trigger, any number of waiters (listeners, snapshot
//! writers, the pusher), each finishing its work when the trigger fires.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use tokio::sync::watch;

/// Fires a shutdown; dropping it fires too, so that waiters never outlive
/// the task that could stop them.
#[derive(Debug)]
pub struct ShutdownTrigger {
    fired: watch::Sender<bool>,
}

/// Waits for a [`ShutdownTrigger`]; clone it for every task that must stop.
#[derive(Debug, Clone)]
pub struct Shutdown {
    fired: watch::Receiver<bool>,
}

impl ShutdownTrigger {
    /// A trigger that has not fired.
    pub fn new() -> Self {
        ShutdownTrigger {
            fired: watch::Sender::new(false),
        }
    }

    /// A waiter; one taken after the trigger fired is stopped already.
    pub fn token(&self) -> Shutdown {
        Shutdown {
            fired: self.fired.subscribe(),
        }
    }

    /// Stops every waiter, present and future.
    pub fn trigger(&self) {
        self.fired.send_replace(true);
    }
}

impl Default for ShutdownTrigger {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// Completes once the trigger has fired (or was dropped).
    pub async fn stopped(&self) {
        let mut fired = self.fired.clone();
        let _ = fired.wait_for(|fired| *fired).await;
    }

    /// Whether the trigger has fired (or was dropped).
    pub fn is_stopped(&self) -> bool {
        *self.fired.borrow() || self.fired.has_changed().is_err()
    }
}

/// `shutdown.await`, and `shutdown.into_future()` for servers that take a
/// shutdown future (`serve_with_incoming_shutdown`, `with_graceful_shutdown`).
impl IntoFuture for Shutdown {
    type Output = ();
    type IntoFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.stopped().await })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Whether `future` completes within a short time.
    async fn completes(future: impl Future<Output = ()>) -> bool {
        tokio::time::timeout(Duration::from_millis(200), future)
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_trigger_wakes_every_waiter() {
        let trigger = ShutdownTrigger::new();
        let first = trigger.token();
        let second = first.clone();
        let waiting = [
            tokio::spawn(async move { first.stopped().await }),
            tokio::spawn(async move { second.stopped().await }),
        ];
        tokio::task::yield_now().await;
        assert!(!waiting.iter().any(|task| task.is_finished()));
        trigger.trigger();
        for task in waiting {
            assert!(completes(async { task.await.unwrap() }).await);
        }
    }

    #[tokio::test]
    async fn waiters_taken_after_the_trigger_are_stopped_already() {
        let trigger = ShutdownTrigger::new();
        trigger.trigger();
        let late = trigger.token();
        assert!(late.is_stopped());
        assert!(completes(late.stopped()).await);
        assert!(completes(late.into_future()).await);
    }

    #[tokio::test]
    async fn nothing_stops_before_the_trigger_and_dropping_it_stops_all() {
        let trigger = ShutdownTrigger::new();
        let token = trigger.token();
        assert!(!token.is_stopped());
        assert!(!completes(token.stopped()).await);
        drop(trigger);
        assert!(token.is_stopped());
        assert!(completes(token.stopped()).await);
    }
}
