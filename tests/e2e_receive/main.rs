//! End to end: the OpenTelemetry Python SDK (tests/apps/shop.py: frontend → checkout →
//! payment) exports over real OTLP/gRPC and OTLP/HTTP to a real `otel-parity receive`
//! process, and the snapshot it writes on SIGTERM must be the fingerprint that the shop's
//! traffic implies, down to the counts.
//!
//! One module per role: what the shop sends (`shop`), one run of it against a receiver and
//! what must hold of every run (`run`), the tests (`fingerprint` over gRPC and HTTP,
//! `environment` for `--environment`), and the expected fingerprint by part: `resource`,
//! `traces` (with `operations` to read span operations and edges), `metrics`, `logs`,
//! `sampling` and `ingestion`.

mod environment;
mod fingerprint;
mod ingestion;
mod logs;
mod metrics;
mod operations;
mod resource;
mod run;
mod sampling;
mod shop;
mod traces;
