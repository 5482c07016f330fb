//! End to end: the OpenTelemetry Python SDK (tests/apps/shop.py: frontend → checkout →
//! payment) exports over real OTLP/gRPC and OTLP/HTTP to a real `otel-parity receive`
//! process, and the snapshot it writes on SIGTERM must be the fingerprint that the shop's
//! traffic implies, down to the counts.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Expectations, ReceiverProcess, json_at, proto_u64};

/// Requests the shop simulates in the fingerprint tests.
const REQUESTS: u64 = 20;

/// Every fifth charge fails in payment (shop.py's ERROR_EVERY).
const ERROR_EVERY: u64 = 5;

/// The buckets shop.py configures for `http.server.request.duration` through a View.
const REQUEST_DURATION_BOUNDS: [f64; 10] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// How long the periodic snapshot may take to show everything the shop sent.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(15);

/// What one of the shop's services sends for `requests` requests.
struct ShopService {
    /// The fingerprint's service key: "namespace/name".
    key: &'static str,
    /// `service.version`, as shop.py's SERVICE_VERSIONS sets it.
    version: &'static str,
    /// Instrumentation scope of its tracer and meter.
    scope: &'static str,
    spans: u64,
    server_spans: u64,
    /// Log records by severity range.
    log_severities: Vec<(&'static str, u64)>,
    logs_with_trace_id: u64,
    metric_names: &'static [&'static str],
    /// Distinct (method, route, status code) series of `http.server.request.duration`.
    request_duration_series: f64,
}

impl ShopService {
    fn log_records(&self) -> u64 {
        self.log_severities.iter().map(|(_, count)| count).sum()
    }
}

fn shop_services(requests: u64) -> [ShopService; 3] {
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

/// What a test run produced: the shop's own summary, the snapshots and the receiver.
struct ShopRun {
    summary: Value,
    python_stderr: String,
    /// The first periodic snapshot that showed every span and log record, if one did in time.
    periodic_snapshot: Option<Value>,
    final_snapshot: Value,
    /// The same as written, for what a parsed `Value` loses: the order of map keys.
    final_snapshot_text: String,
    /// When SIGTERM was sent, Unix nanoseconds.
    stop_requested_unix_nano: u64,
    receiver_exit_ok: bool,
    receiver_exit: String,
    receiver: ReceiverProcess,
}

/// Starts the receiver with `receiver_args`, runs the shop against it and stops it.
fn run_shop(receiver_args: &[&str], protocol: &str, environment: &str, requests: u64) -> ShopRun {
    // Build (or find) the venv first: on a new machine that takes a while.
    support::python_venv();
    let mut receiver = ReceiverProcess::start(receiver_args);
    let requests_arg = requests.to_string();
    let output = support::run_python(
        &support::app_path("shop.py"),
        &[
            "--protocol",
            protocol,
            "--endpoint-grpc",
            &receiver.grpc_endpoint(),
            "--endpoint-http",
            &receiver.http_endpoint(),
            "--environment",
            environment,
            "--requests",
            &requests_arg,
        ],
        &[],
    );
    let python_stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "shop.py printed no JSON summary ({e})\n--- stdout ---\n{}\n--- stderr ---\n{python_stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    });

    let services = shop_services(requests);
    let spans: u64 = services.iter().map(|s| s.spans).sum();
    let logs: u64 = services.iter().map(ShopService::log_records).sum();
    let periodic_snapshot = receiver.wait_for_snapshot(SNAPSHOT_WAIT, |snapshot| {
        let items = |signal: &str| {
            proto_u64(json_at(snapshot, &["received", signal, "items"])).unwrap_or(0)
        };
        items("traces") >= spans && items("logs") >= logs
    });

    let stop_requested_unix_nano = support::unix_nanos_now();
    let exit = receiver.stop();
    let final_snapshot_text = receiver.read_snapshot_text().unwrap_or_else(|| {
        panic!(
            "no snapshot at {} after the receiver stopped ({exit})",
            receiver.snapshot_path().display()
        )
    });
    let final_snapshot = receiver.read_snapshot().unwrap_or(Value::Null);
    ShopRun {
        summary,
        python_stderr,
        periodic_snapshot,
        final_snapshot,
        final_snapshot_text,
        stop_requested_unix_nano,
        receiver_exit_ok: exit.success(),
        receiver_exit: exit.to_string(),
        receiver,
    }
}

impl ShopRun {
    /// The shop's summary and stderr, for a failure report (the receiver prints its own
    /// stderr when dropped during a panic).
    fn diagnostics(&self) -> String {
        format!(
            "--- shop.py summary ---\n{}\n--- shop.py stderr ---\n{}",
            support::excerpt(&self.summary, 6000),
            self.python_stderr
        )
    }

    /// What must hold of any run: the shop's exports all succeeded, the receiver stopped
    /// cleanly on SIGTERM and rewrote its snapshot then (maps sorted by key), and a periodic
    /// snapshot came first.
    fn expect_clean_run(&self, expect: &mut Expectations) {
        let services = json_at(&self.summary, &["services"])
            .cloned()
            .unwrap_or(Value::Null);
        for (name, service) in services.as_object().into_iter().flatten() {
            let failed = json_at(service, &["failed"]);
            expect.check(
                failed
                    .and_then(Value::as_object)
                    .is_none_or(|failed| failed.is_empty()),
                &format!("shop.py {name} exports"),
                "the receiver refused or failed some exports (see shop.py stderr)",
                failed,
            );
        }
        expect.check(
            self.receiver_exit_ok,
            "receiver exit after SIGTERM",
            format!("expected success, got {}", self.receiver_exit),
            None,
        );
        let window_end = proto_u64(json_at(&self.final_snapshot, &["windowEndUnixNano"]));
        expect.check(
            window_end
                .as_ref()
                .is_ok_and(|end| *end >= self.stop_requested_unix_nano),
            "final snapshot → windowEndUnixNano",
            format!(
                "expected a snapshot taken after SIGTERM (at or after {}), found {window_end:?}",
                self.stop_requested_unix_nano
            ),
            None,
        );
        let unsorted = support::unsorted_snapshot_maps(&self.final_snapshot_text);
        expect.check(
            unsorted.is_empty(),
            "final snapshot maps",
            format!(
                "{} map(s) not written sorted by key:\n      {}",
                unsorted.len(),
                unsorted.join("\n      ")
            ),
            None,
        );
        expect.check(
            self.periodic_snapshot.is_some(),
            "periodic snapshot",
            format!("no snapshot written every 1s showed all spans and log records within {SNAPSHOT_WAIT:?}"),
            self.receiver.read_snapshot().as_ref(),
        );
    }
}

#[test]
fn python_sdk_over_grpc_yields_expected_fingerprint() {
    shop_fingerprint_over("grpc");
}

#[test]
fn python_sdk_over_http_yields_expected_fingerprint() {
    shop_fingerprint_over("http");
}

#[test]
fn environment_flag_overrides_resource_attribute() {
    let requests = 3;
    let run = run_shop(&["--environment", "prod"], "grpc", "staging", requests);
    let snapshot = &run.final_snapshot;
    let mut expect = Expectations::new();
    run.expect_clean_run(&mut expect);
    expect.keys_eq("snapshot", snapshot, &["environments"], &["prod"]);
    expect.keys_eq(
        "environment prod",
        snapshot,
        &["environments", "prod", "services"],
        &["shop/checkout", "shop/frontend", "shop/payment"],
    );
    let services = shop_services(requests);
    for service in &services {
        let fingerprint = json_at(snapshot, &["environments", "prod", "services", service.key]);
        if let Some(fingerprint) = fingerprint {
            expect.u64_eq(
                service.key,
                fingerprint,
                &["ingestion", "traces", "items"],
                service.spans,
            );
        }
    }
    expect.u64_eq(
        "received",
        snapshot,
        &["received", "traces", "items"],
        services.iter().map(|s| s.spans).sum(),
    );
    expect.finish(
        "--environment prod over resource environment staging",
        &run.diagnostics(),
    );
}

fn shop_fingerprint_over(protocol: &str) {
    let run = run_shop(&[], protocol, "staging", REQUESTS);
    let mut expect = Expectations::new();
    run.expect_clean_run(&mut expect);
    expect_shop_fingerprint(&mut expect, &run.final_snapshot, &run.summary, REQUESTS);
    expect.finish(&format!("shop.py over OTLP/{protocol}"), &run.diagnostics());
}

/// Every expectation about the fingerprint of `requests` shop requests in environment
/// "staging", the environment coming from the resource attribute.
fn expect_shop_fingerprint(
    expect: &mut Expectations,
    snapshot: &Value,
    summary: &Value,
    requests: u64,
) {
    let services = shop_services(requests);

    expect.keys_eq("snapshot", snapshot, &["environments"], &["staging"]);
    let Some(environment) = json_at(snapshot, &["environments", "staging"]) else {
        return;
    };
    expect.keys_eq(
        "environment staging",
        environment,
        &["services"],
        &["shop/checkout", "shop/frontend", "shop/payment"],
    );

    for service in &services {
        let Some(fingerprint) = json_at(environment, &["services", service.key]) else {
            expect.fail(
                service.key,
                "service missing from environment staging",
                Some(environment),
            );
            continue;
        };
        let key = service.key;
        let (namespace, name) = key.split_once('/').unwrap_or(("", key));
        expect.str_eq(key, fingerprint, &["namespace"], namespace);
        expect.str_eq(key, fingerprint, &["name"], name);
        expect_resource(expect, service, fingerprint, summary);
        expect_request_duration(expect, service, fingerprint);
        expect_sampling(expect, service, fingerprint, requests);
        expect_logs(expect, service, fingerprint);
        expect_ingestion(expect, service, fingerprint, summary);
    }

    let service = |key: &str| json_at(environment, &["services", key]);
    if let Some(frontend) = service("shop/frontend") {
        expect_frontend_spans(expect, frontend, requests);
    }
    if let Some(checkout) = service("shop/checkout") {
        expect_checkout_spans(expect, checkout, requests);
        expect_orders_placed(expect, checkout);
    }
    if let Some(payment) = service("shop/payment") {
        expect_payment_spans(expect, payment, requests);
        expect_payments_inflight(expect, payment);
    }

    let all_spans: u64 = services.iter().map(|s| s.spans).sum();
    let all_logs: u64 = services.iter().map(ShopService::log_records).sum();
    let sent_points: u64 = ["frontend", "checkout", "payment"]
        .iter()
        .map(|name| summary_count(summary, name, "metric_points"))
        .sum();
    let received = json_at(snapshot, &["received"]).unwrap_or(&Value::Null);
    expect.u64_eq("received", received, &["traces", "items"], all_spans);
    expect.u64_eq("received", received, &["logs", "items"], all_logs);
    expect.u64_eq("received", received, &["metrics", "items"], sent_points);
    for signal in ["traces", "metrics", "logs"] {
        expect.u64_at_least("received", received, &[signal, "requests"], 1);
        expect.u64_eq("received", received, &[signal, "rejectedRequests"], 0);
        expect.u64_eq("received", received, &[signal, "rejectedItems"], 0);
        expect.u64_at_least("received", received, &[signal, "wireBytes"], 1);
    }
}

/// The frontend starts every trace: a SERVER span with no incoming context, and the CLIENT
/// span of its call to checkout.
fn expect_frontend_spans(expect: &mut Expectations, frontend: &Value, requests: u64) {
    let subject = "shop/frontend";
    expect_operations(
        expect,
        subject,
        frontend,
        &[
            ("GET /api/checkout", "SPAN_KIND_SERVER"),
            ("POST /checkout", "SPAN_KIND_CLIENT"),
        ],
    );
    if let Some(op) = span_operation(
        expect,
        subject,
        frontend,
        "GET /api/checkout",
        "SPAN_KIND_SERVER",
    ) {
        let s = "shop/frontend GET /api/checkout SERVER";
        expect.u64_eq(s, op, &["spans"], requests);
        expect.u64_eq(s, op, &["errors"], 0);
        expect.u64_eq(s, op, &["attributeKeys", "http.request.method"], requests);
        expect.u64_eq(s, op, &["attributeKeys", "http.route"], requests);
        expect.u64_eq(s, op, &["attributeKeys", "user_agent.original"], requests);
        expect.u64_eq(
            s,
            op,
            &["attributeKeys", "http.response.status_code"],
            requests,
        );
        expect.keys_eq(s, op, &["eventNames"], &[]);
        expect.u64_eq(s, op, &["duration", "count"], requests);
        // The storefront is where traces start: no incoming context.
        expect.u64_eq(s, op, &["propagation", "root"], requests);
        expect.u64_eq(s, op, &["propagation", "remoteParent"], 0);
    }
    if let Some(op) = span_operation(
        expect,
        subject,
        frontend,
        "POST /checkout",
        "SPAN_KIND_CLIENT",
    ) {
        let s = "shop/frontend POST /checkout CLIENT";
        expect.u64_eq(s, op, &["spans"], requests);
        expect.u64_eq(s, op, &["attributeKeys", "url.full"], requests);
    }
    expect_edges(
        expect,
        subject,
        frontend,
        &[(
            "shop/frontend",
            "GET /api/checkout",
            "SPAN_KIND_SERVER",
            "POST /checkout",
            "SPAN_KIND_CLIENT",
            requests,
        )],
    );
}

/// Checkout continues the frontend's trace (a remote parent), prepares the order and calls
/// payment.
fn expect_checkout_spans(expect: &mut Expectations, checkout: &Value, requests: u64) {
    let errors = requests / ERROR_EVERY;
    let subject = "shop/checkout";
    expect_operations(
        expect,
        subject,
        checkout,
        &[
            ("POST /charge", "SPAN_KIND_CLIENT"),
            ("POST /checkout", "SPAN_KIND_SERVER"),
            ("prepare order", "SPAN_KIND_INTERNAL"),
        ],
    );
    if let Some(op) = span_operation(
        expect,
        subject,
        checkout,
        "POST /checkout",
        "SPAN_KIND_SERVER",
    ) {
        let s = "shop/checkout POST /checkout SERVER";
        expect.u64_eq(s, op, &["spans"], requests);
        // Its parent is the frontend's CLIENT span, extracted from traceparent.
        expect.u64_eq(s, op, &["propagation", "remoteParent"], requests);
        expect.u64_eq(s, op, &["propagation", "root"], 0);
        expect.u64_eq(s, op, &["propagation", "localParent"], 0);
    }
    if let Some(op) = span_operation(
        expect,
        subject,
        checkout,
        "prepare order",
        "SPAN_KIND_INTERNAL",
    ) {
        let s = "shop/checkout prepare order INTERNAL";
        expect.u64_eq(s, op, &["spans"], requests);
        expect.u64_eq(s, op, &["attributeKeys", "app.order.items"], requests);
    }
    if let Some(op) = span_operation(
        expect,
        subject,
        checkout,
        "POST /charge",
        "SPAN_KIND_CLIENT",
    ) {
        let s = "shop/checkout POST /charge CLIENT";
        expect.u64_eq(s, op, &["spans"], requests);
        // A 503 from payment makes the client span an error too.
        expect.u64_eq(s, op, &["errors"], errors);
        expect.u64_eq(s, op, &["attributeKeys", "error.type"], errors);
    }
    expect_edges(
        expect,
        subject,
        checkout,
        &[
            (
                "shop/checkout",
                "POST /checkout",
                "SPAN_KIND_SERVER",
                "POST /charge",
                "SPAN_KIND_CLIENT",
                requests,
            ),
            (
                "shop/checkout",
                "POST /checkout",
                "SPAN_KIND_SERVER",
                "prepare order",
                "SPAN_KIND_INTERNAL",
                requests,
            ),
            (
                "shop/frontend",
                "POST /checkout",
                "SPAN_KIND_CLIENT",
                "POST /checkout",
                "SPAN_KIND_SERVER",
                requests,
            ),
        ],
    );
}

/// The business counter: monotonic, over three payment methods × two currencies.
fn expect_orders_placed(expect: &mut Expectations, checkout: &Value) {
    let s = "shop/checkout metric app.orders.placed";
    match json_at(checkout, &["metrics", "app.orders.placed"]) {
        None => expect.fail(s, "missing", json_at(checkout, &["metrics"])),
        Some(metric) => {
            expect_single_key(expect, s, metric, "types", "sum");
            expect_single_key(expect, s, metric, "units", "{order}");
            expect_single_key(expect, s, metric, "temporalities", "cumulative");
            expect.u64_at_least(s, metric, &["monotonicPoints"], 1);
            expect.u64_eq(s, metric, &["nonMonotonicPoints"], 0);
            expect.keys_eq(
                s,
                metric,
                &["attributeKeys"],
                &["app.currency", "app.payment.method"],
            );
            // Three payment methods × two currencies, all combined within 20 orders.
            expect.f64_near(s, metric, &["series", "estimate"], 6.0, 0.5);
            expect.f64_near(
                s,
                metric,
                &["attributeKeys", "app.payment.method", "values", "estimate"],
                3.0,
                0.5,
            );
            expect.f64_near(
                s,
                metric,
                &["attributeKeys", "app.currency", "values", "estimate"],
                2.0,
                0.5,
            );
        }
    }
}

/// Payment continues checkout's trace; every fifth charge fails with an exception event.
fn expect_payment_spans(expect: &mut Expectations, payment: &Value, requests: u64) {
    let errors = requests / ERROR_EVERY;
    let subject = "shop/payment";
    expect_operations(
        expect,
        subject,
        payment,
        &[("POST /charge", "SPAN_KIND_SERVER")],
    );
    if let Some(op) = span_operation(expect, subject, payment, "POST /charge", "SPAN_KIND_SERVER") {
        let s = "shop/payment POST /charge SERVER";
        expect.u64_eq(s, op, &["spans"], requests);
        expect.u64_eq(s, op, &["errors"], errors);
        expect.u64_map_eq(s, op, &["eventNames"], &[("exception", errors)]);
        expect.u64_eq(s, op, &["attributeKeys", "error.type"], errors);
        expect.u64_eq(s, op, &["attributeKeys", "app.payment.method"], requests);
        expect.u64_eq(s, op, &["propagation", "remoteParent"], requests);
        expect.u64_eq(s, op, &["propagation", "root"], 0);
    }
    expect_edges(
        expect,
        subject,
        payment,
        &[(
            "shop/checkout",
            "POST /charge",
            "SPAN_KIND_CLIENT",
            "POST /charge",
            "SPAN_KIND_SERVER",
            requests,
        )],
    );
}

/// The in-flight up-down counter: non-monotonic sum points.
fn expect_payments_inflight(expect: &mut Expectations, payment: &Value) {
    let s = "shop/payment metric app.payment.inflight";
    match json_at(payment, &["metrics", "app.payment.inflight"]) {
        None => expect.fail(s, "missing", json_at(payment, &["metrics"])),
        Some(metric) => {
            expect_single_key(expect, s, metric, "types", "sum");
            expect_single_key(expect, s, metric, "units", "{payment}");
            expect.u64_at_least(s, metric, &["nonMonotonicPoints"], 1);
            expect.u64_eq(s, metric, &["monotonicPoints"], 0);
        }
    }
}

/// The resource shape: allowlisted values, keys, and one instance per service.
fn expect_resource(
    expect: &mut Expectations,
    service: &ShopService,
    fingerprint: &Value,
    summary: &Value,
) {
    let s = format!("{} resource", service.key);
    let Some(resource) = json_at(fingerprint, &["resource"]) else {
        expect.fail(&s, "missing", Some(fingerprint));
        return;
    };
    expect.keys_eq(
        &s,
        resource,
        &["allowedValues", "service.version", "values"],
        &[service.version],
    );
    expect.keys_eq(
        &s,
        resource,
        &["allowedValues", "telemetry.sdk.language", "values"],
        &["python"],
    );
    expect.keys_eq(
        &s,
        resource,
        &["allowedValues", "telemetry.sdk.name", "values"],
        &["opentelemetry"],
    );
    if let Some(sdk_version) = json_at(summary, &["sdk_version"]).and_then(Value::as_str) {
        expect.keys_eq(
            &s,
            resource,
            &["allowedValues", "telemetry.sdk.version", "values"],
            &[sdk_version],
        );
    }
    expect.keys_include(
        &s,
        resource,
        &["attributeKeys"],
        &[
            "deployment.environment.name",
            "service.instance.id",
            "service.name",
            "service.namespace",
            "service.version",
            "telemetry.sdk.language",
        ],
    );
    // One resource block per export request per signal, so at least one per signal.
    expect.u64_at_least(&s, resource, &["resources"], 3);
    expect.f64_near(&s, resource, &["instances", "estimate"], 1.0, 0.5);
    expect.keys_include(&s, resource, &["scopes"], &[service.scope]);
}

/// `http.server.request.duration`, which every service records once per SERVER span.
fn expect_request_duration(expect: &mut Expectations, service: &ShopService, fingerprint: &Value) {
    expect.keys_eq(service.key, fingerprint, &["metrics"], service.metric_names);
    let s = format!("{} metric http.server.request.duration", service.key);
    let Some(metric) = json_at(fingerprint, &["metrics", "http.server.request.duration"]) else {
        return;
    };
    expect_single_key(expect, &s, metric, "types", "histogram");
    expect_single_key(expect, &s, metric, "units", "s");
    expect_single_key(expect, &s, metric, "temporalities", "cumulative");
    expect.u64_at_least(&s, metric, &["dataPoints"], 1);
    let layouts = json_at(metric, &["bucketLayouts"]).and_then(Value::as_array);
    let bounds: Option<Vec<f64>> = layouts
        .filter(|layouts| layouts.len() == 1)
        .and_then(|layouts| json_at(&layouts[0], &["bounds"]))
        .and_then(Value::as_array)
        .map(|bounds| bounds.iter().filter_map(Value::as_f64).collect());
    expect.check(
        bounds.as_deref() == Some(&REQUEST_DURATION_BOUNDS[..]),
        &format!("{s} → bucketLayouts"),
        format!("expected one layout with bounds {REQUEST_DURATION_BOUNDS:?}"),
        Some(metric),
    );
    expect.keys_eq(
        &s,
        metric,
        &["attributeKeys"],
        &[
            "http.request.method",
            "http.response.status_code",
            "http.route",
        ],
    );
    expect.f64_near(
        &s,
        metric,
        &["series", "estimate"],
        service.request_duration_series,
        0.5,
    );
}

/// Every span carries `ot=th:c` (probability 0.25); requests counted by the request-duration
/// histogram (cumulative points turned into deltas) match the SERVER spans one to one.
fn expect_sampling(
    expect: &mut Expectations,
    service: &ShopService,
    fingerprint: &Value,
    requests: u64,
) {
    let s = format!("{} sampling", service.key);
    let Some(sampling) = json_at(fingerprint, &["sampling"]) else {
        expect.fail(&s, "missing", Some(fingerprint));
        return;
    };
    let thresholds = json_at(sampling, &["thresholds"]).and_then(Value::as_array);
    match thresholds.map(Vec::as_slice) {
        Some([only]) => {
            expect.str_eq(&s, only, &["threshold"], "c");
            expect.f64_near(&s, only, &["probability"], 0.25, 1e-12);
            expect.u64_eq(&s, only, &["spans"], service.spans);
        }
        _ => expect.fail(
            &format!("{s} → thresholds"),
            format!(
                "expected exactly [{{threshold \"c\", probability 0.25, spans {}}}]",
                service.spans
            ),
            Some(sampling),
        ),
    }
    expect.u64_eq(&s, sampling, &["spansWithoutThreshold"], 0);
    expect.u64_eq(&s, sampling, &["serverSpans"], service.server_spans);
    // Adjusted count 1 / 0.25 = 4 per SERVER span.
    expect.f64_near(
        &s,
        sampling,
        &["serverSpansAdjusted"],
        4.0 * service.server_spans as f64,
        1e-9,
    );
    expect.u64_eq(&s, sampling, &["serverSpansWithoutThreshold"], 0);
    expect.u64_eq(&s, sampling, &["requestMetricCount"], requests);
    expect.f64_near(
        &s,
        sampling,
        &["inferredRate"],
        service.server_spans as f64 / requests as f64,
        1e-9,
    );
}

fn expect_logs(expect: &mut Expectations, service: &ShopService, fingerprint: &Value) {
    let s = format!("{} logs", service.key);
    let logs = json_at(fingerprint, &["logs"]).unwrap_or(&Value::Null);
    expect.u64_eq(&s, logs, &["records"], service.log_records());
    expect.u64_map_eq(&s, logs, &["severities"], &service.log_severities);
    expect.u64_eq(&s, logs, &["withTraceId"], service.logs_with_trace_id);
    let body_kinds: Vec<(&str, u64)> = if service.log_records() > 0 {
        vec![("string", service.log_records())]
    } else {
        vec![]
    };
    expect.u64_map_eq(&s, logs, &["bodyKinds"], &body_kinds);
    if service.log_records() > 0 {
        // The SDK's logging bridge adds code.* attributes to every record.
        expect.u64_eq(
            &s,
            logs,
            &["attributeKeys", "code.function.name"],
            service.log_records(),
        );
    }
}

fn expect_ingestion(
    expect: &mut Expectations,
    service: &ShopService,
    fingerprint: &Value,
    summary: &Value,
) {
    let s = format!("{} ingestion", service.key);
    let ingestion = json_at(fingerprint, &["ingestion"]).unwrap_or(&Value::Null);
    expect.u64_eq(&s, ingestion, &["traces", "items"], service.spans);
    expect.u64_eq(&s, ingestion, &["logs", "items"], service.log_records());
    let short_name = service.key.trim_start_matches("shop/");
    expect.u64_eq(
        &s,
        ingestion,
        &["metrics", "items"],
        summary_count(summary, short_name, "metric_points"),
    );
    for signal in ["traces", "metrics", "logs"] {
        expect.u64_at_least(&s, ingestion, &[signal, "requests"], 1);
        expect.u64_at_least(&s, ingestion, &[signal, "bytes"], 1);
    }
}

/// What shop.py's summary says a service's exporters sent of one kind (spans, logs,
/// metric_points).
fn summary_count(summary: &Value, service: &str, what: &str) -> u64 {
    json_at(summary, &["services", service, "sent", what])
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// The map `field` of `metric` has exactly one key, `key`, with a non-zero count.
fn expect_single_key(
    expect: &mut Expectations,
    subject: &str,
    metric: &Value,
    field: &str,
    key: &str,
) {
    expect.keys_eq(subject, metric, &[field], &[key]);
    expect.u64_at_least(subject, metric, &[field, key], 1);
}

/// The service's span operations are exactly `expected` (name, kind), in the documented order:
/// by name, then kind.
fn expect_operations(
    expect: &mut Expectations,
    subject: &str,
    fingerprint: &Value,
    expected: &[(&str, &str)],
) {
    let found: Vec<(String, String)> = json_at(fingerprint, &["spanOperations"])
        .and_then(Value::as_array)
        .map(|ops| {
            ops.iter()
                .map(|op| (str_field(op, "name"), str_field(op, "kind")))
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(name, kind)| ((*name).to_owned(), (*kind).to_owned()))
        .collect();
    expect.check(
        found == expected,
        &format!("{subject} → spanOperations"),
        format!("expected (name, kind) {expected:?} in this order, found {found:?}"),
        None,
    );
}

/// The span operation `name`/`kind` of a service; a failure if it is missing.
fn span_operation<'a>(
    expect: &mut Expectations,
    subject: &str,
    fingerprint: &'a Value,
    name: &str,
    kind: &str,
) -> Option<&'a Value> {
    let ops = json_at(fingerprint, &["spanOperations"]).and_then(Value::as_array);
    let found = ops.into_iter().flatten().find(|op| {
        json_at(op, &["name"]).and_then(Value::as_str) == Some(name)
            && json_at(op, &["kind"]).and_then(Value::as_str) == Some(kind)
    });
    if found.is_none() {
        expect.fail(
            &format!("{subject} → spanOperations"),
            format!("no operation {name:?} of kind {kind}"),
            json_at(fingerprint, &["spanOperations"]),
        );
    }
    found
}

/// A parent→child edge as the test compares it; `count` keeps a malformed count's error.
#[derive(PartialEq)]
struct Edge {
    parent_service: String,
    parent_operation: String,
    parent_kind: String,
    child_operation: String,
    child_kind: String,
    count: Result<u64, String>,
}

impl std::fmt::Display for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?} {} → {:?} {}: {:?}",
            self.parent_service,
            self.parent_operation,
            self.parent_kind,
            self.child_operation,
            self.child_kind,
            self.count
        )
    }
}

/// The service's edges are exactly `expected` (parent service, parent operation, parent
/// kind, child operation, child kind, count), in the documented order.
fn expect_edges(
    expect: &mut Expectations,
    subject: &str,
    fingerprint: &Value,
    expected: &[(&str, &str, &str, &str, &str, u64)],
) {
    let found: Vec<Edge> = json_at(fingerprint, &["edges"])
        .and_then(Value::as_array)
        .map(|edges| {
            edges
                .iter()
                .map(|edge| Edge {
                    parent_service: str_field(edge, "parentService"),
                    parent_operation: str_field(edge, "parentOperation"),
                    parent_kind: str_field(edge, "parentKind"),
                    child_operation: str_field(edge, "childOperation"),
                    child_kind: str_field(edge, "childKind"),
                    count: proto_u64(json_at(edge, &["count"])),
                })
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<Edge> = expected
        .iter()
        .map(|(ps, po, pk, co, ck, count)| Edge {
            parent_service: (*ps).to_owned(),
            parent_operation: (*po).to_owned(),
            parent_kind: (*pk).to_owned(),
            child_operation: (*co).to_owned(),
            child_kind: (*ck).to_owned(),
            count: Ok(*count),
        })
        .collect();
    if found != expected {
        let describe = |edges: &[Edge]| {
            edges
                .iter()
                .map(|edge| format!("\n      {edge}"))
                .collect::<String>()
        };
        expect.fail(
            &format!("{subject} → edges"),
            format!(
                "expected, in this order:{}\n    found:{}",
                describe(&expected),
                describe(&found)
            ),
            None,
        );
    }
}

/// A string field of a JSON object; "" when absent (the proto3 zero value).
fn str_field(value: &Value, field: &str) -> String {
    json_at(value, &[field])
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
