//! The three OTLP signals: their gRPC services, HTTP paths and snapshot keys.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

/// An OTLP signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    Traces,
    Metrics,
    Logs,
}

impl Sig {
    /// Every signal, in the order of [`Sig::index`].
    pub const ALL: [Sig; 3] = [Sig::Traces, Sig::Metrics, Sig::Logs];

    /// The key under the snapshot's `received` map.
    pub fn key(self) -> &'static str {
        match self {
            Sig::Traces => "traces",
            Sig::Metrics => "metrics",
            Sig::Logs => "logs",
        }
    }

    /// Position in per-signal arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The gRPC service that exports the signal.
    pub fn grpc_service(self) -> &'static str {
        match self {
            Sig::Traces => "opentelemetry.proto.collector.trace.v1.TraceService",
            Sig::Metrics => "opentelemetry.proto.collector.metrics.v1.MetricsService",
            Sig::Logs => "opentelemetry.proto.collector.logs.v1.LogsService",
        }
    }

    /// The gRPC path of the service's `Export` method.
    pub fn grpc_export_path(self) -> String {
        format!("/{}/Export", self.grpc_service())
    }

    /// The OTLP/HTTP path.
    pub fn http_path(self) -> &'static str {
        match self {
            Sig::Traces => "/v1/traces",
            Sig::Metrics => "/v1/metrics",
            Sig::Logs => "/v1/logs",
        }
    }

    /// Items rejected according to an export response body (protobuf), with the message.
    pub fn decode_rejected(self, body: &[u8]) -> Result<(i64, String), prost::DecodeError> {
        Ok(match self {
            Sig::Traces => ExportTraceServiceResponse::decode(body)?
                .partial_success
                .map_or((0, String::new()), |p| (p.rejected_spans, p.error_message)),
            Sig::Metrics => ExportMetricsServiceResponse::decode(body)?
                .partial_success
                .map_or((0, String::new()), |p| {
                    (p.rejected_data_points, p.error_message)
                }),
            Sig::Logs => ExportLogsServiceResponse::decode(body)?
                .partial_success
                .map_or((0, String::new()), |p| {
                    (p.rejected_log_records, p.error_message)
                }),
        })
    }
}
