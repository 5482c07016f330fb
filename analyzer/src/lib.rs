//! otel-parity's analyzer: turns fingerprints (`parity.v1`) into verdicts.
//! It never imports the receiver: the proto crate is the only contract.

pub mod accepted;
pub mod compare;
pub mod lint;
pub mod merge;
pub mod report;
pub mod store;
