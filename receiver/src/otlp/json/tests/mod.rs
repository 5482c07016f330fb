//! Tests of the OTLP/JSON transcoder, one file per signal plus whole requests, on data shaped
//! like the OpenTelemetry demo's services; `fixtures` holds the requests they share.

mod fixtures;
mod logs;
mod metrics;
mod requests;
mod traces;
