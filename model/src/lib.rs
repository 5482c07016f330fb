//! What an otel-parity fingerprint means, shared by everyone who makes or
//! reads one: the sketches and their parameters (`sketch`), how fingerprints
//! of many replicas and windows combine (`merge`), snapshot files
//! (`snapshot`), and the semantic conventions' renames that the lint and the
//! comparison share (`semconv`). The wire form is `otel_parity_proto::v1`.

pub mod accumulate;
pub mod merge;
pub mod semconv;
pub mod sketch;
pub mod snapshot;
pub mod span_kind;
