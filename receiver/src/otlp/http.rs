//! OTLP/HTTP: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` with protobuf or
//! OTLP/JSON bodies, optionally gzip-compressed.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use otel_parity_runtime::auth::AuthOutcome;
use prost::Message;
use tonic::Code;

use super::body::{BodyError, read_body};
use super::compression::{DecompressError, gunzip_within};
use super::grpc::over_budget;
use super::intake::Intake;
use super::json;
use super::response::{RpcStatus, export_response, export_response_json};
use crate::Signal;
use crate::telemetry::{Protocol, Refusal};

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// How many times its size an OTLP/JSON body is charged to the admission
/// budget while it is converted: the parsed `serde_json::Value` tree and the
/// protobuf written from it (measured on the shop's requests: about 3.5×).
const JSON_CONVERSION_FACTOR: usize = 4;

/// What the HTTP server shares across requests.
#[derive(Clone)]
struct HttpState {
    intake: Intake,
    max_body_size: usize,
}

/// The request body's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Protobuf,
    Json,
}

/// The OTLP/HTTP routes; bodies over `max_body_size` bytes (before or after
/// decompression) are refused with 413, bodies over the admission budget
/// with 503 and `Retry-After`.
pub fn router(intake: Intake, max_body_size: usize) -> Router {
    let state = HttpState {
        intake,
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

/// An OTLP/HTTP error: status code, the `Status` body, and its encoding.
struct ExportError {
    status: StatusCode,
    body: RpcStatus,
    format: Format,
    /// `Retry-After` of a retryable refusal.
    retry_after: Option<Duration>,
}

impl ExportError {
    fn new(status: StatusCode, code: Code, message: String, format: Format) -> Self {
        ExportError {
            status,
            body: RpcStatus::new(code, message),
            format,
            retry_after: None,
        }
    }
}

impl IntoResponse for ExportError {
    fn into_response(self) -> Response {
        let (content_type, bytes) = match self.format {
            Format::Protobuf => (PROTOBUF, self.body.encode_to_vec()),
            Format::Json => (JSON, self.body.to_json()),
        };
        let mut response =
            (self.status, [(header::CONTENT_TYPE, content_type)], bytes).into_response();
        if let Some(delay) = self.retry_after {
            // Whole seconds, at least one.
            let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

/// The OTLP/HTTP answer to a request without an accepted bearer token: 401
/// with `WWW-Authenticate: Bearer` and an UNAUTHENTICATED `Status` body in
/// the request's encoding (a runtime `Refusal`).
pub fn unauthenticated(outcome: AuthOutcome, headers: &HeaderMap) -> Response {
    let format = request_format(headers).unwrap_or(Format::Protobuf);
    let mut response = ExportError::new(
        StatusCode::UNAUTHORIZED,
        Code::Unauthenticated,
        outcome.message().to_owned(),
        format,
    )
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

/// A request refused whole: why (for the counters) and the answer.
struct Refused {
    reason: Refusal,
    error: ExportError,
}

async fn handle(
    state: &HttpState,
    headers: &HeaderMap,
    body: Body,
    signal: Signal,
) -> Result<Response, ExportError> {
    let intake = &state.intake;
    let mut wire = 0;
    let handled = receive(state, headers, body, signal, &mut wire).await;
    let (format, protobuf, converted, _reservation) = match handled {
        Ok(received) => received,
        Err(refused) => {
            intake.refuse(signal, Protocol::Http, refused.reason, wire);
            return Err(refused.error);
        }
    };
    let mut outcome = match intake.ingest(signal, Protocol::Http, &protobuf, wire) {
        Ok(outcome) => outcome,
        Err(malformed) => {
            // Counted as refused by the intake.
            return Err(ExportError::new(
                StatusCode::BAD_REQUEST,
                Code::InvalidArgument,
                malformed.to_string(),
                format,
            ));
        }
    };
    if let Some((rejected, reason)) = converted
        && rejected > 0
    {
        intake.reject_items(signal, rejected);
        outcome.rejected += rejected;
        if reason.is_some() {
            outcome.rejection = reason;
        }
    }
    intake.accepted(signal, Protocol::Http, &outcome, wire, protobuf.len());
    let (content_type, body) = match format {
        Format::Protobuf => (PROTOBUF, export_response(signal, &outcome)),
        Format::Json => (JSON, export_response_json(signal, &outcome)),
    };
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// What a request holds once read, decompressed and converted: its format,
/// the protobuf, what conversion left out, and the budget it holds.
type Received = (
    Format,
    Vec<u8>,
    Option<(u64, Option<String>)>,
    crate::admission::Reservation,
);

/// Reads, decompresses and converts a request within the size limit and
/// the admission budget; `wire` is set to the bytes read.
async fn receive(
    state: &HttpState,
    headers: &HeaderMap,
    body: Body,
    signal: Signal,
    wire: &mut usize,
) -> Result<Received, Refused> {
    let intake = &state.intake;
    let refused = |status, code, message: String, format, reason| Refused {
        reason,
        error: ExportError::new(status, code, message, format),
    };
    let overloaded = |wanted: usize, format| {
        let delay = intake.budget().retry_after();
        Refused {
            reason: Refusal::Overloaded,
            error: ExportError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                body: RpcStatus::unavailable(over_budget(intake, wanted), delay),
                format,
                retry_after: Some(delay),
            },
        }
    };
    let Some(format) = request_format(headers) else {
        let found = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        let message = format!("unsupported content type {found:?}: use {PROTOBUF} or {JSON}");
        return Err(refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::InvalidArgument,
            message,
            Format::Protobuf,
            Refusal::Unsupported,
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
            return Err(refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Code::InvalidArgument,
                message,
                format,
                Refusal::Unsupported,
            ));
        }
    };
    let limit = state.max_body_size;
    let too_large = |format| {
        let message = format!("request body exceeds the limit of {limit} bytes");
        refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::ResourceExhausted,
            message,
            format,
            Refusal::TooLarge,
        )
    };
    // A declared length is refused or reserved before a byte of the body is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large(format));
    }
    let Some(mut reservation) = intake.admit(declared.unwrap_or(0)) else {
        return Err(overloaded(declared.unwrap_or(0), format));
    };
    let read = read_body(body, limit, declared, &mut reservation).await;
    let body = match read {
        Ok((bytes, read)) => {
            *wire = read;
            bytes
        }
        Err((error, read)) => {
            *wire = read;
            return Err(match error {
                BodyError::TooLarge => too_large(format),
                BodyError::OverBudget => overloaded(read, format),
                BodyError::Broken(error) => refused(
                    StatusCode::BAD_REQUEST,
                    Code::InvalidArgument,
                    format!("could not read the request body: {error}"),
                    format,
                    Refusal::Malformed,
                ),
            });
        }
    };
    let decoded = if gzip {
        let decompressed = gunzip_within(&body, limit, &mut reservation);
        let freed = body.capacity();
        drop(body);
        reservation.shrink(freed);
        match decompressed {
            Ok(decoded) => decoded,
            Err(DecompressError::OverBudget) => {
                return Err(overloaded(reservation.bytes(), format));
            }
            Err(error @ DecompressError::TooLarge { .. }) => {
                return Err(refused(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Code::ResourceExhausted,
                    error.to_string(),
                    format,
                    Refusal::TooLarge,
                ));
            }
            Err(error) => {
                return Err(refused(
                    StatusCode::BAD_REQUEST,
                    Code::InvalidArgument,
                    error.to_string(),
                    format,
                    Refusal::Malformed,
                ));
            }
        }
    } else {
        body
    };

    match format {
        Format::Protobuf => Ok((format, decoded, None, reservation)),
        Format::Json => {
            let conversion = decoded.len().saturating_mul(JSON_CONVERSION_FACTOR);
            if !reservation.grow(conversion) {
                return Err(overloaded(conversion, format));
            }
            match json::transcode(signal, &decoded) {
                Ok(t) => {
                    drop(decoded);
                    // Held until the response: the protobuf. It was
                    // allocated within the estimate charged above.
                    let _ = reservation.resize(t.protobuf.capacity());
                    Ok((
                        format,
                        t.protobuf,
                        Some((t.rejected_items, t.first_rejection)),
                        reservation,
                    ))
                }
                Err(error) => {
                    let message = format!("invalid OTLP/JSON {signal} request: {error}");
                    Err(refused(
                        StatusCode::BAD_REQUEST,
                        Code::InvalidArgument,
                        message,
                        format,
                        Refusal::Malformed,
                    ))
                }
            }
        }
    }
}
