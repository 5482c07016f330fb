//! End to end: TLS, mTLS and bearer tokens on every listener and on the push client (issue 10),
//! with real handshakes and certificates made in the tests. The Python OpenTelemetry SDK exports
//! to the receiver over TLS (gRPC and HTTP) with a token; a receiver pushes to an analyzer over
//! mTLS with a token; a real Prometheus scrapes `/metrics` with a token; and every refusal is
//! the protocol's own and stores nothing: no token, a wrong one, a token of the wrong set, a
//! token in the wrong header, plaintext to a TLS port, TLS to a plaintext port, an untrusted or
//! expired server certificate, a client certificate from another CA. Certificates and tokens
//! rotate while the servers serve.
//!
//! One module per role: the test's certificates and tokens (`pki`), the receiver's OTLP
//! listeners with the Python SDK (`otlp`), pushes (`push`), the analyzer's HTTP API (`api`)
//! Prometheus (`scrape`) and `serve` with the same flags (`serve`).

mod api;
mod otlp;
mod pki;
mod push;
mod scrape;
mod serve;
