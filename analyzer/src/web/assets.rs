//! The UI's files, embedded at compile time and served with headers that
//! keep the browser from running anything but them.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::error::ApiError;
use super::state::ApiState;

/// One embedded file under `/ui/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// An asset from `analyzer/ui/`, embedded.
macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_str!(concat!("../../ui/", $name)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("errors.js", JAVASCRIPT),
    asset!("app.js", JAVASCRIPT),
    asset!("api.js", JAVASCRIPT),
    asset!("signin.js", JAVASCRIPT),
    asset!("dom.js", JAVASCRIPT),
    asset!("charts.js", JAVASCRIPT),
    asset!("findings.js", JAVASCRIPT),
    asset!("sidebyside.js", JAVASCRIPT),
    asset!("sections.js", JAVASCRIPT),
    asset!("overview.js", JAVASCRIPT),
    asset!("service.js", JAVASCRIPT),
];

/// The page shell; `app.js` renders the overview or a service page into it
/// from the URL.
const INDEX_HTML: &str = include_str!("../../ui/index.html");

/// Only the analyzer's own files run, and data from the API can never become
/// markup: no inline script, no other origin, no plugins, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

fn headers(content_type: &'static str) -> [(HeaderName, &'static str); 5] {
    [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        // Assets change with the binary; revalidating costs little.
        (header::CACHE_CONTROL, "no-cache"),
    ]
}

/// The UI's pages and files.
pub(super) fn router() -> Router<ApiState> {
    Router::new()
        .route("/", get(page))
        .route("/services/{*service}", get(page))
        .route("/ui/{file}", get(asset))
}

/// `/` and `/services/…`: the page shell.
async fn page() -> Response {
    (headers("text/html; charset=utf-8"), INDEX_HTML).into_response()
}

/// `/ui/{file}`: an embedded asset.
async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == file)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no UI asset named {file:?}")))?;
    Ok((headers(asset.content_type), asset.body).into_response())
}
