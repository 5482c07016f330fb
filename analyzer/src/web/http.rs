//! The analyzer's router on :8080, and the handlers of the report API
//! (`/api/v1/environments`, `/api/v1/report`, `/api/v1/findings`), `/metrics`,
//! `/healthz` and `/readyz`. With tokens configured the API takes the `api`
//! tokens, `/metrics` the `api` or `metrics` tokens; the health checks and
//! the UI's own files (which hold no data) stay open.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::error::{ApiError, bad_request, json, unauthorized, unavailable};
use super::{api, assets};
use crate::evaluate::CompareError;
use otel_parity_compare::report::Severity;
use otel_parity_runtime::auth::{Guard, RequireBearer};

/// The state the router takes (kept in `state`, below the route modules that read it).
pub use super::state::ApiState;

/// Who may read what: `None` lets everyone in.
#[derive(Debug, Clone, Default)]
pub struct HttpAuth {
    /// Tokens for the JSON API.
    pub api: Option<Guard>,
    /// Tokens for `/metrics`.
    pub metrics: Option<Guard>,
}

/// The analyzer's routes: the API, `/metrics`, the health checks and the UI.
pub fn router(state: ApiState, auth: HttpAuth) -> Router {
    let data = Router::new()
        .route("/api/v1/environments", get(environments))
        .route("/api/v1/report", get(report))
        .route("/api/v1/findings", get(findings))
        .merge(api::router())
        .route_layer(RequireBearer::new(auth.api, unauthorized));
    let metrics = Router::new()
        .route("/metrics", get(metrics))
        .route_layer(RequireBearer::new(auth.metrics, unauthorized));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .merge(assets::router())
        .merge(data)
        .merge(metrics)
        .with_state(state)
}

async fn environments(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let environments = state.store.environments().await.map_err(unavailable)?;
    json(&environments)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    baseline: Option<String>,
    candidate: Option<String>,
    since: Option<String>,
    format: Option<String>,
}

async fn report(
    State(state): State<ApiState>,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| bad_request(e.body_text()))?;
    let missing = |name: &str| bad_request(format!("query parameter {name} is required"));
    let baseline = query.baseline.ok_or_else(|| missing("baseline"))?;
    let candidate = query.candidate.ok_or_else(|| missing("candidate"))?;
    let since = match &query.since {
        Some(text) => humantime::parse_duration(text)
            .map_err(|e| bad_request(format!("invalid since {text:?}: {e}")))?,
        None => state.default_since,
    };
    let report = state
        .evaluator
        .report(&baseline, &candidate, since)
        .await
        .map_err(|e| match e {
            CompareError::NoData { .. } => ApiError(StatusCode::NOT_FOUND, e.to_string()),
            CompareError::Store(error) => unavailable(error),
        })?;
    match query.format.as_deref().unwrap_or("json") {
        "json" => json(&report),
        "text" => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            report.render_text(false),
        )
            .into_response()),
        "markdown" => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            report.render_markdown(),
        )
            .into_response()),
        other => Err(bad_request(format!(
            "unknown format {other:?}: use json, text or markdown"
        ))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingsQuery {
    baseline: Option<String>,
    candidate: Option<String>,
    service: Option<String>,
    severity: Option<String>,
}

async fn findings(
    State(state): State<ApiState>,
    query: Result<Query<FindingsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| bad_request(e.body_text()))?;
    let severity = match &query.severity {
        Some(name) => Some(
            Severity::ALL
                .into_iter()
                .find(|s| s.as_str() == name)
                .ok_or_else(|| bad_request(format!("unknown severity {name:?}")))?,
        ),
        None => None,
    };
    let mut out = Vec::new();
    for report in state.evaluator.latest() {
        if query
            .baseline
            .as_ref()
            .is_some_and(|b| *b != report.baseline)
            || query
                .candidate
                .as_ref()
                .is_some_and(|c| *c != report.candidate)
        {
            continue;
        }
        for finding in &report.findings {
            if query
                .service
                .as_ref()
                .is_some_and(|s| *s != finding.service)
                || severity.is_some_and(|s| s != finding.severity)
            {
                continue;
            }
            out.push(serde_json::json!({
                "baseline": report.baseline,
                "candidate": report.candidate,
                "finding": finding,
            }));
        }
    }
    json(&out)
}

/// OpenMetrics when the scraper asks for it (Prometheus does), else the
/// classic text format.
async fn metrics(State(state): State<ApiState>, headers: axum::http::HeaderMap) -> Response {
    let (content_type, body) =
        otel_parity_runtime::exposition::negotiate(&headers, state.metrics.encode_openmetrics());
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Ready while the store takes reads and writes: a replica whose database
/// is down or whose disk is full is taken out of its Service.
async fn ready(State(state): State<ApiState>) -> Result<&'static str, ApiError> {
    state.store.check().await.map_err(|e| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store not ready: {e}"),
        )
    })?;
    Ok("ready\n")
}
