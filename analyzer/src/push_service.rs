//! The push service (`parity.v1.ParityService` on :4319): receivers'
//! fingerprints in, stored durably before they are acknowledged.

use std::sync::Arc;

use otel_parity_proto::v1 as pb;
use otel_parity_proto::v1::parity_service_server::ParityService;
use prost::Message;
use tonic::{Request, Response, Status};

use crate::exposition::AnalyzerMetrics;
use crate::store::{Inserted, Store, StoreError};
use crate::unix_nanos_now;

/// Stores each push, then acknowledges it; a retried push is acknowledged as
/// a duplicate without being stored twice.
pub struct PushService {
    store: Arc<Store>,
    metrics: Arc<AnalyzerMetrics>,
}

impl PushService {
    /// A service writing to `store`.
    pub fn new(store: Arc<Store>, metrics: Arc<AnalyzerMetrics>) -> Self {
        PushService { store, metrics }
    }
}

#[tonic::async_trait]
impl ParityService for PushService {
    async fn push(
        &self,
        request: Request<pb::PushRequest>,
    ) -> Result<Response<pb::PushResponse>, Status> {
        let push = request.into_inner();
        let bytes = push.encoded_len();
        let store = Arc::clone(&self.store);
        let stored =
            tokio::task::spawn_blocking(move || store.insert_push(&push, unix_nanos_now())).await;
        let (result, response) = match stored {
            Ok(Ok(Inserted::New)) => ("stored", Ok(pb::PushResponse { duplicate: false })),
            Ok(Ok(Inserted::Duplicate)) => ("duplicate", Ok(pb::PushResponse { duplicate: true })),
            Ok(Err(StoreError::InvalidPush(reason))) => {
                ("invalid", Err(Status::invalid_argument(reason)))
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "push not stored");
                // Retryable: the receiver keeps the push and tries again.
                (
                    "error",
                    Err(Status::unavailable(format!("store unavailable: {error}"))),
                )
            }
            Err(error) => (
                "error",
                Err(Status::unavailable(format!("store task failed: {error}"))),
            ),
        };
        self.metrics.record_push(result, bytes);
        if result == "stored" {
            self.metrics.add_stored_pushes(1);
        }
        response.map(Response::new)
    }
}

/// The push service as served, with OTLP's status conventions: tonic reports
/// an undecodable message as INTERNAL (gRPC's convention) and an oversized one
/// as OUT_OF_RANGE; here they are INVALID_ARGUMENT (which also tells a
/// receiver not to retry) and RESOURCE_EXHAUSTED. The handler itself never
/// returns either code.
#[derive(Clone)]
pub struct PushServer<S> {
    inner: S,
}

impl<S> PushServer<S> {
    /// Wraps the generated `ParityServiceServer`.
    pub fn new(inner: S) -> Self {
        PushServer { inner }
    }
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for PushServer<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tower::Service<http::Request<B>> for PushServer<S>
where
    S: tower::Service<
            http::Request<B>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        >,
    S::Future: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = tonic::codegen::BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let response = self.inner.call(request);
        Box::pin(async move {
            let mut response = response.await?;
            let replacement = match Status::from_header_map(response.headers()) {
                Some(status) if status.code() == tonic::Code::Internal => Some(
                    Status::invalid_argument(format!("malformed push: {}", status.message())),
                ),
                Some(status) if status.code() == tonic::Code::OutOfRange => {
                    Some(Status::resource_exhausted(status.message().to_owned()))
                }
                _ => None,
            };
            if let Some(replacement) = replacement {
                let headers = response.headers_mut();
                headers.remove(Status::GRPC_STATUS);
                headers.remove(Status::GRPC_MESSAGE);
                let code = replacement.code();
                if replacement.add_header(headers).is_err() {
                    return Ok(Status::new(code, "push refused").into_http());
                }
            }
            Ok(response)
        })
    }
}
