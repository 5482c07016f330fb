//! An OTLP/gRPC client that sends raw, possibly malformed, message bytes: a tonic client with a
//! pass-through codec, and a lower level that sends any HTTP/2 body as a gRPC request.

use std::time::Duration;

use bytes::{Buf, BufMut};
use tonic::Status;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};

/// How long one gRPC call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// A codec that sends the given bytes as the message and returns the response undecoded.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

#[derive(Debug, Default)]
struct RawBytes;

impl Encoder for RawBytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawBytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawBytes;
    type Decoder = RawBytes;

    fn encoder(&mut self) -> RawBytes {
        RawBytes
    }

    fn decoder(&mut self) -> RawBytes {
        RawBytes
    }
}

/// A single-threaded runtime to drive the client from a synchronous test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot build a tokio runtime: {e}"))
}

/// A channel to `endpoint` (`http://host:port`), with [`CALL_TIMEOUT`] on connect and calls.
pub async fn grpc_channel(endpoint: &str) -> Channel {
    Endpoint::from_shared(endpoint.to_owned())
        .unwrap_or_else(|e| panic!("bad endpoint {endpoint}: {e}"))
        .connect_timeout(CALL_TIMEOUT)
        .timeout(CALL_TIMEOUT)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {endpoint}: {e}"))
}

/// Calls `path` with `message` as the request message (gzip-compressed on the wire if
/// `gzip`); the response message bytes, or the status.
pub async fn grpc_call(
    channel: &Channel,
    path: &str,
    message: Vec<u8>,
    gzip: bool,
) -> Result<Vec<u8>, Status> {
    let mut client = tonic::client::Grpc::new(channel.clone());
    if gzip {
        client = client.send_compressed(CompressionEncoding::Gzip);
    }
    client
        .ready()
        .await
        .map_err(|e| Status::unavailable(format!("channel not ready: {e}")))?;
    let path: PathAndQuery = path
        .parse()
        .unwrap_or_else(|e| panic!("bad gRPC path {path}: {e}"));
    let call = client.unary(tonic::Request::new(message), path, RawCodec);
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result.map(tonic::Response::into_inner),
        Err(_) => panic!("gRPC call did not finish within {CALL_TIMEOUT:?}"),
    }
}

/// Sends one gRPC request whose HTTP/2 body is exactly `body` (gRPC length-prefixed frames,
/// possibly broken), with `headers` added; returns the call's grpc-status and grpc-message,
/// from the response headers (trailers-only) or trailers. The body is a `String` because that
/// is the body type reachable without another dependency, so it must be ASCII.
pub async fn grpc_raw_call(
    channel: &Channel,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Status {
    use tonic::codegen::{Body as _, Service as _};

    let body = String::from_utf8(body).unwrap_or_else(|e| panic!("raw gRPC body not ASCII: {e}"));
    let mut request = tonic::codegen::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(tonic::body::Body::new(body))
        .unwrap_or_else(|e| panic!("cannot build a raw gRPC request: {e}"));
    let mut channel = channel.clone();
    let exchange = async move {
        std::future::poll_fn(|cx| channel.poll_ready(cx))
            .await
            .unwrap_or_else(|e| panic!("gRPC channel not ready: {e}"));
        let response = channel
            .call(request)
            .await
            .unwrap_or_else(|e| panic!("raw gRPC request failed at the HTTP/2 level: {e}"));
        assert_eq!(
            response.status(),
            200,
            "gRPC responses are HTTP 200: {response:?}"
        );
        if let Some(status) = Status::from_header_map(response.headers()) {
            return status;
        }
        let mut body = response.into_body();
        loop {
            let frame =
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        return Status::from_header_map(&trailers).unwrap_or_else(|| {
                            panic!("gRPC trailers without grpc-status: {trailers:?}")
                        });
                    }
                }
                Some(Err(e)) => panic!("reading the gRPC response body failed: {e}"),
                None => panic!("gRPC response without grpc-status"),
            }
        }
    };
    tokio::time::timeout(CALL_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| panic!("raw gRPC call did not finish within {CALL_TIMEOUT:?}"))
}

/// A gRPC length-prefixed message: compression flag, 4-byte big-endian length, payload.
pub fn grpc_frame(flag: u8, declared_len: u32, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![flag];
    frame.extend_from_slice(&declared_len.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}
