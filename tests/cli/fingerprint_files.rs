//! `otel-parity fingerprint`: OTLP/JSON files in the Collector file exporter's format, or one
//! pretty-printed document, to a snapshot that holds exactly what the files describe.

use std::path::{Path, PathBuf};

use otel_parity_testkit::e2e::{Expectations, ScratchDir, json_at};
use serde_json::{Value, json};

use crate::expect_snapshot::{MetricShape, expect_metric, expect_operations, expect_received};
use crate::file_exporter::{
    CHECKOUT, CHECKOUT_DURATION_BOUNDS, EnvironmentAttribute, FRONTEND, FRONTEND_DURATION_BOUNDS,
    PAYMENT, POINTS_PER_METRICS_LINE, PRODUCTION, RECORDS_PER_LOGS_LINE, SPANS_PER_CHECKOUT,
    checkout_traces_line, failed_in, payment_logs_line, payment_metrics_line, payment_traces_line,
    shop_logs_line, shop_metrics_line,
};
use crate::{Run, arg, read_snapshot};

/// Writes `lines` to `dir/name`, each ending in a newline as the file exporter writes them.
pub fn write_lines(dir: &ScratchDir, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.path().join(name);
    let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// Runs `otel-parity fingerprint extra… --output OUTPUT inputs…`.
pub fn fingerprint(extra: &[&str], output: &Path, inputs: &[&Path]) -> Run {
    let mut args = vec!["fingerprint"];
    args.extend_from_slice(extra);
    args.extend(["--output", arg(output)]);
    args.extend(inputs.iter().map(|input| arg(input)));
    Run::new(&args)
}

#[test]
fn fingerprint_reads_collector_file_exporter_lines() {
    let dir = ScratchDir::new("cli-fingerprint");
    // Three trace lines (5 + 3 + 4 checkouts), two metric lines, one log line.
    let checkouts = [5, 3, 4];
    let shop = write_lines(
        &dir,
        "shop.jsonl",
        &[
            checkout_traces_line(PRODUCTION, 1, checkouts[0]),
            shop_metrics_line(PRODUCTION, 1),
            shop_logs_line(PRODUCTION, 1),
            checkout_traces_line(PRODUCTION, 2, checkouts[1]),
            shop_metrics_line(PRODUCTION, 2),
            checkout_traces_line(PRODUCTION, 3, checkouts[2]),
        ],
    );
    let output = dir.path().join("shop.snapshot.json");
    let run = fingerprint(&[], &output, &[&shop]);
    run.assert_success("fingerprint shop.jsonl");
    let snapshot = read_snapshot(&output);
    let t: u64 = checkouts.iter().sum();
    let failed: u64 = checkouts.iter().map(|c| failed_in(*c)).sum();

    let mut expect = Expectations::new();
    expect.keys_eq("snapshot", &snapshot, &["environments"], &["production"]);
    let services = json_at(&snapshot, &["environments", "production", "services"])
        .cloned()
        .unwrap_or(json!({}));
    expect.keys_eq("services", &services, &[], &[CHECKOUT, FRONTEND]);
    expect_operations(
        &mut expect,
        &snapshot,
        "production",
        FRONTEND,
        &[
            ("POST /api/checkout", "SPAN_KIND_SERVER", t, failed),
            ("POST", "SPAN_KIND_CLIENT", t, failed),
        ],
    );
    expect_operations(
        &mut expect,
        &snapshot,
        "production",
        CHECKOUT,
        &[
            ("POST /checkout", "SPAN_KIND_SERVER", t, failed),
            ("prepare order", "SPAN_KIND_INTERNAL", t, 0),
        ],
    );

    let request_duration = "http.server.request.duration";
    expect.keys_eq(
        "services",
        &services,
        &[CHECKOUT, "metrics"],
        &["app.orders.placed", request_duration],
    );
    expect.keys_eq(
        "services",
        &services,
        &[FRONTEND, "metrics"],
        &[request_duration],
    );
    let http_keys = [
        "http.request.method",
        "http.response.status_code",
        "http.route",
    ];
    // Per metric line: two checkout duration series, one orders point, one frontend series.
    expect_metric(
        &mut expect,
        &services,
        &MetricShape {
            service: CHECKOUT,
            name: request_duration,
            kind: "histogram",
            unit: "s",
            temporality: "cumulative",
            points: 4,
            attribute_keys: &http_keys,
            bounds: Some(&CHECKOUT_DURATION_BOUNDS),
        },
    );
    expect_metric(
        &mut expect,
        &services,
        &MetricShape {
            service: CHECKOUT,
            name: "app.orders.placed",
            kind: "sum",
            unit: "{order}",
            temporality: "cumulative",
            points: 2,
            attribute_keys: &["app.order.currency"],
            bounds: None,
        },
    );
    expect.u64_eq(
        "services",
        &services,
        &[CHECKOUT, "metrics", "app.orders.placed", "monotonicPoints"],
        2,
    );
    expect_metric(
        &mut expect,
        &services,
        &MetricShape {
            service: FRONTEND,
            name: request_duration,
            kind: "histogram",
            unit: "s",
            temporality: "cumulative",
            points: 2,
            attribute_keys: &["http.request.method", "http.route"],
            bounds: Some(&FRONTEND_DURATION_BOUNDS),
        },
    );

    expect.u64_map_eq(
        "services",
        &services,
        &[CHECKOUT, "logs", "severities"],
        &[("INFO", 2)],
    );
    expect.u64_eq("services", &services, &[CHECKOUT, "logs", "withTraceId"], 2);
    expect.u64_map_eq(
        "services",
        &services,
        &[FRONTEND, "logs", "severities"],
        &[("WARN", 1), ("ERROR", 1)],
    );

    expect_received(&mut expect, &snapshot, "traces", 3, SPANS_PER_CHECKOUT * t);
    expect_received(
        &mut expect,
        &snapshot,
        "metrics",
        2,
        2 * POINTS_PER_METRICS_LINE,
    );
    expect_received(&mut expect, &snapshot, "logs", 1, RECORDS_PER_LOGS_LINE);
    let summary = "fingerprinted 3 trace, 2 metric and 1 log requests";
    expect.check(
        run.stderr().contains(summary),
        "stderr",
        format!("expected {summary:?}"),
        None,
    );
    expect.finish("one file exporter file", &run.describe());

    // A second file, from payment plus two more checkouts: the counts add up.
    let payment = write_lines(
        &dir,
        "payment.jsonl",
        &[
            payment_traces_line(PRODUCTION, 4, 6),
            payment_metrics_line(PRODUCTION, 4),
            payment_logs_line(PRODUCTION, 4),
            checkout_traces_line(PRODUCTION, 5, 2),
        ],
    );
    let output = dir.path().join("both.snapshot.json");
    let run = fingerprint(&[], &output, &[&shop, &payment]);
    run.assert_success("fingerprint shop.jsonl payment.jsonl");
    let snapshot = read_snapshot(&output);
    let services = json_at(&snapshot, &["environments", "production", "services"])
        .cloned()
        .unwrap_or(json!({}));
    let mut expect = Expectations::new();
    expect.keys_eq("services", &services, &[], &[CHECKOUT, FRONTEND, PAYMENT]);
    expect_operations(
        &mut expect,
        &snapshot,
        "production",
        CHECKOUT,
        &[
            ("POST /checkout", "SPAN_KIND_SERVER", t + 2, failed),
            ("prepare order", "SPAN_KIND_INTERNAL", t + 2, 0),
        ],
    );
    expect_operations(
        &mut expect,
        &snapshot,
        "production",
        PAYMENT,
        &[
            ("POST /charge", "SPAN_KIND_SERVER", 6, 0),
            ("POST", "SPAN_KIND_CLIENT", 6, 0),
        ],
    );
    expect_metric(
        &mut expect,
        &services,
        &MetricShape {
            service: PAYMENT,
            name: "app.payment.charges",
            kind: "sum",
            unit: "{charge}",
            temporality: "delta",
            points: 1,
            attribute_keys: &["app.payment.card_brand"],
            bounds: None,
        },
    );
    expect.u64_map_eq(
        "services",
        &services,
        &[PAYMENT, "logs", "severities"],
        &[("ERROR", 1)],
    );
    expect_received(
        &mut expect,
        &snapshot,
        "traces",
        5,
        SPANS_PER_CHECKOUT * (t + 2) + 12,
    );
    expect_received(
        &mut expect,
        &snapshot,
        "metrics",
        3,
        2 * POINTS_PER_METRICS_LINE + 1,
    );
    expect_received(&mut expect, &snapshot, "logs", 2, RECORDS_PER_LOGS_LINE + 1);
    expect.finish("two file exporter files", &run.describe());
}

#[test]
fn fingerprint_accepts_a_single_pretty_printed_document() {
    let dir = ScratchDir::new("cli-fingerprint-pretty");
    let compact: Value = serde_json::from_str(&checkout_traces_line(PRODUCTION, 1, 6))
        .unwrap_or_else(|e| panic!("test data is not JSON: {e}"));
    let pretty = serde_json::to_string_pretty(&compact)
        .unwrap_or_else(|e| panic!("cannot pretty-print: {e}"));
    assert!(pretty.lines().count() > 100, "not pretty-printed: {pretty}");
    let input = dir.path().join("traces.json");
    std::fs::write(&input, format!("{pretty}\n"))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", input.display()));
    let output = dir.path().join("snapshot.json");
    let run = fingerprint(&[], &output, &[&input]);
    run.assert_success("fingerprint of one pretty-printed document");
    let snapshot = read_snapshot(&output);

    let mut expect = Expectations::new();
    expect.keys_eq(
        "snapshot",
        &snapshot,
        &["environments", "production", "services"],
        &[CHECKOUT, FRONTEND],
    );
    expect_operations(
        &mut expect,
        &snapshot,
        "production",
        CHECKOUT,
        &[
            ("POST /checkout", "SPAN_KIND_SERVER", 6, failed_in(6)),
            ("prepare order", "SPAN_KIND_INTERNAL", 6, 0),
        ],
    );
    expect_received(&mut expect, &snapshot, "traces", 1, 6 * SPANS_PER_CHECKOUT);
    expect_received(&mut expect, &snapshot, "metrics", 0, 0);
    expect.finish("pretty-printed document", &run.describe());
}

#[test]
fn fingerprint_environment_flag_and_resource_attribute() {
    let dir = ScratchDir::new("cli-fingerprint-environment");
    let mut expect = Expectations::new();
    let cases: [(&str, EnvironmentAttribute, &[&str], &str); 5] = [
        (
            "flag wins",
            PRODUCTION,
            &["--environment", "staging"],
            "staging",
        ),
        (
            "flag without attribute",
            EnvironmentAttribute::Absent,
            &["--environment", "staging"],
            "staging",
        ),
        ("deployment.environment.name", PRODUCTION, &[], "production"),
        (
            "deprecated deployment.environment",
            EnvironmentAttribute::Deprecated("canary"),
            &[],
            "canary",
        ),
        ("neither", EnvironmentAttribute::Absent, &[], "unknown"),
    ];
    for (i, (what, attribute, flags, environment)) in cases.into_iter().enumerate() {
        let input = write_lines(
            &dir,
            &format!("case-{i}.jsonl"),
            &[
                checkout_traces_line(attribute, 1, 4),
                shop_logs_line(attribute, 1),
            ],
        );
        let output = dir.path().join(format!("case-{i}.snapshot.json"));
        let run = fingerprint(flags, &output, &[&input]);
        run.assert_success(what);
        let snapshot = read_snapshot(&output);
        expect.keys_eq(what, &snapshot, &["environments"], &[environment]);
        expect.keys_eq(
            what,
            &snapshot,
            &["environments", environment, "services"],
            &[CHECKOUT, FRONTEND],
        );
        expect.u64_eq(
            what,
            &snapshot,
            &[
                "environments",
                environment,
                "services",
                CHECKOUT,
                "logs",
                "records",
            ],
            2,
        );
    }
    expect.finish("environment of fingerprinted files", "");
}
