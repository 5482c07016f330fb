//! The differences an environment of the shop can have from the shop as designed: one per
//! dimension of the comparison, so that a report against an environment with all of them
//! shows every kind of finding.

use std::fmt;

/// One planted difference from the shop as designed (and as prod runs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Drift {
    /// shop/recommendation does not run.
    Services,
    /// shop/payment sends no spans.
    MissingTraces,
    /// `app.orders.placed` has unit `1`; `app.cart.items` is a gauge.
    MetricDefinitions,
    /// `app.orders.placed` loses `app.payment.method`.
    LabelKeys,
    /// `app.cart.requests` carries `user.id`.
    Cardinality,
    /// checkout's `reserve inventory` is not instrumented.
    SpanOperations,
    /// frontend's SERVER spans lack `http.route`.
    SpanAttributes,
    /// frontend's outgoing `POST /checkout` is not a child of its `GET /api/checkout`.
    Edges,
    /// checkout's SERVER spans start new traces.
    ContextPropagation,
    /// Every trace is kept (`ot=th:0`) instead of one in four (`ot=th:c`).
    Sampling,
    /// checkout's `order.placed` events and log–trace correlation are missing.
    Logs,
    /// An older OpenTelemetry SDK and Python runtime.
    Versions,
    /// cart logs three times as much per request.
    Ingestion,
}

impl Drift {
    /// Every drift, one per dimension, in the order the report lists dimensions.
    pub const ALL: [Drift; 13] = [
        Drift::Services,
        Drift::MissingTraces,
        Drift::MetricDefinitions,
        Drift::LabelKeys,
        Drift::Cardinality,
        Drift::SpanOperations,
        Drift::SpanAttributes,
        Drift::Edges,
        Drift::ContextPropagation,
        Drift::Sampling,
        Drift::Logs,
        Drift::Versions,
        Drift::Ingestion,
    ];

    /// What staging does differently from prod with this drift, as the demo prints it.
    pub fn description(self) -> &'static str {
        match self {
            Drift::Services => "services: shop/recommendation runs in prod only",
            Drift::MissingTraces => "missing traces: shop/payment sends no spans in staging",
            Drift::MetricDefinitions => {
                "metric definitions: app.orders.placed has unit {order} in prod, 1 in staging; app.cart.items is a sum in prod, a gauge in staging"
            }
            Drift::LabelKeys => "label keys: app.orders.placed loses app.payment.method in staging",
            Drift::Cardinality => "cardinality: app.cart.requests carries user.id in staging",
            Drift::SpanOperations => {
                "span operations: checkout's `reserve inventory` is not instrumented in staging"
            }
            Drift::SpanAttributes => {
                "span attributes: frontend's SERVER spans lack http.route in staging"
            }
            Drift::Edges => {
                "edges: frontend's outgoing POST /checkout is not a child of its GET /api/checkout in staging"
            }
            Drift::ContextPropagation => {
                "context propagation: checkout's SERVER spans start new traces in staging"
            }
            Drift::Sampling => "sampling: prod samples at 25% (ot=th:c), staging at 100%",
            Drift::Logs => {
                "logs: checkout's order.placed events and log-trace correlation are missing in staging"
            }
            Drift::Versions => {
                "versions: staging runs an older OpenTelemetry SDK and Python runtime"
            }
            Drift::Ingestion => "ingestion: staging's cart logs three times as much per request",
        }
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}
