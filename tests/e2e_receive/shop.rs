//! The shop's traffic: what tests/apps/shop.py's services send for a number of requests, and
//! what its JSON summary says they sent.

use serde_json::Value;

use otel_parity_testkit::e2e::json_at;

/// Requests the shop simulates in the fingerprint tests.
pub const REQUESTS: u64 = 20;

/// Every fifth charge fails in payment (shop.py's ERROR_EVERY).
pub const ERROR_EVERY: u64 = 5;

/// The buckets shop.py configures for `http.server.request.duration` through a View.
pub const REQUEST_DURATION_BOUNDS: [f64; 10] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// What one of the shop's services sends for `requests` requests.
pub struct ShopService {
    /// The fingerprint's service key: "namespace/name".
    pub key: &'static str,
    /// `service.version`, as shop.py's SERVICE_VERSIONS sets it.
    pub version: &'static str,
    /// Instrumentation scope of its tracer and meter.
    pub scope: &'static str,
    pub spans: u64,
    pub server_spans: u64,
    /// Log records by severity range.
    pub log_severities: Vec<(&'static str, u64)>,
    pub logs_with_trace_id: u64,
    pub metric_names: &'static [&'static str],
    /// Distinct (method, route, status code) series of `http.server.request.duration`.
    pub request_duration_series: f64,
}

impl ShopService {
    pub fn log_records(&self) -> u64 {
        self.log_severities.iter().map(|(_, count)| count).sum()
    }
}

pub fn shop_services(requests: u64) -> [ShopService; 3] {
    let errors = requests / ERROR_EVERY;
    [
        ShopService {
            key: "shop/frontend",
            version: "2.3.1",
            scope: "shop.frontend",
            // GET /api/checkout (SERVER) and POST /checkout (CLIENT) per request.
            spans: 2 * requests,
            server_spans: requests,
            // One DEBUG before and one ERROR after the requests, both outside any span.
            log_severities: vec![("DEBUG", 1), ("ERROR", 1)],
            logs_with_trace_id: 0,
            metric_names: &["http.server.request.duration"],
            request_duration_series: 1.0,
        },
        ShopService {
            key: "shop/checkout",
            version: "1.8.0",
            scope: "shop.checkout",
            // POST /checkout (SERVER), prepare order (INTERNAL), POST /charge (CLIENT).
            spans: 3 * requests,
            server_spans: requests,
            log_severities: vec![("INFO", requests)],
            logs_with_trace_id: requests,
            metric_names: &["app.orders.placed", "http.server.request.duration"],
            request_duration_series: 1.0,
        },
        ShopService {
            key: "shop/payment",
            version: "0.9.4",
            scope: "shop.payment",
            // POST /charge (SERVER).
            spans: requests,
            server_spans: requests,
            log_severities: if errors > 0 {
                vec![("WARN", errors)]
            } else {
                vec![]
            },
            logs_with_trace_id: errors,
            metric_names: &["app.payment.inflight", "http.server.request.duration"],
            // Status codes 200 and 503.
            request_duration_series: if errors > 0 { 2.0 } else { 1.0 },
        },
    ]
}

/// What shop.py's summary says a service's exporters sent of one kind (spans, logs,
/// metric_points).
pub fn summary_count(summary: &Value, service: &str, what: &str) -> u64 {
    json_at(summary, &["services", service, "sent", what])
        .and_then(Value::as_u64)
        .unwrap_or(0)
}
