//! End to end with the real OpenTelemetry Python SDK (tests/apps/lint_app.py) exporting over
//! OTLP/HTTP to a real `otel-parity receive`: the capture lints clean and yields a baseline;
//! a second capture with a renamed metric and a changed unit fails against it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{arg, run};
use otel_parity_testkit::e2e::{self, ReceiverProcess, ScratchDir};

/// Runs lint_app.py with `app_args` against a fresh receiver and returns the final snapshot,
/// copied to `dir/name`.
fn capture(dir: &Path, name: &str, app_args: &[&str]) -> PathBuf {
    e2e::python_venv();
    let mut receiver = ReceiverProcess::start(&["--environment", "ci"]);
    let endpoint = receiver.http_endpoint();
    let mut args = vec!["--endpoint-http", endpoint.as_str(), "--requests", "12"];
    args.extend_from_slice(app_args);
    e2e::run_python(&e2e::app_path("lint_app.py"), &args, &[]);
    let exit = receiver.stop();
    assert!(exit.success(), "the receiver did not stop cleanly: {exit}");
    let text = receiver
        .read_snapshot_text()
        .unwrap_or_else(|| panic!("no snapshot after the receiver stopped"));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

fn findings(report: &str) -> Vec<(String, String, String)> {
    let report: Value = serde_json::from_str(report).unwrap_or_else(|e| panic!("{e}: {report}"));
    report["findings"]
        .as_array()
        .expect("findings is a list")
        .iter()
        .map(|f| {
            (
                f["ruleId"].as_str().expect("ruleId is a string").to_owned(),
                f["level"].as_str().expect("level is a string").to_owned(),
                f["message"]
                    .as_str()
                    .expect("message is a string")
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_python_sdk_capture_lints_clean_and_a_renamed_metric_and_changed_unit_fail_the_baseline() {
    let dir = ScratchDir::new("lint-sdk");
    let first = capture(dir.path(), "first.json", &[]);
    let baseline = dir.path().join("telemetry-baseline.yaml");

    let clean = run(&[
        "--write-baseline",
        &arg(&baseline),
        "--fail-on",
        "info",
        &arg(&first),
    ]);
    clean.expect_code(0, "the SDK capture follows the conventions");
    assert_eq!(
        clean.stdout,
        "otel-parity lint: 0 errors, 0 warnings, 0 info in 1 service: passed (--fail-on info)\n"
    );
    let written = std::fs::read_to_string(&baseline).unwrap();
    for expected in [
        "  shop/inventory:\n",
        "      app.inventory.reserved:\n        type: sum\n        monotonic: true\n        unit: '{item}'\n        temporality: cumulative\n        labels:\n        - app.warehouse\n",
        "      app.inventory.lookup.duration:\n        type: histogram\n        unit: s\n",
        "      http.server.request.duration:\n        type: histogram\n        unit: s\n        temporality: cumulative\n        labels:\n        - http.request.method\n        - http.response.status_code\n        - http.route\n        buckets:\n        - 0.005\n        - 0.01\n        - 0.025\n        - 0.05\n        - 0.1\n        - 0.25\n        - 0.5\n        - 1.0\n",
        "    span_operations:\n    - name: POST /reserve\n      kind: server\n    - name: lookup stock\n      kind: internal\n",
        "    log_events:\n    - inventory.reserved\n",
    ] {
        assert!(
            written.contains(expected),
            "baseline lacks {expected:?}:\n{written}"
        );
    }
    let same = run(&[
        "--baseline",
        &arg(&baseline),
        "--fail-on",
        "info",
        &arg(&first),
    ]);
    same.expect_code(0, "a capture is clean against its own baseline");

    let second = capture(
        dir.path(),
        "second.json",
        &[
            "--rename-metric",
            "app.inventory.reserved=app.inventory.reservations",
            "--unit-override",
            "app.inventory.lookup.duration=ms",
        ],
    );
    let drift = run(&[
        "--baseline",
        &arg(&baseline),
        "--format",
        "json",
        &arg(&second),
    ]);
    drift.expect_code(1, "a renamed metric and a changed unit are errors");
    let found = findings(&drift.stdout);
    let expected = [
        (
            "OTP-B002",
            "error",
            "metric `app.inventory.reserved` is gone; renamed to `app.inventory.reservations`?",
        ),
        (
            "OTP-B003",
            "info",
            "metric `app.inventory.reservations` is not in the baseline (renamed from `app.inventory.reserved`?)",
        ),
        (
            "OTP-B005",
            "error",
            "`app.inventory.lookup.duration` changed unit from `s` to `ms`",
        ),
        (
            "OTP-M009",
            "warning",
            "`app.inventory.lookup.duration` measures time in `ms`; the conventions use seconds",
        ),
    ];
    let mut found_sorted = found.clone();
    found_sorted.sort();
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(r, l, m)| ((*r).to_owned(), (*l).to_owned(), (*m).to_owned()))
        .collect();
    assert_eq!(found_sorted, expected, "{}", drift.stdout);

    let text = run(&["--baseline", &arg(&baseline), &arg(&second)]);
    text.expect_code(1, "text report");
    assert!(
        text.stdout.starts_with("shop/inventory\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("OTP-B002 baseline-metric-removed"),
        "{}",
        text.stdout
    );
}

/// Issue 12 #2: the clear breaks fail a build by default, and a baseline grandfathers them
/// while new breaks still fail.
#[test]
fn legacy_names_fail_by_default_and_are_grandfathered_by_a_baseline_while_new_ones_fail() {
    let dir = ScratchDir::new("lint-ratchet");
    let legacy = capture(dir.path(), "legacy.json", &["--legacy"]);

    // Without a baseline: HTTP_Requests_Total (`_total`; the Python SDK lower-cases instrument
    // names, so the upper case never reaches the capture: tests/lint/inputs.rs checks it with
    // OTLP/JSON), app.checkout.latency_ms (a unit in the name, ms) and http.server.duration
    // (deprecated, ms) are errors.
    let default = run(&["--format", "json", &arg(&legacy)]);
    default.expect_code(1, "the clear breaks are errors by default");
    let errors: Vec<(String, String)> = findings(&default.stdout)
        .into_iter()
        .filter(|(_, level, _)| level == "error")
        .map(|(rule, _, message)| (rule, message))
        .collect();
    let rules: Vec<&str> = errors.iter().map(|(rule, _)| rule.as_str()).collect();
    assert_eq!(
        rules,
        ["OTP-M005", "OTP-M006", "OTP-M009", "OTP-M009", "OTP-S001"],
        "{}",
        default.stdout
    );
    assert!(
        errors.iter().any(|(rule, message)| rule == "OTP-S001"
            && message.starts_with("metric `http.server.duration` was renamed `http.server.request.duration` in semconv 1.22.0 and its unit changed from `ms` to `s`")),
        "{errors:?}"
    );
    let text = run(&[&arg(&legacy)]);
    text.expect_code(1, "text");
    assert!(
        text.stdout
            .ends_with(": failed (findings at or above error)\n"),
        "{}",
        text.stdout
    );

    // A baseline written from the legacy capture grandfathers its names: warnings, marked.
    let baseline = dir.path().join("telemetry-baseline.yaml");
    run(&["--write-baseline", &arg(&baseline), &arg(&legacy)]).expect_code(1, "still failing");
    let ratchet = run(&["--baseline", &arg(&baseline), &arg(&legacy)]);
    ratchet.expect_code(0, "grandfathered names do not fail the build");
    for name in [
        "http_requests_total",
        "app.checkout.latency_ms",
        "http.server.duration",
    ] {
        assert!(
            ratchet
                .stdout
                .lines()
                .any(|line| line.contains(&format!("metric `{name}`"))
                    && line.starts_with("  warning")
                    && line.ends_with("(grandfathered: in the baseline, so at most a warning)")),
            "{name} is not a grandfathered warning:\n{}",
            ratchet.stdout
        );
    }
    assert!(!ratchet.stdout.contains("  error "), "{}", ratchet.stdout);
    run(&[
        "--baseline",
        &arg(&baseline),
        "--fail-on",
        "warning",
        &arg(&legacy),
    ])
    .expect_code(1, "--fail-on warning still sees them");

    // A new metric that breaks a naming rule fails against the same baseline.
    let next = capture(
        dir.path(),
        "next.json",
        &["--legacy", "--extra-counter", "app.inventory.returns_total"],
    );
    let failed = run(&[
        "--baseline",
        &arg(&baseline),
        "--format",
        "json",
        &arg(&next),
    ]);
    failed.expect_code(1, "a new name with `_total` is an error");
    let report: Value = serde_json::from_str(&failed.stdout).expect("json");
    let errors: Vec<(&str, &str, bool)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["level"] == "error")
        .map(|f| {
            (
                f["ruleId"].as_str().unwrap_or(""),
                f["subject"]["name"].as_str().unwrap_or(""),
                f["grandfathered"].as_bool().unwrap_or(true),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [("OTP-M006", "app.inventory.returns_total", false)],
        "{}",
        failed.stdout
    );
}
