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
use std::time::Duration;

use prost::Message;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};

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

/// `google.rpc.Status`, the body of OTLP/HTTP error responses (and of gRPC's
/// `grpc-status-details-bin`).
#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    /// A gRPC status code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
    /// Error details: a `google.rpc.RetryInfo` on retryable refusals.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, Message)]
pub struct ProtoAny {
    /// `type.googleapis.com/<message name>`.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The message's bytes.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.RetryInfo`: how long a client should wait before retrying.
#[derive(Clone, PartialEq, Message)]
pub struct RetryInfo {
    /// The delay.
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, Message)]
pub struct ProtoDuration {
    /// Whole seconds.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds beyond them.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// The type URL of `google.rpc.RetryInfo` in an `Any`.
pub const RETRY_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RetryInfo";

impl RetryInfo {
    /// Retry after `delay`.
    pub fn after(delay: Duration) -> Self {
        RetryInfo {
            retry_delay: Some(ProtoDuration {
                seconds: i64::try_from(delay.as_secs()).unwrap_or(i64::MAX),
                nanos: delay.subsec_nanos() as i32,
            }),
        }
    }
}

impl RpcStatus {
    /// A status without details.
    pub fn new(code: Code, message: String) -> Self {
        RpcStatus {
            code: code as i32,
            message,
            details: Vec::new(),
        }
    }

    /// UNAVAILABLE with a `RetryInfo` asking to wait `delay`: OTLP's
    /// retryable refusal of a receiver under more load than it takes.
    pub fn unavailable(message: String, delay: Duration) -> Self {
        RpcStatus {
            code: Code::Unavailable as i32,
            message,
            details: vec![ProtoAny {
                type_url: RETRY_INFO_TYPE.into(),
                value: RetryInfo::after(delay).encode_to_vec(),
            }],
        }
    }

    /// The status in OTLP/JSON (a `RetryInfo` with its delay as `"1.5s"`).
    pub fn to_json(&self) -> Vec<u8> {
        let details: Vec<serde_json::Value> = self
            .details
            .iter()
            .filter(|any| any.type_url == RETRY_INFO_TYPE)
            .filter_map(|any| RetryInfo::decode(&*any.value).ok())
            .map(|info| {
                let delay = info.retry_delay.unwrap_or_default();
                let seconds = delay.seconds as f64 + f64::from(delay.nanos) / 1e9;
                serde_json::json!({ "@type": RETRY_INFO_TYPE, "retryDelay": format!("{seconds}s") })
            })
            .collect();
        let mut body = serde_json::json!({ "code": self.code, "message": self.message });
        if !details.is_empty() {
            body["details"] = serde_json::Value::Array(details);
        }
        body.to_string().into_bytes()
    }

    /// The gRPC status: the details in `grpc-status-details-bin` (read by
    /// Go's and Java's gRPC, the Collector's exporters among them) and each
    /// `RetryInfo` also in `google.rpc.retryinfo-bin` trailing metadata
    /// (read by the OpenTelemetry Python exporter).
    pub fn to_grpc(&self) -> Status {
        let mut metadata = MetadataMap::new();
        for any in &self.details {
            if any.type_url == RETRY_INFO_TYPE {
                metadata.insert_bin(
                    "google.rpc.retryinfo-bin",
                    MetadataValue::from_bytes(&any.value),
                );
            }
        }
        Status::with_details_and_metadata(
            Code::from_i32(self.code),
            self.message.clone(),
            self.encode_to_vec().into(),
            metadata,
        )
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

    #[test]
    fn a_retryable_refusal_carries_its_delay_in_every_form_clients_read() {
        let status = RpcStatus::unavailable("busy".into(), Duration::from_millis(1500));
        let json: serde_json::Value = serde_json::from_slice(&status.to_json()).unwrap();
        assert_eq!(json["code"], 14);
        assert_eq!(json["details"][0]["retryDelay"], "1.5s");
        let grpc = status.to_grpc();
        assert_eq!(grpc.code(), Code::Unavailable);
        let details = RpcStatus::decode(grpc.details()).unwrap();
        assert_eq!(details.details[0].type_url, RETRY_INFO_TYPE);
        let delay = RetryInfo::decode(&*details.details[0].value)
            .unwrap()
            .retry_delay
            .unwrap();
        assert_eq!((delay.seconds, delay.nanos), (1, 500_000_000));
        let from_metadata = grpc
            .metadata()
            .get_bin("google.rpc.retryinfo-bin")
            .unwrap()
            .to_bytes()
            .unwrap();
        assert_eq!(
            RetryInfo::decode(from_metadata).unwrap(),
            RetryInfo::after(Duration::from_millis(1500))
        );
        let headers = grpc.into_http::<tonic::body::Body>();
        assert!(headers.headers().contains_key("grpc-status-details-bin"));
        assert!(headers.headers().contains_key("google.rpc.retryinfo-bin"));
    }
}
