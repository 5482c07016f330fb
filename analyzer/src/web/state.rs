//! What the HTTP handlers share.

use std::sync::Arc;
use std::time::Duration;

use crate::evaluate::Evaluator;
use crate::exposition::AnalyzerMetrics;
use crate::store::Store;

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// Stored pushes and rollups, read for reports and service pages.
    pub store: Arc<Store>,
    /// The analyzer's own metrics, served at `/metrics`.
    pub metrics: Arc<AnalyzerMetrics>,
    /// The latest evaluations and their history.
    pub evaluator: Arc<Evaluator>,
    /// The range a report covers when the request does not say.
    pub default_since: Duration,
}
