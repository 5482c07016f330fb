//! End-to-end tests of the analyzer through the real binary: the demo's
//! report, `/metrics` checked by a real `promtool` and read as a dashboard
//! reads it, and bad input on the HTTP API and the push port.

mod api;
mod demo;
mod metrics;
mod push;
mod server;
