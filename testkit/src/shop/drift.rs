//! The differences an environment of the shop can have from the shop as designed: one per
//! dimension of the comparison, so that a report against an environment with all of them
//! shows every kind of finding.

use std::fmt;

/// One planted difference from the shop as designed (and as prod runs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Drift {
    /// shop/recommendation does not run.
    RecommendationGone,
    /// shop/payment sends no spans.
    PaymentUntraced,
    /// `app.orders.placed` has unit `1`; `app.cart.items` is a gauge.
    MetricsRedefined,
    /// `app.orders.placed` loses `app.payment.method`.
    PaymentMethodDropped,
    /// `app.cart.requests` carries `user.id`.
    UserIdOnCartRequests,
    /// checkout's `reserve inventory` is not instrumented.
    InventoryUninstrumented,
    /// frontend's SERVER spans lack `http.route`.
    FrontendRouteMissing,
    /// frontend's outgoing `POST /checkout` is not a child of its `GET /api/checkout`.
    ClientDetached,
    /// checkout's SERVER spans start new traces.
    ContextNotExtracted,
    /// Every trace is kept (`ot=th:0`) instead of one in four (`ot=th:c`).
    FullSampling,
    /// checkout's `order.placed` events and log–trace correlation are missing.
    OrderEventsMissing,
    /// An older OpenTelemetry SDK and Python runtime.
    OlderSdk,
    /// cart logs three times as much per request.
    ChattyCartLogs,
    /// cart's HTTP instrumentation predates semconv 1.22: `http.server.duration` in ms with
    /// `http.method` and `http.status_code`.
    OldHttpSemconv,
}

impl Drift {
    /// Every drift, one per dimension of the comparison, in the order the demo lists them.
    pub const ALL: [Drift; 14] = [
        Drift::RecommendationGone,
        Drift::PaymentUntraced,
        Drift::MetricsRedefined,
        Drift::PaymentMethodDropped,
        Drift::UserIdOnCartRequests,
        Drift::InventoryUninstrumented,
        Drift::FrontendRouteMissing,
        Drift::ClientDetached,
        Drift::ContextNotExtracted,
        Drift::FullSampling,
        Drift::OrderEventsMissing,
        Drift::OlderSdk,
        Drift::ChattyCartLogs,
        Drift::OldHttpSemconv,
    ];

    /// What staging does differently from prod with this drift, as the demo prints it.
    pub fn description(self) -> &'static str {
        match self {
            Drift::RecommendationGone => "services: shop/recommendation runs in prod only",
            Drift::PaymentUntraced => "missing traces: shop/payment sends no spans in staging",
            Drift::MetricsRedefined => {
                "metric definitions: app.orders.placed has unit {order} in prod, 1 in staging; app.cart.items is a sum in prod, a gauge in staging"
            }
            Drift::PaymentMethodDropped => {
                "label keys: app.orders.placed loses app.payment.method in staging"
            }
            Drift::UserIdOnCartRequests => {
                "cardinality: app.cart.requests carries user.id in staging"
            }
            Drift::InventoryUninstrumented => {
                "span operations: checkout's `reserve inventory` is not instrumented in staging"
            }
            Drift::FrontendRouteMissing => {
                "span attributes: frontend's SERVER spans lack http.route in staging"
            }
            Drift::ClientDetached => {
                "edges: frontend's outgoing POST /checkout is not a child of its GET /api/checkout in staging"
            }
            Drift::ContextNotExtracted => {
                "context propagation: checkout's SERVER spans start new traces in staging"
            }
            Drift::FullSampling => "sampling: prod samples at 25% (ot=th:c), staging at 100%",
            Drift::OrderEventsMissing => {
                "logs: checkout's order.placed events and log-trace correlation are missing in staging"
            }
            Drift::OlderSdk => {
                "versions: staging runs an older OpenTelemetry SDK and Python runtime"
            }
            Drift::ChattyCartLogs => {
                "ingestion: staging's cart logs three times as much per request"
            }
            Drift::OldHttpSemconv => {
                "semconv: staging's cart emits http.server.duration (ms, http.method) where prod emits http.server.request.duration (s, http.request.method)"
            }
        }
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}
