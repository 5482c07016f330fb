//! The plumbing every otel-parity server and command shares: configuration
//! loading, listeners, shutdown, OTLP status conventions, file writes and
//! time. Nothing here knows what a fingerprint is.

pub mod yaml;
