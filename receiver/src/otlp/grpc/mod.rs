//! OTLP/gRPC: `TraceService`, `MetricsService` and `LogsService` on one port.
//!
//! Each `Export` call is read by hand (`unary`): the frame prefix first, so
//! that an oversized message is refused before its bytes are read and the
//! admission budget is charged the declared length before they are; then the
//! message, decompressed (gzip) within the size limit and the budget. The
//! fingerprint is computed from the protobuf bytes, never from decoded
//! structs. Refusals carry OTLP's codes: INVALID_ARGUMENT for anything
//! malformed, RESOURCE_EXHAUSTED over the size limit, UNIMPLEMENTED for an
//! unknown encoding, and UNAVAILABLE with `RetryInfo` over the budget or at
//! the cap on calls in flight (checked first, before anything is read).

mod unary;

use std::convert::Infallible;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Body;
use tonic::Status;
use tonic::codegen::{BoxFuture, StdError};
use tonic::server::NamedService;

use self::unary::{BodyReader, FramingError, PREFIX_BYTES, ok_response};
use super::compression::{DecompressError, gunzip_within};
use super::intake::Intake;
use super::response::{RpcStatus, export_response};
use crate::Signal;
use crate::admission::Reservation;
use crate::telemetry::{Protocol, Refusal};

/// One OTLP gRPC service (the signal's `Export` method).
#[derive(Clone)]
pub struct OtlpGrpcService<S> {
    intake: Intake,
    max_message_size: usize,
    _signal: PhantomData<S>,
}

/// Binds a service type to its signal and gRPC name.
pub trait GrpcSignal: Send + Sync + 'static {
    /// The signal the service's requests carry.
    const SIGNAL: Signal;
    /// The gRPC service name, for routing.
    const NAME: &'static str;
    /// The path of its one method, `Export`.
    const EXPORT_PATH: &'static str;
}

/// `opentelemetry.proto.collector.trace.v1.TraceService`.
#[derive(Clone)]
pub struct Traces;
/// `opentelemetry.proto.collector.metrics.v1.MetricsService`.
#[derive(Clone)]
pub struct Metrics;
/// `opentelemetry.proto.collector.logs.v1.LogsService`.
#[derive(Clone)]
pub struct Logs;

impl GrpcSignal for Traces {
    const SIGNAL: Signal = Signal::Traces;
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
    const EXPORT_PATH: &'static str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
}
impl GrpcSignal for Metrics {
    const SIGNAL: Signal = Signal::Metrics;
    const NAME: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
    const EXPORT_PATH: &'static str =
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
}
impl GrpcSignal for Logs {
    const SIGNAL: Signal = Signal::Logs;
    const NAME: &'static str = "opentelemetry.proto.collector.logs.v1.LogsService";
    const EXPORT_PATH: &'static str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
}

impl<S: GrpcSignal> OtlpGrpcService<S> {
    /// The service, refusing messages over `max_message_size` bytes after
    /// decompression.
    pub fn new(intake: Intake, max_message_size: usize) -> Self {
        OtlpGrpcService {
            intake,
            max_message_size,
            _signal: PhantomData,
        }
    }
}

impl<S: GrpcSignal> NamedService for OtlpGrpcService<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tower::Service<http::Request<B>> for OtlpGrpcService<S>
where
    S: GrpcSignal,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != S::EXPORT_PATH {
            return Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) });
        }
        let call = Export {
            intake: self.intake.clone(),
            signal: S::SIGNAL,
            max: self.max_message_size,
        };
        Box::pin(async move { Ok(call.answer(request).await) })
    }
}

/// A request refused whole: why, and what the client is told.
struct Refused {
    reason: Refusal,
    status: Status,
}

impl Refused {
    fn malformed(message: String) -> Self {
        Refused {
            reason: Refusal::Malformed,
            status: Status::invalid_argument(message),
        }
    }

    fn too_large(message: String) -> Self {
        Refused {
            reason: Refusal::TooLarge,
            status: Status::resource_exhausted(message),
        }
    }

    fn overloaded(reservation_of: &Intake, message: String) -> Self {
        let delay = reservation_of.budget().retry_after();
        Refused {
            reason: Refusal::Overloaded,
            status: RpcStatus::unavailable(message, delay).to_grpc(),
        }
    }
}

impl From<FramingError> for Refused {
    fn from(error: FramingError) -> Self {
        Refused::malformed(error.to_string())
    }
}

/// One `Export` call of `signal`.
struct Export {
    intake: Intake,
    signal: Signal,
    max: usize,
}

impl Export {
    async fn answer<B>(self, request: http::Request<B>) -> http::Response<tonic::body::Body>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<StdError>,
    {
        let Some(_stream) = self.intake.open_stream() else {
            let streams = self.intake.streams();
            let delay = self.intake.budget().retry_after();
            let message = format!(
                "the receiver is at its cap of {} gRPC calls in flight \
                 (admission.max_grpc_streams); retry after {delay:?}",
                streams.limit()
            );
            self.intake
                .refuse(self.signal, Protocol::Grpc, Refusal::Streams, 0);
            return RpcStatus::unavailable(message, delay).to_grpc().into_http();
        };
        let (parts, body) = request.into_parts();
        let mut reader = BodyReader::new(Box::pin(body));
        let received = match compression(&parts.headers) {
            Ok(gzip) => self.receive(&mut reader, gzip).await,
            Err(encoding) => Err(Refused {
                reason: Refusal::Unsupported,
                status: Status::unimplemented(format!(
                    "Content is compressed with `{encoding}` which isn't supported"
                )),
            }),
        };
        let wire = reader.wire_bytes();
        let (message, _reservation) = match received {
            Ok(received) => received,
            Err(refused) => {
                self.intake
                    .refuse(self.signal, Protocol::Grpc, refused.reason, wire);
                return refused.status.into_http();
            }
        };
        match self
            .intake
            .ingest(self.signal, Protocol::Grpc, &message, wire)
        {
            Ok(outcome) => {
                self.intake
                    .accepted(self.signal, Protocol::Grpc, &outcome, wire, message.len());
                ok_response(&export_response(self.signal, &outcome))
            }
            Err(malformed) => Status::invalid_argument(malformed.to_string()).into_http(),
        }
    }

    /// The call's message, decompressed, and the budget it holds.
    async fn receive<B>(
        &self,
        reader: &mut BodyReader<B>,
        gzip: bool,
    ) -> Result<(Vec<u8>, Reservation), Refused>
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: Into<StdError>,
    {
        let (flag, length) = reader.prefix().await?;
        let compressed = match flag {
            0 => false,
            1 if gzip => true,
            1 => {
                return Err(Refused::malformed(
                    "the message is flagged compressed but no grpc-encoding was given".into(),
                ));
            }
            other => {
                return Err(Refused::malformed(format!(
                    "gRPC compression flag {other} is not 0 or 1"
                )));
            }
        };
        if length > self.max {
            return Err(Refused::too_large(format!(
                "decoded message length too large: found {length} bytes, the limit is: {} bytes",
                self.max
            )));
        }
        let Some(mut reservation) = self.intake.admit(length) else {
            return Err(Refused::overloaded(
                &self.intake,
                over_budget(&self.intake, PREFIX_BYTES + length),
            ));
        };
        let wire = reader.message(length).await?;
        if !compressed {
            return Ok((wire, reservation));
        }
        match gunzip_within(&wire, self.max, &mut reservation) {
            Ok(message) => {
                drop(wire);
                reservation.shrink(length);
                Ok((message, reservation))
            }
            Err(DecompressError::TooLarge { limit }) => Err(Refused::too_large(format!(
                "decoded message length too large: the limit is: {limit} bytes"
            ))),
            Err(DecompressError::OverBudget) => Err(Refused::overloaded(
                &self.intake,
                over_budget(&self.intake, reservation.bytes()),
            )),
            Err(error @ DecompressError::Corrupt { .. }) => {
                Err(Refused::malformed(error.to_string()))
            }
        }
    }
}

/// What a client refused over the budget is told.
pub(crate) fn over_budget(intake: &Intake, wanted: usize) -> String {
    let budget = intake.budget();
    format!(
        "the receiver is over its budget of request bytes in flight ({} of {} bytes in use, \
         {wanted} more wanted); retry after {:?}",
        budget.used(),
        budget.limit(),
        budget.retry_after()
    )
}

/// Whether the message is gzip (`grpc-encoding`); the encoding's name when
/// it is one the receiver does not take.
fn compression(headers: &http::HeaderMap) -> Result<bool, String> {
    match headers
        .get("grpc-encoding")
        .map(|v| v.to_str().unwrap_or("?"))
    {
        None | Some("identity") => Ok(false),
        Some("gzip") => Ok(true),
        Some(other) => Err(other.to_owned()),
    }
}
