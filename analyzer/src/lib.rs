//! otel-parity's analyzer: takes fingerprint pushes from receivers
//! (`push_service`), keeps them (`store`), compares environments on a schedule
//! (`evaluate`, `history`) and serves the results (`exposition` for
//! Prometheus, `web` for the JSON API and the UI). It never imports the
//! receiver: the proto crate is the only contract.

pub mod config;
pub mod evaluate;
pub mod exposition;
pub mod history;
pub mod push_service;
pub mod server;
pub mod store;
pub mod web;

/// Now, in Unix epoch nanoseconds (0 if the clock is before 1970).
pub fn unix_nanos_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
