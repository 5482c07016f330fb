//! Test support shared by unit tests, end-to-end tests, benches and the demo, as one crate
//! (no `#[path]` includes): OTLP builders (`otlp`), the shop scenario (`shop`), fingerprint
//! builders for unit tests (`fingerprint`, feature `testing`), test certificates (`tls`,
//! feature `tls`), the end-to-end helpers (`e2e` and the raw clients in `raw`, feature `e2e`),
//! and the benches' interleaved timing (`timing`, feature `bench`).
//!
//! The demo is a product feature, so the binary depends on this crate for the shop's traffic;
//! everything else is behind features that only `[dev-dependencies]` enable.

#![warn(missing_docs)]

#[cfg(feature = "e2e")]
pub mod e2e;
#[cfg(feature = "testing")]
pub mod fingerprint;
#[cfg(feature = "fleet")]
pub mod fleet;
#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "e2e")]
pub mod raw;
#[cfg(feature = "shop")]
pub mod shop;
#[cfg(feature = "bench")]
pub mod timing;
#[cfg(feature = "tls")]
pub mod tls;
