//! OTLP's status conventions for gRPC services. tonic refuses a message it
//! cannot decode with INTERNAL (gRPC's convention) and one over the size
//! limit with OUT_OF_RANGE; OTLP wants INVALID_ARGUMENT (which also tells a
//! client not to retry) and RESOURCE_EXHAUSTED. Our handlers never return
//! either code themselves, so every such status came from tonic.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::server::NamedService;
use tonic::{Code, Status};

/// The gRPC answer to a request without an accepted bearer token:
/// UNAUTHENTICATED (a [`crate::auth::Refusal`]).
pub fn unauthenticated(
    outcome: crate::auth::AuthOutcome,
    _request: &http::HeaderMap,
) -> http::Response<tonic::body::Body> {
    Status::unauthenticated(outcome.message()).into_http()
}

/// A gRPC service whose transport-level refusals carry OTLP's codes.
#[derive(Debug, Clone)]
pub struct OtlpStatus<S> {
    inner: S,
    malformed_prefix: &'static str,
}

impl<S> OtlpStatus<S> {
    /// Wraps a service (tonic's generated server or a hand-written one).
    pub fn new(inner: S) -> Self {
        OtlpStatus {
            inner,
            malformed_prefix: "",
        }
    }

    /// Prefixes the message of an undecodable request (`"malformed push: "`)
    /// so that the client's log says what was refused.
    pub fn malformed_prefix(mut self, prefix: &'static str) -> Self {
        self.malformed_prefix = prefix;
        self
    }
}

impl<S: NamedService> NamedService for OtlpStatus<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, Request> tower::Service<Request> for OtlpStatus<S>
where
    S: tower::Service<Request, Response = http::Response<tonic::body::Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let response = self.inner.call(request);
        let prefix = self.malformed_prefix;
        Box::pin(async move { Ok(otlp_status(response.await?, prefix)) })
    }
}

/// `response` with tonic's INTERNAL and OUT_OF_RANGE rewritten to OTLP's
/// codes; any other response as it is.
fn otlp_status(
    mut response: http::Response<tonic::body::Body>,
    malformed_prefix: &str,
) -> http::Response<tonic::body::Body> {
    let replacement = match Status::from_header_map(response.headers()) {
        Some(status) if status.code() == Code::Internal => {
            Status::invalid_argument(format!("{malformed_prefix}{}", status.message()))
        }
        Some(status) if status.code() == Code::OutOfRange => {
            Status::resource_exhausted(status.message().to_owned())
        }
        _ => return response,
    };
    let code = replacement.code();
    let headers = response.headers_mut();
    headers.remove(Status::GRPC_STATUS);
    headers.remove(Status::GRPC_MESSAGE);
    if replacement.add_header(headers).is_err() {
        return Status::new(code, "request refused").into_http();
    }
    response
}

#[cfg(test)]
mod tests {
    use tower::{ServiceExt, service_fn};

    use super::*;

    /// The status a service wrapped in `OtlpStatus` answers when the inner
    /// service answers `inner`.
    async fn answered(inner: Status, prefix: &'static str) -> Status {
        let service = service_fn(move |_: ()| {
            let inner = inner.clone();
            async move { Ok::<_, Infallible>(inner.into_http()) }
        });
        let response = OtlpStatus::new(service)
            .malformed_prefix(prefix)
            .oneshot(())
            .await
            .unwrap();
        Status::from_header_map(response.headers()).unwrap()
    }

    #[tokio::test]
    async fn an_undecodable_message_is_invalid_argument() {
        let status = answered(Status::internal("failed to decode Protobuf message"), "").await;
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "failed to decode Protobuf message");
        let status = answered(Status::internal("invalid wire type"), "malformed push: ").await;
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "malformed push: invalid wire type");
    }

    #[tokio::test]
    async fn an_oversized_message_is_resource_exhausted() {
        let too_large = "Error, decoded message length too large: found 5242880 bytes";
        let status = answered(Status::out_of_range(too_large), "malformed push: ").await;
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(status.message(), too_large);
    }

    #[tokio::test]
    async fn other_statuses_pass_unchanged() {
        for inner in [
            Status::invalid_argument("bad span"),
            Status::unavailable("store unavailable"),
            Status::unimplemented("no such method"),
            Status::ok(""),
        ] {
            let status = answered(inner.clone(), "malformed push: ").await;
            assert_eq!(
                (status.code(), status.message()),
                (inner.code(), inner.message())
            );
        }
    }
}
