//! What an otel-parity fingerprint means, shared by everyone who makes or
//! reads one: the sketches and their parameters (`sketch`), the caps that
//! bound a fingerprint (`limits`), whether one could have come from a
//! correct receiver (`check`), how fingerprints of many replicas and windows
//! combine (`merge`, `accumulate`), snapshot files (`snapshot`), the semantic
//! conventions' renames that the lint and the comparison share (`semconv`),
//! and span kind names (`span_kind`). The wire form is
//! `otel_parity_proto::v1`.

pub mod accumulate;
pub mod check;
pub mod limits;
pub mod merge;
pub mod semconv;
pub mod sketch;
pub mod snapshot;
pub mod span_kind;
