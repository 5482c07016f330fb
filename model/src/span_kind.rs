//! Span kinds as people write them ("server", "client", …), for reports,
//! lint findings and baselines alike.

use otel_parity_proto::v1 as pb;

/// The lower-case name of a span kind as the proto encodes it; an unknown
/// value reads "unspecified".
pub fn name(kind: i32) -> &'static str {
    match pb::SpanKind::try_from(kind) {
        Ok(pb::SpanKind::Internal) => "internal",
        Ok(pb::SpanKind::Server) => "server",
        Ok(pb::SpanKind::Client) => "client",
        Ok(pb::SpanKind::Producer) => "producer",
        Ok(pb::SpanKind::Consumer) => "consumer",
        Ok(pb::SpanKind::Unspecified) | Err(_) => "unspecified",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_name_and_unknown_values_read_unspecified() {
        let names: Vec<&str> = (0..=6).map(name).collect();
        assert_eq!(
            names,
            [
                "unspecified",
                "internal",
                "server",
                "client",
                "producer",
                "consumer",
                "unspecified"
            ]
        );
        assert_eq!(name(-1), "unspecified");
    }
}
