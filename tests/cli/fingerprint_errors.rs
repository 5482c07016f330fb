//! `otel-parity fingerprint` on bad input: a line that is not an export request fails the run
//! naming the file and line and writes nothing; an invalid item is left out and counted.

use std::path::Path;

use otel_parity_testkit::e2e::{Expectations, ScratchDir, json_at, proto_u64};
use serde_json::{Value, json};

use crate::expect_snapshot::expect_operations;
use crate::file_exporter::{
    CHECKOUT, PRODUCTION, SPANS_PER_CHECKOUT, checkout_traces_line, failed_in, shop_logs_line,
    shop_metrics_line,
};
use crate::fingerprint_files::{fingerprint, write_lines};
use crate::{Run, arg, read_snapshot};

/// Checks a run that must fail: exit 1, one `otel-parity: error:` line on stderr holding every
/// `needle`, and no output file.
fn expect_failure(
    failures: &mut Vec<String>,
    what: &str,
    run: &Run,
    output: &Path,
    needles: &[&str],
) {
    let stderr = run.stderr();
    let mut wrong = Vec::new();
    if run.code() != Some(1) {
        wrong.push(format!("exit code {:?}, expected 1", run.code()));
    }
    let lines: Vec<&str> = stderr.lines().collect();
    if lines.len() != 1 || !lines[0].starts_with("otel-parity: error: ") {
        wrong.push("stderr is not one `otel-parity: error: …` line".to_owned());
    }
    for needle in needles {
        if !stderr.contains(needle) {
            wrong.push(format!("stderr does not contain {needle:?}"));
        }
    }
    if output.exists() {
        wrong.push(format!("{} was written", output.display()));
    }
    if !wrong.is_empty() {
        failures.push(format!(
            "{what}: {}\n    stderr: {stderr}",
            wrong.join("; ")
        ));
    }
}

/// `path:line: ` followed by a reason, as the stderr of a failed run should name a bad line.
fn at_line(path: &Path, line: usize) -> String {
    format!("{}:{line}: ", path.display())
}

#[test]
fn fingerprint_invalid_line_fails_with_file_and_line_and_writes_nothing() {
    let dir = ScratchDir::new("cli-fingerprint-invalid");
    let output = |name: &str| dir.path().join(format!("{name}.snapshot.json"));
    let mut failures = Vec::new();

    // Line 3 of 4 cut short, as when a Collector is killed mid-write and restarted.
    let logs = shop_logs_line(PRODUCTION, 1);
    let truncated = write_lines(
        &dir,
        "truncated.jsonl",
        &[
            checkout_traces_line(PRODUCTION, 1, 3),
            shop_metrics_line(PRODUCTION, 1),
            logs[..logs.len() / 2].to_owned(),
            checkout_traces_line(PRODUCTION, 2, 2),
        ],
    );
    let run = fingerprint(&[], &output("truncated"), &[&truncated]);
    expect_failure(
        &mut failures,
        "line 3 of 4 truncated",
        &run,
        &output("truncated"),
        &[&at_line(&truncated, 3), "JSON"],
    );

    // Valid JSON, but not an export request.
    let foo = write_lines(
        &dir,
        "foo.jsonl",
        &[
            checkout_traces_line(PRODUCTION, 1, 3),
            r#"{"foo": 1}"#.to_owned(),
            shop_logs_line(PRODUCTION, 1),
        ],
    );
    let run = fingerprint(&[], &output("foo"), &[&foo]);
    expect_failure(
        &mut failures,
        "{\"foo\": 1} on line 2",
        &run,
        &output("foo"),
        &[&at_line(&foo, 2)],
    );

    // An export request whose top level has the wrong type.
    let five = write_lines(&dir, "five.jsonl", &[r#"{"resourceSpans": 5}"#.to_owned()]);
    let run = fingerprint(&[], &output("five"), &[&five]);
    expect_failure(
        &mut failures,
        "resourceSpans: 5",
        &run,
        &output("five"),
        &[&at_line(&five, 1), "resourceSpans"],
    );

    // A file that is not there.
    let missing = dir.path().join("missing.jsonl");
    let run = fingerprint(&[], &output("missing"), &[&missing]);
    expect_failure(
        &mut failures,
        "nonexistent input",
        &run,
        &output("missing"),
        &[arg(&missing)],
    );

    // Bytes that are not UTF-8 inside a span name on line 2.
    let mut bytes = format!("{}\n", shop_logs_line(PRODUCTION, 1)).into_bytes();
    let mut traces = checkout_traces_line(PRODUCTION, 1, 2).into_bytes();
    let at = traces
        .windows(b"prepare order".len())
        .position(|w| w == b"prepare order")
        .unwrap_or_else(|| unreachable!("checkout traces have a `prepare order` span"));
    traces[at] = 0xff;
    traces[at + 1] = 0xfe;
    bytes.extend_from_slice(&traces);
    bytes.push(b'\n');
    let not_utf8 = dir.path().join("not-utf8.jsonl");
    std::fs::write(&not_utf8, bytes)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", not_utf8.display()));
    let run = fingerprint(&[], &output("not-utf8"), &[&not_utf8]);
    expect_failure(
        &mut failures,
        "invalid UTF-8 on line 2",
        &run,
        &output("not-utf8"),
        &[&at_line(&not_utf8, 2)],
    );

    // A good file before a bad one: still nothing written.
    let good = write_lines(
        &dir,
        "good.jsonl",
        &[checkout_traces_line(PRODUCTION, 1, 3)],
    );
    let run = fingerprint(&[], &output("good-then-bad"), &[&good, &five]);
    expect_failure(
        &mut failures,
        "good file, then a bad one",
        &run,
        &output("good-then-bad"),
        &[&at_line(&five, 1)],
    );

    // An empty file (a Collector that exported nothing) is an empty fingerprint, not an error.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap_or_else(|e| panic!("cannot write {}: {e}", empty.display()));
    let run = fingerprint(&[], &output("empty"), &[&empty]);
    if run.code() == Some(0) {
        let snapshot = read_snapshot(&output("empty"));
        let environments = snapshot.get("environments");
        let requests: Vec<u64> = ["traces", "metrics", "logs"]
            .iter()
            .map(|signal| {
                proto_u64(json_at(&snapshot, &["received", signal, "requests"])).unwrap_or(u64::MAX)
            })
            .collect();
        if environments.is_some_and(|e| e != &json!({})) || requests != [0, 0, 0] {
            failures.push(format!(
                "empty file: expected an empty snapshot, found {snapshot}"
            ));
        }
    } else {
        failures.push(format!("empty file: {}", run.describe()));
    }

    assert!(
        failures.is_empty(),
        "{} case(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn fingerprint_item_level_errors_are_left_out_and_counted() {
    let dir = ScratchDir::new("cli-fingerprint-items");
    // Three good checkouts plus one more checkout SERVER span whose traceId has 31 hex digits.
    let mut request: Value = serde_json::from_str(&checkout_traces_line(PRODUCTION, 2, 3))
        .unwrap_or_else(|e| panic!("test data is not JSON: {e}"));
    let checkout_spans = request["resourceSpans"][1]["scopeSpans"][0]["spans"]
        .as_array_mut()
        .unwrap_or_else(|| unreachable!("checkout spans are an array"));
    let mut bad = checkout_spans[0].clone();
    let short_id = bad["traceId"].as_str().unwrap_or_default()[..31].to_owned();
    bad["traceId"] = json!(short_id);
    bad["spanId"] = json!("eeeeeeeeeeeeeeee");
    checkout_spans.push(bad);
    let input = write_lines(
        &dir,
        "traces.jsonl",
        &[checkout_traces_line(PRODUCTION, 1, 5), request.to_string()],
    );
    let output = dir.path().join("snapshot.json");
    let run = fingerprint(&[], &output, &[&input]);
    run.assert_success("one bad span among good ones");
    let snapshot = read_snapshot(&output);

    let mut expect = Expectations::new();
    expect_operations(
        &mut expect,
        &snapshot,
        "production",
        CHECKOUT,
        &[
            (
                "POST /checkout",
                "SPAN_KIND_SERVER",
                8,
                failed_in(5) + failed_in(3),
            ),
            ("prepare order", "SPAN_KIND_INTERNAL", 8, 0),
        ],
    );
    let received = json_at(&snapshot, &["received", "traces"])
        .cloned()
        .unwrap_or(json!({}));
    expect.u64_eq("received.traces", &received, &["requests"], 2);
    expect.u64_eq(
        "received.traces",
        &received,
        &["items"],
        8 * SPANS_PER_CHECKOUT,
    );
    expect.u64_eq("received.traces", &received, &["rejectedItems"], 1);
    expect.u64_eq("received.traces", &received, &["rejectedRequests"], 0);
    let stderr = run.stderr();
    expect.check(
        stderr.contains("traceId")
            && stderr.contains("1 invalid item")
            && stderr.contains("left out"),
        "stderr",
        "expected the bad traceId, and 1 invalid item left out, to be mentioned",
        None,
    );
    expect.finish("item-level errors", &run.describe());
}
