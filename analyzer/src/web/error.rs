//! How handlers answer: JSON bodies, and errors as `{"error": "…"}` with their status code.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A JSON error body with its status code.
pub(crate) struct ApiError(pub(crate) StatusCode, pub(crate) String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.1 });
        (
            self.0,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// A 401 with `WWW-Authenticate: Bearer`: the request has no accepted token
/// (a runtime `Refusal`).
pub(crate) fn unauthorized(
    outcome: otel_parity_runtime::auth::AuthOutcome,
    _request: &axum::http::HeaderMap,
) -> Response {
    let mut response =
        ApiError(StatusCode::UNAUTHORIZED, outcome.message().to_owned()).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, outcome.www_authenticate());
    response
}

/// A 400: the request's query or path is wrong.
pub(crate) fn bad_request(message: String) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message)
}

/// A 500: the analyzer failed, not the request.
pub(crate) fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
}

/// A store failure: 503 while the store is unavailable (the database is
/// down, the disk is full: retry later), else 500.
pub(crate) fn unavailable(error: crate::store::StoreError) -> ApiError {
    match error {
        crate::store::StoreError::Backend(_) => {
            ApiError(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
        }
        other => internal(other),
    }
}

/// `value` as pretty-printed JSON.
pub(crate) fn json(value: &impl serde::Serialize) -> Result<Response, ApiError> {
    let body = serde_json::to_string_pretty(value).map_err(internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
