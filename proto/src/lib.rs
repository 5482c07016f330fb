//! The contract between otel-parity's receiver and analyzer: the fingerprint
//! messages and the `parity.v1.ParityService` push service, generated from
//! `parity/v1/*.proto`. Serde impls follow the proto3 JSON mapping, which is
//! the snapshot file format.

/// `parity.v1`: fingerprint messages and the push service.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/parity.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/parity.v1.serde.rs"));
}
