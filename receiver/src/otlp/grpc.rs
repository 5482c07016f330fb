//! OTLP/gRPC: `TraceService`, `MetricsService` and `LogsService` on one port.
//!
//! Requests reach the engine as raw bytes (a pass-through codec): the
//! fingerprint is computed from the protobuf bytes, never from decoded structs.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes};
use http_body::{Body, Frame};
use tonic::codec::{
    Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf, Encoder,
};
use tonic::codegen::{BoxFuture, StdError};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Code, Request, Response, Status};

use super::response::export_response;
use crate::{Fingerprinter, Signal};

/// Encoded response bytes, written to the wire as they are.
#[derive(Debug, Default)]
pub struct EncodedMessage(Vec<u8>);

/// A codec that hands request messages over undecoded and writes responses
/// that are already encoded.
#[derive(Debug, Default)]
struct PassThroughCodec(PhantomData<()>);

#[derive(Debug, Default)]
struct PassThrough;

impl Encoder for PassThrough {
    type Item = EncodedMessage;
    type Error = Status;

    fn encode(&mut self, item: EncodedMessage, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item.0);
        Ok(())
    }
}

impl Decoder for PassThrough {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

impl Codec for PassThroughCodec {
    type Encode = EncodedMessage;
    type Decode = Bytes;
    type Encoder = PassThrough;
    type Decoder = PassThrough;

    fn encoder(&mut self) -> PassThrough {
        PassThrough
    }

    fn decoder(&mut self) -> PassThrough {
        PassThrough
    }
}

/// The `Export` method of one signal's service.
struct Export {
    engine: Arc<Fingerprinter>,
    signal: Signal,
    wire_bytes: Arc<AtomicU64>,
}

impl UnaryService<Bytes> for Export {
    type Response = EncodedMessage;
    type Future = std::future::Ready<Result<Response<EncodedMessage>, Status>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let message = request.into_inner();
        let wire_bytes = self.wire_bytes.load(Ordering::Relaxed) as usize;
        let result = match self.engine.ingest(self.signal, &message, wire_bytes) {
            Ok(outcome) => Ok(Response::new(EncodedMessage(export_response(
                self.signal,
                &outcome,
            )))),
            Err(malformed) => Err(Status::invalid_argument(malformed.to_string())),
        };
        std::future::ready(result)
    }
}

/// One OTLP gRPC service (the signal's `Export` method); served inside the
/// runtime's `OtlpStatus`, which gives tonic's refusals OTLP's codes.
#[derive(Clone)]
pub struct OtlpGrpcService<S> {
    engine: Arc<Fingerprinter>,
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
    pub fn new(engine: Arc<Fingerprinter>, max_message_size: usize) -> Self {
        OtlpGrpcService {
            engine,
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
        let wire_bytes = Arc::new(AtomicU64::new(0));
        let request = request.map(|body| CountingBody {
            inner: body,
            counted: Arc::clone(&wire_bytes),
        });
        let export = Export {
            engine: Arc::clone(&self.engine),
            signal: S::SIGNAL,
            wire_bytes: Arc::clone(&wire_bytes),
        };
        let engine = Arc::clone(&self.engine);
        let mut accept = EnabledCompressionEncodings::default();
        accept.enable(CompressionEncoding::Gzip);
        let mut grpc = Grpc::new(PassThroughCodec::default())
            .apply_compression_config(accept, EnabledCompressionEncodings::default())
            .apply_max_message_size_config(Some(self.max_message_size), None);
        Box::pin(async move {
            let response = grpc.unary(export, request).await;
            count_refusal(&response, &engine, S::SIGNAL, &wire_bytes);
            Ok(response)
        })
    }
}

/// Counts a request tonic refused before it reached the engine: an
/// oversized message (OUT_OF_RANGE, or RESOURCE_EXHAUSTED), broken framing or
/// a corrupt gzip body (INTERNAL) or an unsupported encoding (UNIMPLEMENTED).
/// INVALID_ARGUMENT from the engine was counted there; OK passes. The codes
/// are rewritten to OTLP's by the runtime's `OtlpStatus` around this service.
fn count_refusal(
    response: &http::Response<tonic::body::Body>,
    engine: &Fingerprinter,
    signal: Signal,
    wire_bytes: &AtomicU64,
) {
    let refused = Status::from_header_map(response.headers()).is_some_and(|status| {
        matches!(
            status.code(),
            Code::OutOfRange | Code::Internal | Code::ResourceExhausted | Code::Unimplemented
        )
    });
    if refused {
        engine.reject_request(signal, wire_bytes.load(Ordering::Relaxed) as usize);
    }
}

pin_project_lite::pin_project! {
    /// A request body that counts the bytes received on the wire (before gRPC
    /// decompression).
    struct CountingBody<B> {
        #[pin]
        inner: B,
        counted: Arc<AtomicU64>,
    }
}

impl<B> Body for CountingBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let poll = this.inner.poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &poll
            && let Some(data) = frame.data_ref()
        {
            this.counted.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
