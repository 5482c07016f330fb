//! JSON endpoints the UI reads besides `/api/v1/report`:
//!
//! - `GET /api/v1/pairs`: the pairs evaluated so far, each with its latest
//!   evaluation (coverage, composite, findings by severity);
//! - `GET /api/v1/history?baseline=&candidate=`: the pair's evaluations,
//!   oldest first (in memory, bounded: [`crate::history`]);
//! - `GET /api/v1/services/{service}?baseline=&candidate=&since=`: the
//!   service's fingerprint in both environments over `since` (proto3 JSON of
//!   `parity.v1.ServiceFingerprint`, `null` on the side without the service),
//!   without sketch bytes (`hll`, `hdr`: their estimates stay);
//! - `GET /api/v1/settings`: what the pages judge against: the coverage
//!   objective and the ingestion band.
//!
//! Bad queries answer 400, unknown pairs, environments or services 404, both
//! with `{"error": "…"}`.

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use otel_parity_proto::v1::ServiceFingerprint;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, bad_request, json, unavailable};
use super::state::ApiState;
use crate::evaluate::CompareError;
use crate::store::MergedFingerprint;
use otel_parity_runtime::time::unix_nanos_now;

/// The UI's JSON routes.
pub(super) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/pairs", get(pairs))
        .route("/api/v1/history", get(history))
        .route("/api/v1/services/{*service}", get(service))
        .route("/api/v1/settings", get(settings))
}

async fn settings(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let (low, high) = state.evaluator.ingestion_band();
    json(&serde_json::json!({
        "coverage_objective": state.evaluator.coverage_objective(),
        "ingestion_band": [low, high],
    }))
}

fn required(value: Option<String>, name: &str) -> Result<String, ApiError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad_request(format!("query parameter {name} is required")))
}

async fn pairs(State(state): State<ApiState>) -> Result<Response, ApiError> {
    json(&state.evaluator.history().pairs())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PairQuery {
    baseline: Option<String>,
    candidate: Option<String>,
}

async fn history(
    State(state): State<ApiState>,
    query: Result<Query<PairQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| bad_request(e.body_text()))?;
    let baseline = required(query.baseline, "baseline")?;
    let candidate = required(query.candidate, "candidate")?;
    let points = state
        .evaluator
        .history()
        .points(&baseline, &candidate)
        .ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!("{candidate:?} has not been evaluated against {baseline:?}"),
            )
        })?;
    json(&serde_json::json!({
        "baseline": baseline,
        "candidate": candidate,
        "points": points,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceQuery {
    baseline: Option<String>,
    candidate: Option<String>,
    since: Option<String>,
}

/// One environment's side of the service page.
#[derive(Debug, Serialize)]
struct ServiceSide {
    environment: String,
    /// Pushes and receivers merged, and the windows they span.
    pushes: u64,
    receivers: u64,
    window_start_unix_ms: u64,
    window_end_unix_ms: u64,
    /// `None` when the environment has data but not this service.
    fingerprint: Option<ServiceFingerprint>,
}

impl ServiceSide {
    fn of(environment: String, merged: MergedFingerprint, service: &str) -> Self {
        let fingerprint = merged
            .fingerprint
            .services
            .get(service)
            .cloned()
            .map(without_sketches);
        ServiceSide {
            environment,
            pushes: merged.pushes,
            receivers: merged.receivers,
            window_start_unix_ms: merged.window_start_unix_nano / 1_000_000,
            window_end_unix_ms: merged.window_end_unix_nano / 1_000_000,
            fingerprint,
        }
    }
}

/// Sketch bytes mean nothing to people and would dominate the response.
fn without_sketches(mut service: ServiceFingerprint) -> ServiceFingerprint {
    otel_parity_model::sketch::clear_sketch_bytes(&mut service);
    service
}

async fn service(
    State(state): State<ApiState>,
    service: Result<Path<String>, PathRejection>,
    query: Result<Query<ServiceQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(service) = service.map_err(|e| bad_request(e.body_text()))?;
    let Query(query) = query.map_err(|e| bad_request(e.body_text()))?;
    let baseline = required(query.baseline, "baseline")?;
    let candidate = required(query.candidate, "candidate")?;
    let since = match &query.since {
        Some(text) => humantime::parse_duration(text)
            .map_err(|e| bad_request(format!("invalid since {text:?}: {e}")))?,
        None => state.default_since,
    };
    let until = unix_nanos_now();
    let from = until.saturating_sub(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX));
    let (baseline_fp, candidate_fp) = tokio::try_join!(
        state.store.fingerprint(&baseline, from, until),
        state.store.fingerprint(&candidate, from, until),
    )
    .map_err(unavailable)?;
    let no_data = |environment: &str| {
        let error = CompareError::NoData {
            environment: environment.to_owned(),
            since: humantime::format_duration(since).to_string(),
        };
        ApiError(StatusCode::NOT_FOUND, error.to_string())
    };
    let baseline_fp = baseline_fp.ok_or_else(|| no_data(&baseline))?;
    let candidate_fp = candidate_fp.ok_or_else(|| no_data(&candidate))?;
    let baseline_side = ServiceSide::of(baseline, baseline_fp, &service);
    let candidate_side = ServiceSide::of(candidate, candidate_fp, &service);
    if baseline_side.fingerprint.is_none() && candidate_side.fingerprint.is_none() {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!(
                "service {service:?} is in neither {:?} nor {:?} in the last {}",
                baseline_side.environment,
                candidate_side.environment,
                humantime::format_duration(since)
            ),
        ));
    }
    let (low, high) = state.evaluator.ingestion_band();
    json(&serde_json::json!({
        "service": service,
        "since": humantime::format_duration(since).to_string(),
        "ingestion_band": [low, high],
        "baseline": baseline_side,
        "candidate": candidate_side,
    }))
}

#[cfg(test)]
mod tests;
