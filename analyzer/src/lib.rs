//! otel-parity's analyzer: takes fingerprint pushes from receivers
//! (`push_service`), keeps them (`store`), compares environments on a schedule
//! (`evaluate`, `history`) and serves the results (`exposition` for
//! Prometheus, `web` for the JSON API and the UI) on listeners with TLS and
//! tokens as configured (`security`). It never imports the
//! receiver: the proto crate is the only contract.

pub mod config;
pub mod error;
pub mod evaluate;
pub mod exposition;
pub mod history;
pub mod push_service;
pub mod rollup_task;
pub mod security;
pub mod server;
pub mod store;
pub mod web;

pub use error::Error;
