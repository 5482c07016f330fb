//! OTLP/HTTP: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` with protobuf or
//! OTLP/JSON bodies, optionally gzip-compressed.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use otel_parity_runtime::auth::AuthOutcome;
use prost::Message;
use tonic::Code;

use super::compression::{DecompressError, gunzip_bounded};
use super::json;
use super::response::{RpcStatus, export_response, export_response_json};
use crate::{Fingerprinter, Signal};

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// What the HTTP server shares across requests.
#[derive(Clone)]
struct HttpState {
    engine: Arc<Fingerprinter>,
    max_body_size: usize,
}

/// The request body's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Protobuf,
    Json,
}

/// The OTLP/HTTP routes; bodies over `max_body_size` bytes (before or after
/// decompression) are refused with 413.
pub fn router(engine: Arc<Fingerprinter>, max_body_size: usize) -> Router {
    let state = HttpState {
        engine,
        max_body_size,
    };
    Router::new()
        .route(
            "/v1/traces",
            post(|s, h, b| export(s, h, b, Signal::Traces)),
        )
        .route(
            "/v1/metrics",
            post(|s, h, b| export(s, h, b, Signal::Metrics)),
        )
        .route("/v1/logs", post(|s, h, b| export(s, h, b, Signal::Logs)))
        // The limit is applied below, to the decompressed size too.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// An OTLP/HTTP error: status code, gRPC code for the `Status` body, message.
struct ExportError {
    status: StatusCode,
    code: Code,
    message: String,
    format: Format,
}

impl IntoResponse for ExportError {
    fn into_response(self) -> Response {
        let body = RpcStatus {
            code: self.code as i32,
            message: self.message,
        };
        let (content_type, bytes) = match self.format {
            Format::Protobuf => (PROTOBUF, body.encode_to_vec()),
            Format::Json => (JSON, body.to_json()),
        };
        let mut response =
            (self.status, [(header::CONTENT_TYPE, content_type)], bytes).into_response();
        if self.code == Code::Unavailable {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// The OTLP/HTTP answer to a request without an accepted bearer token: 401
/// with `WWW-Authenticate: Bearer` and an UNAUTHENTICATED `Status` body in
/// the request's encoding (a runtime `Refusal`).
pub fn unauthenticated(outcome: AuthOutcome, headers: &HeaderMap) -> Response {
    let format = request_format(headers).unwrap_or(Format::Protobuf);
    let mut response = ExportError {
        status: StatusCode::UNAUTHORIZED,
        code: Code::Unauthenticated,
        message: outcome.message().to_owned(),
        format,
    }
    .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, outcome.www_authenticate());
    response
}

fn request_format(headers: &HeaderMap) -> Option<Format> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media_type = value.split(';').next()?.trim();
    if media_type.eq_ignore_ascii_case(PROTOBUF) {
        Some(Format::Protobuf)
    } else if media_type.eq_ignore_ascii_case(JSON) {
        Some(Format::Json)
    } else {
        None
    }
}

async fn export(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Body,
    signal: Signal,
) -> Response {
    match handle(&state, &headers, body, signal).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle(
    state: &HttpState,
    headers: &HeaderMap,
    body: Body,
    signal: Signal,
) -> Result<Response, ExportError> {
    let engine = &state.engine;
    let refuse = |status, code, message: String, format, wire_bytes| {
        engine.reject_request(signal, wire_bytes);
        ExportError {
            status,
            code,
            message,
            format,
        }
    };
    let Some(format) = request_format(headers) else {
        let found = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        let message = format!("unsupported content type {found:?}: use {PROTOBUF} or {JSON}");
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::InvalidArgument,
            message,
            Format::Protobuf,
            0,
        ));
    };
    let gzip = match headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?"))
    {
        None | Some("identity") => false,
        Some(v) if v.eq_ignore_ascii_case("gzip") => true,
        Some(other) => {
            let message = format!("unsupported content encoding {other:?}: use gzip or none");
            return Err(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Code::InvalidArgument,
                message,
                format,
                0,
            ));
        }
    };
    let limit = state.max_body_size;
    let wire = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
            return Err(if too_large {
                let message = format!("request body exceeds the limit of {limit} bytes");
                refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Code::ResourceExhausted,
                    message,
                    format,
                    limit,
                )
            } else {
                let message = format!("could not read the request body: {error}");
                refuse(
                    StatusCode::BAD_REQUEST,
                    Code::InvalidArgument,
                    message,
                    format,
                    0,
                )
            });
        }
    };
    let decoded = if gzip {
        match gunzip_bounded(&wire, limit) {
            Ok(decoded) => decoded.into(),
            Err(error @ DecompressError::TooLarge { .. }) => {
                let status = StatusCode::PAYLOAD_TOO_LARGE;
                return Err(refuse(
                    status,
                    Code::ResourceExhausted,
                    error.to_string(),
                    format,
                    wire.len(),
                ));
            }
            Err(error) => {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    Code::InvalidArgument,
                    error.to_string(),
                    format,
                    wire.len(),
                ));
            }
        }
    } else {
        wire.clone()
    };

    let (protobuf, converted) = match format {
        Format::Protobuf => (decoded, None),
        Format::Json => match json::transcode(signal, &decoded) {
            Ok(t) => (
                t.protobuf.into(),
                Some((t.rejected_items, t.first_rejection)),
            ),
            Err(error) => {
                let message = format!("invalid OTLP/JSON {signal} request: {error}");
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    Code::InvalidArgument,
                    message,
                    format,
                    wire.len(),
                ));
            }
        },
    };
    let mut outcome = match engine.ingest(signal, &protobuf, wire.len()) {
        Ok(outcome) => outcome,
        Err(malformed) => {
            // The engine counted the rejection.
            return Err(ExportError {
                status: StatusCode::BAD_REQUEST,
                code: Code::InvalidArgument,
                message: malformed.to_string(),
                format,
            });
        }
    };
    if let Some((rejected, reason)) = converted
        && rejected > 0
    {
        engine.reject_items(signal, rejected);
        outcome.rejected += rejected;
        if reason.is_some() {
            outcome.rejection = reason;
        }
    }
    let (content_type, body) = match format {
        Format::Protobuf => (PROTOBUF, export_response(signal, &outcome)),
        Format::Json => (JSON, export_response_json(signal, &outcome)),
    };
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response())
}
