//! End to end: the parity report of two environments built from real processes. One
//! `otel-parity analyze`, a `otel-parity receive` per environment (prod, staging) pushing its
//! windows to it, and tests/apps/parity_shop.py — six services on the real Python
//! OpenTelemetry SDK, prod over OTLP/gRPC, staging over OTLP/HTTP — feeding the receivers.
//! The report is read back as a tool would: `otel-parity report --format json` and the HTTP
//! API's JSON.
//!
//! One module per role: the deployment (the test kit's `AnalyzerProcess` and a `ReceiverProcess`
//! per environment) and the shop runs (`deployment`), reading the report JSON (`report`), and the
//! tests: every planted difference and nothing else (`planted`, issue 3 #1), the ingestion ratio
//! under sampling (`ingestion`, issue 3 #2), comparison precision (`precision`, issue 13: a
//! missing counter, one sampler one finding, edges across windows) and differences of scale
//! alone (`scale_only`, issue 13).

mod deployment;
mod ingestion;
mod planted;
mod precision;
mod report;
mod scale_only;
