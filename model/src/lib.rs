//! What an otel-parity fingerprint means, shared by everyone who makes or
//! reads one: the sketches and their parameters (`sketch`), the caps that
//! bound a fingerprint (`limits`), whether one could have come from a
//! correct receiver (`check`), how fingerprints of many replicas and windows
//! combine (`merge`, `accumulate`), and snapshot files (`snapshot`). The wire
//! form is `otel_parity_proto::v1`.

pub mod accumulate;
pub mod check;
pub mod limits;
pub mod merge;
pub mod sketch;
pub mod snapshot;
