//! otel-parity's comparison: a candidate environment's fingerprint (e.g.
//! staging) against a baseline's (e.g. prod), dimension by dimension, into
//! findings and scores (`report`; `render` writes them for people), with
//! accepted differences applied (`accepted`). Pure functions of two
//! `parity.v1` fingerprints: no I/O but reading an accepted-differences file.

pub mod accepted;
pub mod date;
mod dimensions;
mod render;
pub mod report;

pub use accepted::{AcceptedDifference, AcceptedError};
pub use date::Date;
pub use dimensions::{CompareOptions, compare};
pub use report::{Dimension, ParityFinding, Report, Severity, Status};
