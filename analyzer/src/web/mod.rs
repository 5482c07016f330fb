//! The web UI at `/`: an overview per environment pair (coverage, composite
//! score and its parts, findings by severity, trend) and a service page that
//! lays baseline and candidate side by side. Plain HTML, CSS and JavaScript
//! from `analyzer/ui/`, embedded in the binary, so the UI needs no network
//! beyond the analyzer itself; the pages read the JSON API, including the
//! endpoints in [`api`].

pub mod api;
mod assets;
pub mod http;

use axum::Router;
use axum::routing::get;

use crate::web::http::ApiState;

/// The UI's pages, assets and JSON endpoints, merged into the API router.
pub fn ui_routes() -> Router<ApiState> {
    Router::new()
        .route("/", get(assets::page))
        .route("/services/{*service}", get(assets::page))
        .route("/ui/{file}", get(assets::asset))
        .merge(api::router())
}
