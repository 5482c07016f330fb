//! The push service (`parity.v1.ParityService` on :4319): receivers'
//! fingerprints in, stored durably before they are acknowledged. It is
//! served inside the runtime's `OtlpStatus`, so that an undecodable push is
//! INVALID_ARGUMENT (which tells a receiver not to retry) and an oversized
//! one RESOURCE_EXHAUSTED.

use std::sync::Arc;

use otel_parity_proto::v1 as pb;
use otel_parity_proto::v1::parity_service_server::ParityService;
use prost::Message;
use tonic::{Request, Response, Status};

use crate::exposition::AnalyzerMetrics;
use crate::store::{Inserted, Store, StoreError};
use otel_parity_runtime::time::unix_nanos_now;

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
        let (result, response) = match self.store.insert_owned_push(push, unix_nanos_now()).await {
            Ok(Inserted::New) => ("stored", Ok(pb::PushResponse { duplicate: false })),
            Ok(Inserted::Duplicate) => ("duplicate", Ok(pb::PushResponse { duplicate: true })),
            Err(StoreError::InvalidPush(reason)) => {
                ("invalid", Err(Status::invalid_argument(reason)))
            }
            Err(error) => {
                tracing::error!(%error, "push not stored");
                // Retryable: the receiver keeps the push and tries again.
                ("error", Err(Status::unavailable(error.to_string())))
            }
        };
        self.metrics.record_push(result, bytes);
        if result == "stored" {
            self.metrics.add_stored_pushes(1);
        }
        response.map(Response::new)
    }
}
