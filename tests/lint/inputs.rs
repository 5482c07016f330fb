//! Inputs: snapshot files, OTLP/JSON (the Collector file exporter's lines) and directories
//! of both, merged by service.

use serde_json::{Value, json};

use super::{arg, clean_snapshot, metric, run, snapshot, write_json};
use otel_parity_testkit::e2e::ScratchDir;

/// One Collector file-exporter line: an OTLP/JSON metrics export request from service
/// `shop/<service>` with a cumulative monotonic sum `name` in `unit`, and a histogram of
/// `http.server.duration` in `ms` carrying the deprecated key `http.method`.
pub fn otlp_metrics_line(service: &str, name: &str, unit: &str) -> String {
    let request = json!({
        "resourceMetrics": [{
            "resource": { "attributes": [
                { "key": "service.name", "value": { "stringValue": service } },
                { "key": "service.namespace", "value": { "stringValue": "shop" } },
                { "key": "deployment.environment.name", "value": { "stringValue": "ci" } },
            ]},
            "scopeMetrics": [{
                "scope": { "name": format!("shop.{service}"), "version": "1.0.0" },
                "metrics": [
                    {
                        "name": name,
                        "unit": unit,
                        "sum": {
                            "aggregationTemporality": 2,
                            "isMonotonic": true,
                            "dataPoints": [{
                                "attributes": [{ "key": "app.currency", "value": { "stringValue": "EUR" } }],
                                "startTimeUnixNano": "1700000000000000000",
                                "timeUnixNano": "1700000010000000000",
                                "asInt": "7",
                            }],
                        },
                    },
                    {
                        "name": "http.server.duration",
                        "unit": "ms",
                        "histogram": {
                            "aggregationTemporality": 2,
                            "dataPoints": [{
                                "attributes": [{ "key": "http.method", "value": { "stringValue": "GET" } }],
                                "startTimeUnixNano": "1700000000000000000",
                                "timeUnixNano": "1700000010000000000",
                                "count": "3",
                                "sum": 42.0,
                                "bucketCounts": ["1", "2", "0"],
                                "explicitBounds": [10.0, 100.0],
                            }],
                        },
                    },
                ],
            }],
        }],
    });
    serde_json::to_string(&request).expect("serializes")
}

fn json_report(args: &[&str]) -> Value {
    let result = run(args);
    assert!(
        matches!(result.code, Some(0 | 1)),
        "{args:?}: {}",
        result.stderr
    );
    serde_json::from_str(&result.stdout).unwrap_or_else(|e| panic!("{e}: {}", result.stdout))
}

fn rule_ids(report: &Value, service: &str) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["service"] == service)
        .map(|f| f["ruleId"].as_str().expect("ruleId is a string").to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn otlp_json_lines_are_fingerprinted_and_linted() {
    let dir = ScratchDir::new("lint-otlp");
    let input = dir.path().join("metrics.jsonl");
    let lines = [
        otlp_metrics_line("cart", "app.cart.items_total", "items"),
        otlp_metrics_line("cart", "app.cart.items_total", "items"),
    ];
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let report = json_report(&["--format", "json", &arg(&input)]);
    assert_eq!(report["summary"]["services"], 1);
    assert_eq!(
        rule_ids(&report, "shop/cart"),
        ["OTP-M006", "OTP-M009", "OTP-M010", "OTP-S001", "OTP-S002"],
        "{report:#}"
    );
    let deprecated = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["ruleId"] == "OTP-S002")
        .unwrap();
    assert_eq!(
        deprecated["message"],
        "attribute `http.method` was renamed `http.request.method` in semconv 1.21.0; seen on metric `http.server.duration`"
    );
}

#[test]
fn a_directory_merges_its_snapshots_and_otlp_files_by_service() {
    let dir = ScratchDir::new("lint-dir");
    let inputs = dir.path().join("captures");
    std::fs::create_dir(&inputs).unwrap();
    write_json(&inputs.join("a-snapshot.json"), &clean_snapshot());
    std::fs::write(
        inputs.join("b-collector.jsonl"),
        otlp_metrics_line("checkout", "app.orders.placed", "{order}") + "\n",
    )
    .unwrap();
    // Ignored: not *.json / *.jsonl.
    std::fs::write(inputs.join("notes.txt"), "not telemetry").unwrap();
    // The same service from another environment, with the cart's metric in `ms`.
    let other = dir.path().join("staging.json");
    write_json(
        &other,
        &snapshot(
            "staging",
            &[(
                "shop/cart",
                json!({ "app.cart.items": metric("sum", "{items}", &[("app.currency", 2.0)], &[]) }),
                &[],
            )],
        ),
    );
    let report = json_report(&["--format", "json", &arg(&inputs), &arg(&other)]);
    assert_eq!(report["summary"]["services"], 2, "{report:#}");
    // The OTLP file adds the deprecated metric and key to checkout.
    assert_eq!(
        rule_ids(&report, "shop/checkout"),
        ["OTP-M009", "OTP-S001", "OTP-S002"]
    );
    // Two environments of the cart disagree on the unit of app.cart.items.
    assert_eq!(rule_ids(&report, "shop/cart"), ["OTP-D001"]);
    let conflict = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["ruleId"] == "OTP-D001")
        .unwrap();
    assert_eq!(
        conflict["message"],
        "`app.cart.items` is recorded with units `{items}` (shop/cart) and `{item}` (shop/cart)"
    );
}
