//! OTLP export responses (with `partial_success`) and error bodies
//! (`google.rpc.Status`), in protobuf and in OTLP/JSON.

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;

use crate::{IngestOutcome, Signal};

/// The protobuf ExportXServiceResponse for an accepted request: empty when
/// every item was accepted, with `partial_success` when some were rejected.
pub fn export_response(signal: Signal, outcome: &IngestOutcome) -> Vec<u8> {
    let rejected = i64::try_from(outcome.rejected).unwrap_or(i64::MAX);
    let error_message = outcome.rejection.clone().unwrap_or_default();
    if rejected == 0 {
        return Vec::new();
    }
    match signal {
        Signal::Traces => ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message,
            }),
        }
        .encode_to_vec(),
        Signal::Metrics => ExportMetricsServiceResponse {
            partial_success: Some(ExportMetricsPartialSuccess {
                rejected_data_points: rejected,
                error_message,
            }),
        }
        .encode_to_vec(),
        Signal::Logs => ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: rejected,
                error_message,
            }),
        }
        .encode_to_vec(),
    }
}

/// The same response in OTLP/JSON (int64 as a string, lowerCamelCase).
pub fn export_response_json(signal: Signal, outcome: &IngestOutcome) -> Vec<u8> {
    if outcome.rejected == 0 {
        return b"{}".to_vec();
    }
    let field = match signal {
        Signal::Traces => "rejectedSpans",
        Signal::Metrics => "rejectedDataPoints",
        Signal::Logs => "rejectedLogRecords",
    };
    let body = serde_json::json!({
        "partialSuccess": {
            field: outcome.rejected.to_string(),
            "errorMessage": outcome.rejection.clone().unwrap_or_default(),
        }
    });
    body.to_string().into_bytes()
}

/// `google.rpc.Status`, the body of OTLP/HTTP error responses.
#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    /// A gRPC status code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

impl RpcStatus {
    /// The status in OTLP/JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::json!({ "code": self.code, "message": self.message })
            .to_string()
            .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_success_names_rejected_items_and_the_reason() {
        let mut outcome = IngestOutcome {
            accepted: 5,
            ..Default::default()
        };
        assert!(export_response(Signal::Traces, &outcome).is_empty());
        outcome.reject("bad span id");
        outcome.reject("other");
        let decoded =
            ExportTraceServiceResponse::decode(&*export_response(Signal::Traces, &outcome))
                .unwrap();
        let partial = decoded.partial_success.unwrap();
        assert_eq!(partial.rejected_spans, 2);
        assert_eq!(partial.error_message, "bad span id");
        let json: serde_json::Value =
            serde_json::from_slice(&export_response_json(Signal::Logs, &outcome)).unwrap();
        assert_eq!(json["partialSuccess"]["rejectedLogRecords"], "2");
    }
}
