//! The label sets of the analyzer's metric families.

use prometheus_client::encoding::EncodeLabelSet;

/// Labels of one comparison: the environment pair.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PairLabels {
    /// The baseline environment.
    pub baseline: String,
    /// The candidate environment.
    pub candidate: String,
}

/// Labels of one service in one comparison.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    /// The baseline environment.
    pub baseline: String,
    /// The candidate environment.
    pub candidate: String,
    /// The service key (`namespace/name`).
    pub service: String,
}

/// Labels of one signal of one service in one comparison.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignalLabels {
    /// The baseline environment.
    pub baseline: String,
    /// The candidate environment.
    pub candidate: String,
    /// The service key.
    pub service: String,
    /// `traces`, `metrics` or `logs`.
    pub signal: String,
}

/// Labels of open findings.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    /// The baseline environment.
    pub baseline: String,
    /// The candidate environment.
    pub candidate: String,
    /// `critical` … `info`.
    pub severity: String,
    /// The comparison's dimension (`missing_traces`, `sampling`, …).
    pub dimension: String,
}

/// Labels of one service's open findings of one severity.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceFindingLabels {
    /// The baseline environment.
    pub baseline: String,
    /// The candidate environment.
    pub candidate: String,
    /// The service key, or [`super::OTHER_SERVICES`] past the services cap.
    pub service: String,
    /// `critical` … `info`.
    pub severity: String,
}

/// Labels of one service's sampling in one environment.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SamplingLabels {
    /// The environment.
    pub environment: String,
    /// The service key.
    pub service: String,
    /// Where the rate comes from: `requests` or `threshold`.
    pub source: String,
}

/// Labels of comparison events by result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// The baseline environment.
    pub baseline: String,
    /// The candidate environment.
    pub candidate: String,
    /// `covered` or `uncovered`.
    pub result: String,
}

/// Labels of pushes by result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PushLabels {
    /// `stored`, `duplicate`, `invalid` or `error`.
    pub result: String,
}

/// Labels of requests judged by bearer-token authentication.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    /// `push`, `api` or `metrics`.
    pub listener: String,
    /// `accepted`, `missing`, `malformed` or `invalid`.
    pub result: String,
}
