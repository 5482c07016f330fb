//! The analyzer's HTTP surface on :8080: the `/api/v1/…` JSON API, `/metrics`, `/healthz`,
//! `/readyz`, and the web UI at `/`: an overview per environment pair (coverage, composite
//! score and its parts, findings by severity, trend) and a service page that lays baseline and
//! candidate side by side. The UI is plain HTML, CSS and JavaScript from `analyzer/ui/`,
//! embedded in the binary, so it needs no network beyond the analyzer itself; its pages read
//! the JSON API.
//!
//! One way down: [`http`] builds the router from the route modules (`api` for the UI's JSON
//! endpoints, `assets` for its files), which answer through `error` and read `state`.

mod api;
mod assets;
mod error;
pub mod http;
mod state;
