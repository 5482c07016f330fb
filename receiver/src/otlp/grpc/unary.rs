//! One unary gRPC call over HTTP/2, read and answered by hand so that the
//! receiver sees the message's declared length before its bytes: the
//! length-prefixed frame (`[flag][length:u32][message]`) read from the
//! request body, and the response written as gRPC wants it (HTTP 200, one
//! frame, `grpc-status` in the trailers).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use tonic::codegen::StdError;

/// Bytes of a gRPC frame's prefix: the compressed flag and the length.
pub const PREFIX_BYTES: usize = 5;

/// Why a request body is not one well-formed gRPC message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("the request ended inside the gRPC frame prefix")]
    PrefixCutShort,
    #[error("the gRPC frame announces {declared} bytes; the request ended after {received}")]
    MessageCutShort { declared: usize, received: usize },
    #[error("a unary call carries one message; more data follows it")]
    TrailingData,
    #[error("the request body broke off: {0}")]
    Broken(String),
}

/// The request body, read frame by frame.
pub struct BodyReader<B> {
    body: B,
    pending: BytesMut,
    wire: usize,
    ended: bool,
}

impl<B> BodyReader<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<StdError>,
{
    /// Reads `body`.
    pub fn new(body: B) -> Self {
        BodyReader {
            body,
            pending: BytesMut::new(),
            wire: 0,
            ended: false,
        }
    }

    /// Bytes received so far.
    pub fn wire_bytes(&self) -> usize {
        self.wire
    }

    /// The next data chunk of the body; `None` at its end.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, FramingError> {
        while !self.ended {
            match self.body.frame().await {
                None => self.ended = true,
                Some(Err(error)) => return Err(FramingError::Broken(error.into().to_string())),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        self.wire += data.len();
                        return Ok(Some(data));
                    }
                }
            }
        }
        Ok(None)
    }

    /// The frame prefix: the compressed flag and the declared length.
    pub async fn prefix(&mut self) -> Result<(u8, usize), FramingError> {
        while self.pending.len() < PREFIX_BYTES {
            match self.next_chunk().await? {
                Some(chunk) => self.pending.extend_from_slice(&chunk),
                None => return Err(FramingError::PrefixCutShort),
            }
        }
        let flag = self.pending.get_u8();
        let length = self.pending.get_u32() as usize;
        Ok((flag, length))
    }

    /// The message of `length` bytes after the prefix, in a buffer of exactly
    /// that size, and then the end of the body.
    pub async fn message(&mut self, length: usize) -> Result<Vec<u8>, FramingError> {
        let mut message = Vec::with_capacity(length);
        let take = self.pending.len().min(length);
        message.extend_from_slice(&self.pending.split_to(take));
        while message.len() < length {
            let Some(mut chunk) = self.next_chunk().await? else {
                return Err(FramingError::MessageCutShort {
                    declared: length,
                    received: message.len(),
                });
            };
            let take = chunk.len().min(length - message.len());
            message.extend_from_slice(&chunk.split_to(take));
            if !chunk.is_empty() {
                return Err(FramingError::TrailingData);
            }
        }
        if !self.pending.is_empty() || self.next_chunk().await?.is_some() {
            return Err(FramingError::TrailingData);
        }
        Ok(message)
    }
}

/// A gRPC length-prefixed frame of an uncompressed message.
pub fn frame(message: &[u8]) -> Bytes {
    let mut framed = BytesMut::with_capacity(PREFIX_BYTES + message.len());
    framed.extend_from_slice(&[0]);
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    framed.freeze()
}

/// A successful unary response: `message` in one frame, then `grpc-status: 0`.
pub fn ok_response(message: &[u8]) -> http::Response<tonic::body::Body> {
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let mut response = http::Response::new(tonic::body::Body::new(UnaryBody {
        data: Some(frame(message)),
        trailers: Some(trailers),
    }));
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    headers.insert(
        "grpc-accept-encoding",
        http::HeaderValue::from_static("gzip"),
    );
    response
}

/// A response body of one data frame and trailers.
struct UnaryBody {
    data: Option<Bytes>,
    trailers: Option<http::HeaderMap>,
}

impl Body for UnaryBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::{Full, StreamBody};

    use super::*;

    fn reader(
        chunks: Vec<&'static [u8]>,
    ) -> BodyReader<impl Body<Data = Bytes, Error = std::convert::Infallible> + Unpin> {
        let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = chunks
            .into_iter()
            .map(|c| Ok(Frame::data(Bytes::from_static(c))))
            .collect();
        BodyReader::new(StreamBody::new(tokio_stream::iter(frames)))
    }

    #[tokio::test]
    async fn a_message_split_across_chunks_is_read_whole() {
        let mut body = reader(vec![b"\x00\x00", b"\x00\x00\x05he", b"l", b"lo"]);
        assert_eq!(body.prefix().await, Ok((0, 5)));
        assert_eq!(body.message(5).await.unwrap(), b"hello");
        assert_eq!(body.wire_bytes(), 10);
    }

    #[tokio::test]
    async fn cut_short_and_trailing_data_are_framing_errors() {
        assert_eq!(
            reader(vec![b"\x00\x00\x00"]).prefix().await,
            Err(FramingError::PrefixCutShort)
        );
        let mut short = reader(vec![b"\x00\x00\x00\x00\x64order 17"]);
        assert_eq!(short.prefix().await, Ok((0, 100)));
        assert_eq!(
            short.message(100).await,
            Err(FramingError::MessageCutShort {
                declared: 100,
                received: 8
            })
        );
        let mut two = reader(vec![b"\x00\x00\x00\x00\x01a\x00\x00\x00\x00\x01b"]);
        assert_eq!(two.prefix().await, Ok((0, 1)));
        assert_eq!(two.message(1).await, Err(FramingError::TrailingData));
        let mut whole = BodyReader::new(Full::new(frame(b"spans")));
        assert_eq!(whole.prefix().await, Ok((0, 5)));
        assert_eq!(whole.message(5).await.unwrap(), b"spans");
    }
}
