//! End-to-end tests of the analyzer through the real binary: the demo's
//! report, `/metrics` checked by a real `promtool`, and bad input on the HTTP
//! API and the push port.

#[path = "../support/mod.rs"]
mod support;

// Shared clients: this crate uses only part of them.
#[allow(dead_code)]
#[path = "../e2e_bad_input/grpc.rs"]
mod grpc;
#[allow(dead_code)]
#[path = "../e2e_bad_input/http.rs"]
mod http;

mod api;
mod demo;
mod push;
mod server;
