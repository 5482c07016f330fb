//! Sending a batch of the shop's telemetry to an OTLP/gRPC endpoint, as its SDKs would.

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use tonic::transport::Channel;

use super::Batch;

/// Sends `batch` to an OTLP/gRPC endpoint such as `http://127.0.0.1:4317`: traces, then
/// metrics, then logs, stopping at the first request refused.
pub async fn send(endpoint: &str, batch: Batch) -> Result<(), tonic::Status> {
    let channel = Channel::from_shared(endpoint.to_owned())
        .map_err(|e| tonic::Status::invalid_argument(e.to_string()))?
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut traces = TraceServiceClient::new(channel.clone());
    let mut metrics = MetricsServiceClient::new(channel.clone());
    let mut logs = LogsServiceClient::new(channel);
    for request in batch.traces {
        traces.export(request).await?;
    }
    for request in batch.metrics {
        metrics.export(request).await?;
    }
    for request in batch.logs {
        logs.export(request).await?;
    }
    Ok(())
}
