//! End to end: durability of the analyzer's store (DESIGN.md, "Storage and scale"). Real
//! `otel-parity analyze` and `otel-parity receive` processes on real sockets; the analyzer is
//! killed with SIGKILL while pushes are in flight and started again on the same data directory
//! and ports. Every push it acknowledged must be in the store afterwards, and what the receivers
//! acknowledged to their OTLP clients must be counted exactly once: nothing lost (unacknowledged
//! pushes are retried), nothing doubled (retries are idempotent).
//!
//! One module per role: the OTLP senders of the test kit's shop traffic (`sender`), reading the
//! analyzer's `/metrics` (`exposition`; the analyzer process is the test kit's
//! `AnalyzerProcess`), reading the store back (`stored`), and the tests
//! (`receivers_catch_up` with receivers, `mid_write` with a pushing client of the test's own).

mod exposition;
mod mid_write;
mod receivers_catch_up;
mod replicas;
mod sender;
mod store_faults;
mod stored;

use std::time::Duration;

use otel_parity_testkit::e2e::poll_until;

/// Polls `done` every 50 ms until it holds; false if it did not within `timeout`.
fn wait_until(timeout: Duration, done: impl FnMut() -> bool) -> bool {
    poll_until(timeout, Duration::from_millis(50), done)
}
