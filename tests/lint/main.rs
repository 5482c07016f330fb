//! End to end: `otel-parity lint` as a process, on snapshot files, OTLP/JSON files and
//! directories; its exit codes; its reports checked by real tools (the SARIF 2.1.0 schema,
//! an XML parser); and captures made by the real OpenTelemetry Python SDK through
//! `otel-parity receive`.

mod exit_codes;
mod inputs;
mod reports;
mod sdk;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use otel_parity_testkit::e2e;
use serde_json::{Value, json};

/// How long one lint run may take.
const LINT_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `otel-parity lint ARGS` to completion.
fn lint(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_otel-parity"));
    command.arg("lint").args(args);
    e2e::run_with_timeout(
        &mut command,
        LINT_TIMEOUT,
        &format!("otel-parity lint {}", args.join(" ")),
    )
}

/// The exit code, stdout and stderr of a run, for assertions and failure messages.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let output = lint(args);
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl Run {
    /// Panics unless the run exited with `code`.
    fn expect_code(&self, code: i32, what: &str) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "{what}: expected exit {code}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A path as the CLI takes it.
fn arg(path: &Path) -> String {
    path.display().to_string()
}

/// A metric shape in the snapshot's proto3 JSON: `kind` with `unit`, `points` data points,
/// attribute keys with their distinct-value estimates, and bucket bounds for histograms.
fn metric(kind: &str, unit: &str, attributes: &[(&str, f64)], bounds: &[f64]) -> Value {
    let points = "12";
    let mut shape = json!({
        "types": { kind: points },
        "units": { unit: points },
        "dataPoints": points,
        "series": { "estimate": 2.0 },
        "attributeKeys": attributes
            .iter()
            .map(|(key, estimate)| ((*key).to_owned(), json!({ "count": points, "values": { "estimate": estimate } })))
            .collect::<serde_json::Map<String, Value>>(),
    });
    if kind == "sum" || kind == "histogram" {
        shape["temporalities"] = json!({ "cumulative": points });
    }
    if kind == "sum" {
        shape["monotonicPoints"] = json!(points);
    }
    if !bounds.is_empty() {
        shape["bucketLayouts"] = json!([{ "bounds": bounds, "dataPoints": points }]);
    }
    shape
}

/// One service of a test snapshot: key, metrics by name, span operations as (name, kind).
type ServiceCapture<'a> = (&'a str, Value, &'a [(&'a str, &'a str)]);

/// A snapshot (proto3 JSON of `parity.v1.Snapshot`) of one environment with `services`:
/// key → (metrics by name, span operations as (name, kind)).
fn snapshot(environment: &str, services: &[ServiceCapture<'_>]) -> Value {
    let services: serde_json::Map<String, Value> = services
        .iter()
        .map(|(key, metrics, spans)| {
            let (namespace, name) = key.split_once('/').unwrap_or(("", key));
            let spans: Vec<Value> = spans
                .iter()
                .map(|(name, kind)| json!({ "name": name, "kind": kind, "spans": "12" }))
                .collect();
            let service = json!({
                "namespace": namespace,
                "name": name,
                "metrics": metrics,
                "spanOperations": spans,
            });
            ((*key).to_owned(), service)
        })
        .collect();
    json!({
        "receiverInstance": "ci-runner-1",
        "windowStartUnixNano": "1700000000000000000",
        "windowEndUnixNano": "1700000060000000000",
        "environments": { environment: { "services": services } },
    })
}

/// The shop's checkout and cart as a CI capture that follows every convention.
fn clean_snapshot() -> Value {
    snapshot(
        "ci",
        &[
            (
                "shop/checkout",
                json!({
                    "http.server.request.duration": metric("histogram", "s", &[("http.request.method", 2.0), ("http.route", 3.0), ("http.response.status_code", 2.0)], &[0.005, 0.01, 0.1, 1.0]),
                    "app.orders.placed": metric("sum", "{order}", &[("app.currency", 2.0), ("app.payment.method", 3.0)], &[]),
                }),
                &[
                    ("POST /checkout", "SPAN_KIND_SERVER"),
                    ("prepare order", "SPAN_KIND_INTERNAL"),
                ],
            ),
            (
                "shop/cart",
                json!({
                    "http.server.request.duration": metric("histogram", "s", &[("http.request.method", 2.0), ("http.route", 2.0)], &[0.005, 0.01, 0.1, 1.0]),
                    "app.cart.items": metric("sum", "{item}", &[("app.currency", 2.0)], &[]),
                }),
                &[("GET /cart", "SPAN_KIND_SERVER")],
            ),
        ],
    )
}

/// Writes `value` as pretty JSON to `path`.
fn write_json(path: &Path, value: &Value) {
    let text = serde_json::to_string_pretty(value).expect("serializes");
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
