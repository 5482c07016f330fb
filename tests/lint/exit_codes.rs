//! Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad usage or unreadable input,
//! rules file or baseline, with the reason on one line.

use serde_json::json;

use super::{arg, clean_snapshot, metric, run, snapshot, write_json};
use otel_parity_testkit::e2e::ScratchDir;

/// Asserts exit 2 with one `otel-parity: error: …` line on stderr that contains `reason`.
fn expect_bad_input(args: &[&str], reason: &str) {
    let result = run(args);
    result.expect_code(2, reason);
    let lines: Vec<&str> = result.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one line of stderr for {args:?}: {:?}",
        result.stderr
    );
    assert!(
        lines[0].starts_with("otel-parity: error: ") && lines[0].contains(reason),
        "{args:?}: expected {reason:?} in {:?}",
        lines[0]
    );
    assert_eq!(result.stdout, "", "no report when the input is bad");
}

#[test]
fn a_clean_capture_exits_0_and_says_so() {
    let dir = ScratchDir::new("lint-clean");
    let input = dir.path().join("out.json");
    write_json(&input, &clean_snapshot());
    let result = run(&[&arg(&input)]);
    result.expect_code(0, "clean snapshot");
    assert_eq!(
        result.stdout,
        "otel-parity lint: 0 errors, 0 warnings, 0 info in 2 services: passed (--fail-on error)\n"
    );
    run(&["--fail-on", "info", &arg(&input)]).expect_code(0, "clean at --fail-on info");
}

#[test]
fn findings_exit_1_at_or_above_fail_on_and_0_below() {
    let dir = ScratchDir::new("lint-fail-on");
    let warnings_only = dir.path().join("warnings.json");
    // A gauge without a unit is a warning (OTP-M007) and nothing else.
    write_json(
        &warnings_only,
        &snapshot(
            "ci",
            &[(
                "shop/cart",
                json!({ "app.cart.size": metric("gauge", "", &[], &[]) }),
                &[],
            )],
        ),
    );
    let path = arg(&warnings_only);
    run(&[&path]).expect_code(0, "warnings below the default --fail-on error");
    let failed = run(&["--fail-on", "warning", &path]);
    failed.expect_code(1, "warnings at --fail-on warning");
    assert!(
        failed.stdout.contains("OTP-M007 metric-unit-missing"),
        "{}",
        failed.stdout
    );
    run(&["--fail-on", "info", &path]).expect_code(1, "warnings above --fail-on info");

    // A duration in ms is one of the clear breaks (OTP-M009): an error by default.
    let millis = dir.path().join("millis.json");
    write_json(
        &millis,
        &snapshot(
            "ci",
            &[(
                "shop/cart",
                json!({ "db.client.operation.duration": metric("histogram", "ms", &[], &[1.0, 5.0]) }),
                &[],
            )],
        ),
    );
    let failed = run(&[&arg(&millis)]);
    failed.expect_code(1, "a duration in ms at the default --fail-on");
    assert!(
        failed
            .stdout
            .contains("  error    OTP-M009 metric-unit-duration-seconds"),
        "{}",
        failed.stdout
    );

    let errors = dir.path().join("errors.json");
    // A metric name starting with a digit is an error (OTP-M001).
    write_json(
        &errors,
        &snapshot(
            "ci",
            &[(
                "shop/cart",
                json!({ "5xx.responses": metric("sum", "{response}", &[], &[]) }),
                &[],
            )],
        ),
    );
    run(&[&arg(&errors)]).expect_code(1, "an error at the default --fail-on");

    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        "rules:\n  OTP-M001: {level: warning}\n  OTP-M003: {enabled: false}\n",
    )
    .unwrap();
    run(&["--rules", &arg(&rules), &arg(&errors)]).expect_code(0, "the rules file lowers OTP-M001");
}

#[test]
fn unreadable_truncated_or_foreign_inputs_exit_2_naming_the_input() {
    let dir = ScratchDir::new("lint-bad-input");
    let good = serde_json::to_string(&clean_snapshot()).unwrap();
    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let trailing = dir.path().join("trailing.json");
    std::fs::write(&trailing, format!("{good}\n{{\"environments\":")).unwrap();
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let foreign = dir.path().join("foreign.json");
    std::fs::write(&foreign, r#"{"name": "not telemetry"}"#).unwrap();
    let array = dir.path().join("array.json");
    std::fs::write(&array, "[1, 2]").unwrap();
    let wrong_field = dir.path().join("wrong-field.json");
    std::fs::write(
        &wrong_field,
        r#"{"receiverInstance": "x", "environments": {"ci": {"services": 3}}}"#,
    )
    .unwrap();
    let otlp_truncated = dir.path().join("otlp.jsonl");
    let line = super::inputs::otlp_metrics_line("cart", "app.cart.items", "{item}");
    std::fs::write(
        &otlp_truncated,
        format!("{line}\n{}", &line[..line.len() - 20]),
    )
    .unwrap();
    let empty_dir = dir.path().join("empty-dir");
    std::fs::create_dir(&empty_dir).unwrap();

    expect_bad_input(&[&arg(&dir.path().join("missing.json"))], "cannot read");
    expect_bad_input(
        &[&arg(&truncated)],
        "truncated.json:1: invalid JSON (truncated?)",
    );
    expect_bad_input(&[&arg(&trailing)], "trailing.json");
    expect_bad_input(&[&arg(&empty)], "empty input");
    expect_bad_input(&[&arg(&foreign)], "neither a parity.v1 snapshot");
    expect_bad_input(&[&arg(&array)], "expected a JSON object");
    expect_bad_input(&[&arg(&wrong_field)], "not a parity.v1.Snapshot");
    expect_bad_input(&[&arg(&otlp_truncated)], "otlp.jsonl:2:");
    expect_bad_input(&[&arg(&empty_dir)], "no *.json or *.jsonl files");
    // One bad input among good ones still stops the run.
    let good_file = dir.path().join("good.json");
    write_json(&good_file, &clean_snapshot());
    expect_bad_input(&[&arg(&good_file), &arg(&truncated)], "truncated.json");
    // Two captures of shop/cart, one with a series sketch that is not a sketch: they cannot
    // be merged, and the sketch is named rather than left out.
    let mut corrupt = clean_snapshot();
    corrupt["environments"]["ci"]["services"]["shop/cart"]["metrics"]["app.cart.items"]["series"] =
        json!({ "estimate": 2.0, "hll": "bm90IGEgc2tldGNo" });
    let corrupt_file = dir.path().join("corrupt.json");
    write_json(&corrupt_file, &corrupt);
    expect_bad_input(
        &[&arg(&good_file), &arg(&corrupt_file)],
        r#"cannot merge the inputs: service "shop/cart" metric "app.cart.items" series: HLL sketch does not decode"#,
    );
}

#[test]
fn bad_rules_files_and_baselines_exit_2_naming_the_key() {
    let dir = ScratchDir::new("lint-bad-config");
    let input = dir.path().join("out.json");
    write_json(&input, &clean_snapshot());
    let input = arg(&input);
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        arg(&path)
    };
    let unknown_rule = file("unknown-rule.yaml", "rules:\n  OTP-Q001: {level: error}\n");
    expect_bad_input(
        &["--rules", &unknown_rule, &input],
        "rules.OTP-Q001: unknown rule ID",
    );
    let unknown_key = file("unknown-key.yaml", "high_cardinality_treshold: 5\n");
    expect_bad_input(
        &["--rules", &unknown_key, &input],
        "unknown field `high_cardinality_treshold`",
    );
    let bad_level = file("bad-level.yaml", "rules:\n  OTP-M001: {level: critical}\n");
    expect_bad_input(
        &["--rules", &bad_level, &input],
        "rules.OTP-M001.level: unknown variant `critical`",
    );
    expect_bad_input(
        &["--rules", &arg(&dir.path().join("none.yaml")), &input],
        "cannot read rules file",
    );
    let bad_baseline = file(
        "baseline.yaml",
        "version: 1\nservices:\n  shop/cart:\n    metrics:\n      m: {type: counter}\n",
    );
    expect_bad_input(
        &["--baseline", &bad_baseline, &input],
        "services.shop/cart.metrics.m.type: unknown type `counter`",
    );
    let truncated_baseline = file(
        "truncated-baseline.yaml",
        "version: 1\nservices:\n  shop/cart:\n    metrics: {app.cart.items: {type: sum,",
    );
    expect_bad_input(
        &["--baseline", &truncated_baseline, &input],
        "invalid baseline",
    );
    expect_bad_input(
        &["--baseline", &arg(&dir.path().join("none.yaml")), &input],
        "cannot read baseline",
    );
    let unwritable = dir.path().join("no-such-dir").join("baseline.yaml");
    let result = run(&["--write-baseline", &arg(&unwritable), &input]);
    result.expect_code(2, "unwritable baseline");
    assert!(
        result
            .stderr
            .contains("otel-parity: error: cannot write baseline"),
        "{}",
        result.stderr
    );
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        vec![],
        vec!["--format", "xml", "out.json"],
        vec!["--fail-on", "fatal", "out.json"],
        vec!["--no-such-flag", "out.json"],
    ] {
        let result = run(&args);
        result.expect_code(2, &format!("usage {args:?}"));
        assert!(
            result.stderr.starts_with("error: ") && result.stderr.contains("--help"),
            "{args:?}: {}",
            result.stderr
        );
    }
}

/// Issue 12 #2's example as a Collector file-exporter line: `HTTP_Requests_Total`,
/// `app.checkout.latency_ms` (unit `ms`, attribute `user.id`) and the deprecated
/// `http.server.duration` exit 1 by default (they were ten findings and "passed").
#[test]
fn the_clear_breaks_of_a_legacy_capture_fail_by_default() {
    let dir = ScratchDir::new("lint-legacy-otlp");
    let point = |attributes: serde_json::Value| {
        json!({
            "attributes": attributes,
            "startTimeUnixNano": "1700000000000000000",
            "timeUnixNano": "1700000010000000000",
            "count": "3",
            "sum": 42.0,
            "bucketCounts": ["1", "2", "0"],
            "explicitBounds": [10.0, 100.0],
        })
    };
    let histogram = |name: &str, attributes: serde_json::Value| {
        json!({
            "name": name,
            "unit": "ms",
            "histogram": { "aggregationTemporality": 2, "dataPoints": [point(attributes)] },
        })
    };
    let request = json!({
        "resourceMetrics": [{
            "resource": { "attributes": [
                { "key": "service.name", "value": { "stringValue": "checkout" } },
                { "key": "service.namespace", "value": { "stringValue": "shop" } },
            ]},
            "scopeMetrics": [{
                "scope": { "name": "shop.checkout", "version": "1.0.0" },
                "metrics": [
                    {
                        "name": "HTTP_Requests_Total",
                        "unit": "{request}",
                        "sum": {
                            "aggregationTemporality": 2,
                            "isMonotonic": true,
                            "dataPoints": [{
                                "startTimeUnixNano": "1700000000000000000",
                                "timeUnixNano": "1700000010000000000",
                                "asInt": "7",
                            }],
                        },
                    },
                    histogram(
                        "app.checkout.latency_ms",
                        json!([{ "key": "user.id", "value": { "stringValue": "u-1" } }]),
                    ),
                    histogram("http.server.duration", json!([])),
                ],
            }],
        }],
    });
    let input = dir.path().join("capture.jsonl");
    std::fs::write(&input, format!("{request}\n")).unwrap();
    let result = run(&["--format", "json", &arg(&input)]);
    result.expect_code(1, "the clear breaks are errors");
    let report: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    let errors: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "error")
        .map(|f| {
            (
                f["ruleId"].as_str().unwrap(),
                f["subject"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("OTP-M002", "HTTP_Requests_Total"),
            ("OTP-M005", "app.checkout.latency_ms"),
            ("OTP-M006", "HTTP_Requests_Total"),
            ("OTP-M009", "app.checkout.latency_ms"),
            ("OTP-M009", "http.server.duration"),
            ("OTP-S001", "http.server.duration"),
        ],
        "{}",
        result.stdout
    );
    assert_eq!(report["failed"], true);
}
