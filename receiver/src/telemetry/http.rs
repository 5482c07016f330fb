//! The telemetry listener's routes: `/metrics` (OpenMetrics when asked for,
//! else the classic text format), `/healthz` (the process serves) and
//! `/readyz` (listening, and pushes not failing for too long).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use otel_parity_runtime::exposition::negotiate;

use super::ReceiverTelemetry;

/// The routes of the telemetry listener.
pub fn router(telemetry: Arc<ReceiverTelemetry>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(telemetry)
}

async fn metrics(State(telemetry): State<Arc<ReceiverTelemetry>>, headers: HeaderMap) -> Response {
    let (content_type, body) = negotiate(&headers, telemetry.encode_openmetrics());
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn ready(State(telemetry): State<Arc<ReceiverTelemetry>>) -> Response {
    match telemetry.readiness() {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        )
            .into_response(),
    }
}
