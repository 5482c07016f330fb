//! End to end: durability of the analyzer's store (DESIGN.md, "Storage and scale"). Real
//! `otel-parity analyze` and `otel-parity receive` processes on real sockets; the analyzer is
//! killed with SIGKILL while pushes are in flight and started again on the same data directory
//! and ports. Every push it acknowledged must be in the store afterwards, and what the receivers
//! acknowledged to their OTLP clients must be counted exactly once: nothing lost (unacknowledged
//! pushes are retried), nothing doubled (retries are idempotent).
//!
//! One module per role: the OTLP traffic and its tally (`traffic`), the OTLP senders (`sender`),
//! reading the analyzer's `/metrics` (`exposition`; the analyzer process is
//! `support::AnalyzerProcess`), reading the store back (`stored`), and the tests
//! (`receivers_catch_up` with receivers, `mid_write` with a pushing client of the test's own).

#[path = "../support/mod.rs"]
mod support;

mod exposition;
mod mid_write;
mod receivers_catch_up;
mod sender;
mod stored;
mod traffic;

use std::thread;
use std::time::{Duration, Instant};

/// Polls `done` every 50 ms until it holds; false if it did not within `timeout`.
fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}
