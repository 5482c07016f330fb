//! Doubles in the proto3 JSON mapping: a number, or "NaN", "Infinity" and
//! "-Infinity", which JSON numbers cannot say. The generated serde impls write
//! every double field through these (see `build.rs`); pbjson already reads them.

use serde::{Serialize, Serializer};

/// One double field, serialized as the proto3 JSON mapping says.
pub(crate) struct Double(pub f64);

impl Serialize for Double {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = self.0;
        if value.is_nan() {
            serializer.serialize_str("NaN")
        } else if value == f64::INFINITY {
            serializer.serialize_str("Infinity")
        } else if value == f64::NEG_INFINITY {
            serializer.serialize_str("-Infinity")
        } else {
            serializer.serialize_f64(value)
        }
    }
}

/// A repeated double field, each element as `Double`.
pub(crate) struct Doubles<'a>(pub &'a [f64]);

impl Serialize for Doubles<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|value| Double(*value)))
    }
}
