//! The parity gate of `otel-parity report` as a deploy pipeline runs it: exit 0 when the gate
//! passes, 1 when it fails (each condition one line on stderr, saying which failed and why),
//! 2 when there is no report to judge. The report itself still goes to stdout, unchanged.
//!
//! Test data: four services of the shop in prod; staging lacks `app.cart.items` of shop/cart,
//! so coverage is 3 of 4 services (75%) with one open high finding (a missing metric).

use std::path::{Path, PathBuf};

use otel_parity_model::sketch::{DistinctCount, SERIES_LG_K};
use otel_parity_model::snapshot;
use otel_parity_proto::v1 as pb;
use otel_parity_testkit::e2e::ScratchDir;
use otel_parity_testkit::fingerprint::{ServiceBuilder, histogram, service, sum};
use serde_json::Value;

use crate::{Run, arg};

const DURATION_BOUNDS: [f64; 4] = [0.005, 0.05, 0.5, 5.0];

/// Each side exported its metrics 60 times (30 minutes at 30 s), so a metric
/// missing from staging was expected there 60 times: a real absence, not scale.
const EXPORTS: u64 = 60;

fn shop(with_cart_items: bool) -> Vec<ServiceBuilder> {
    let duration = || {
        histogram("s", &DURATION_BOUNDS)
            .points(120)
            .exports(EXPORTS)
    };
    let mut cart = service("shop/cart").metric("http.server.request.duration", duration());
    if with_cart_items {
        cart = cart.metric(
            "app.cart.items",
            sum("{item}", true).points(40).exports(EXPORTS),
        );
    }
    vec![
        service("shop/frontend").metric("http.server.request.duration", duration()),
        cart,
        service("shop/checkout")
            .metric("http.server.request.duration", duration())
            .metric(
                "app.orders.placed",
                sum("{order}", true).points(30).exports(EXPORTS),
            ),
        service("shop/payment").metric("http.server.request.duration", duration()),
    ]
}

/// prod.json and staging.json in a scratch directory.
struct Snapshots {
    dir: ScratchDir,
    prod: PathBuf,
    staging: PathBuf,
}

impl Snapshots {
    fn new(name: &str) -> Self {
        let dir = ScratchDir::new(name);
        let write = |file: &str, snapshot: &pb::Snapshot| {
            let path = dir.path().join(file);
            snapshot::write(&path, snapshot)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            path
        };
        let prod = write(
            "prod.json",
            &otel_parity_testkit::fingerprint::snapshot("prod", shop(true)),
        );
        let staging = write(
            "staging.json",
            &otel_parity_testkit::fingerprint::snapshot("staging", shop(false)),
        );
        Snapshots { dir, prod, staging }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// `otel-parity report` of staging against prod from the two snapshots, with `gate` flags.
    fn report(&self, gate: &[&str]) -> Run {
        report_of(&[&self.prod, &self.staging], gate)
    }
}

fn report_of(snapshots: &[&Path], more: &[&str]) -> Run {
    let mut args = vec![
        "report",
        "--baseline",
        "prod",
        "--candidate",
        "staging",
        "--snapshot",
    ];
    args.extend(snapshots.iter().map(|p| arg(p)));
    args.extend(more);
    Run::new(&args)
}

fn stdout(run: &Run) -> String {
    String::from_utf8_lossy(&run.output.stdout).into_owned()
}

/// The gate's lines on stderr, without the `otel-parity: ` prefix.
fn gate_lines(run: &Run) -> Vec<String> {
    run.stderr()
        .lines()
        .filter_map(|l| l.strip_prefix("otel-parity: parity gate (staging against prod) "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn coverage_under_the_floor_fails_with_exit_1_and_at_the_floor_passes_with_exit_0() {
    let snapshots = Snapshots::new("cli-gate-coverage");
    let failed = snapshots.report(&["--fail-under-coverage", "0.9"]);
    assert_eq!(failed.code(), Some(1), "{}", failed.describe());
    assert_eq!(
        gate_lines(&failed),
        ["failed: telemetry parity coverage 75.0% is under --fail-under-coverage 90.0%"]
    );
    // The report is printed all the same.
    assert!(
        stdout(&failed).contains("staging (candidate) against prod (baseline)"),
        "{}",
        stdout(&failed)
    );

    let passed = snapshots.report(&["--fail-under-coverage", "0.75"]);
    assert_eq!(passed.code(), Some(0), "{}", passed.describe());
    assert_eq!(
        gate_lines(&passed),
        ["passed: telemetry parity coverage 75.0% is at least 75.0%"]
    );

    // Without a gate, a report with findings is exit 0 and says nothing on stderr.
    let plain = snapshots.report(&[]);
    assert_eq!(plain.code(), Some(0), "{}", plain.describe());
    assert_eq!(gate_lines(&plain), Vec::<String>::new());
}

#[test]
fn an_open_finding_at_or_above_fail_on_fails_and_names_it_an_accepted_one_does_not() {
    let snapshots = Snapshots::new("cli-gate-severity");
    let failed = snapshots.report(&["--fail-on", "high", "--format", "json"]);
    assert_eq!(failed.code(), Some(1), "{}", failed.describe());
    assert_eq!(
        gate_lines(&failed),
        ["failed: 1 open finding at or above --fail-on high (1 high):".to_owned(),],
        "{}",
        failed.stderr()
    );
    assert!(
        failed
            .stderr()
            .contains("\n  [high] shop/cart metric_definitions app.cart.items: "),
        "{}",
        failed.stderr()
    );
    // stdout stays the JSON report, whole.
    let report: Value = serde_json::from_str(&stdout(&failed)).expect("JSON report on stdout");
    assert_eq!(report["scores"]["coverage"], 0.75);

    let passed = snapshots.report(&["--fail-on", "critical"]);
    assert_eq!(passed.code(), Some(0), "{}", passed.describe());
    assert_eq!(
        gate_lines(&passed),
        ["passed: no open finding at or above critical"]
    );

    // Accepted until a day far away: the same gate passes.
    let accepted = snapshots.path("accepted.yaml");
    std::fs::write(
        &accepted,
        "accepted:\n  - service: shop/cart\n    dimension: metric_definitions\n    subject: app.cart.items\n    reason: cart items move to the new cart service in Q3\n    owner: team-cart\n    expires: 2999-12-31\n",
    )
    .expect("write accepted differences");
    let passed = snapshots.report(&["--fail-on", "high", "--accepted", arg(&accepted)]);
    assert_eq!(passed.code(), Some(0), "{}", passed.describe());
    assert_eq!(
        gate_lines(&passed),
        ["passed: no open finding at or above high"]
    );

    // Both conditions: both judged, both reported, one failure is enough.
    let both = snapshots.report(&["--fail-under-coverage", "0.5", "--fail-on", "medium"]);
    assert_eq!(both.code(), Some(1), "{}", both.describe());
    let lines = gate_lines(&both);
    assert_eq!(
        lines[0],
        "passed: telemetry parity coverage 75.0% is at least 50.0%"
    );
    assert_eq!(
        lines[1],
        "failed: 1 open finding at or above --fail-on medium (1 high):"
    );
}

#[test]
fn no_report_to_judge_is_exit_2_never_a_pass_or_a_gate_failure() {
    let snapshots = Snapshots::new("cli-gate-errors");
    let gate = ["--fail-under-coverage", "0.9", "--fail-on", "critical"];
    let expect_2 = |run: Run, says: &str| {
        assert_eq!(run.code(), Some(2), "{}", run.describe());
        assert!(
            run.stderr().contains(says),
            "wanted {says:?}: {}",
            run.describe()
        );
        assert!(gate_lines(&run).is_empty(), "{}", run.describe());
    };

    // A snapshot file that is missing, cut short, or of the wrong type (a JSON list).
    expect_2(
        report_of(&[&snapshots.prod, &snapshots.path("nope.json")], &gate),
        "nope.json",
    );
    let bytes = std::fs::read(&snapshots.staging).expect("read staging");
    let truncated = snapshots.path("truncated.json");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    expect_2(
        report_of(&[&snapshots.prod, &truncated], &gate),
        "truncated.json",
    );
    let list = snapshots.path("list.json");
    std::fs::write(&list, "[1, 2, 3]\n").expect("write");
    expect_2(report_of(&[&snapshots.prod, &list], &gate), "list.json");

    // An environment no snapshot holds.
    expect_2(
        report_of(&[&snapshots.prod], &gate),
        "no snapshot holds environment \"staging\"",
    );

    // Two snapshots of prod whose shared service carries a sketch that does not decode.
    let mut corrupt = otel_parity_testkit::fingerprint::snapshot("prod", shop(true));
    let cart = corrupt
        .environments
        .get_mut("prod")
        .and_then(|e| e.services.get_mut("shop/cart"))
        .expect("shop/cart");
    cart.metrics
        .get_mut("app.cart.items")
        .expect("app.cart.items")
        .series = Some(pb::Cardinality {
        estimate: 12.0,
        hll: vec![2, 1, 7, 12, 3, 8, 0, 0],
    });
    let corrupt_path = snapshots.path("corrupt.json");
    snapshot::write(&corrupt_path, &corrupt).expect("write corrupt");
    let mut healthy = corrupt.clone();
    for environment in healthy.environments.values_mut() {
        for service in environment.services.values_mut() {
            for metric in service.metrics.values_mut() {
                let mut series = DistinctCount::new(SERIES_LG_K);
                (0..3).for_each(|hash| series.insert(hash));
                metric.series = Some(series.to_proto());
            }
        }
    }
    let healthy_path = snapshots.path("healthy.json");
    snapshot::write(&healthy_path, &healthy).expect("write healthy");
    expect_2(
        report_of(&[&healthy_path, &corrupt_path, &snapshots.staging], &gate),
        "cannot merge the snapshots of environment \"prod\": service \"shop/cart\" metric \"app.cart.items\" series: HLL sketch does not decode",
    );

    // An analyzer that does not answer.
    expect_2(
        Run::new(&[
            "report",
            "--baseline",
            "prod",
            "--candidate",
            "staging",
            "--analyzer",
            "http://127.0.0.1:9",
            "--fail-on",
            "critical",
        ]),
        "127.0.0.1:9",
    );

    // Flag values that are not a ratio or not a severity: usage errors.
    for (flag, value, says) in [
        ("--fail-under-coverage", "90", "between 0 and 1"),
        ("--fail-under-coverage", "-0.1", "between 0 and 1"),
        ("--fail-under-coverage", "ninety", "between 0 and 1"),
        ("--fail-on", "error", "critical, high, medium, low or info"),
        ("--fail-on", "", "critical, high, medium, low or info"),
    ] {
        let flag = format!("{flag}={value}");
        expect_2(
            report_of(&[&snapshots.prod, &snapshots.staging], &[&flag]),
            says,
        );
    }
}

/// The `otel-parity report` arguments of a shipped CI example, as its shell would split them.
fn example_report_args(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/ci")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let start = text
        .find("otel-parity report ")
        .unwrap_or_else(|| panic!("{file} runs no otel-parity report"));
    let end = start
        + text[start..]
            .find("> parity-report.md")
            .unwrap_or_else(|| panic!("{file}: the report is not written to parity-report.md"));
    text[start..end]
        .replace("\\\n", " ")
        .split_whitespace()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_shipped_ci_gates_block_a_promotion_at_75_percent_coverage() {
    let snapshots = Snapshots::new("cli-gate-ci-examples");
    for file in [
        "parity-gate-github-actions.yml",
        "parity-gate-gitlab-ci.yml",
    ] {
        let shipped = example_report_args(file);
        for gate in ["--fail-under-coverage", "--fail-on"] {
            assert!(
                shipped.iter().any(|a| a == gate),
                "{file} lacks {gate}: {shipped:?}"
            );
        }
        // The same command on snapshot files: without the analyzer's flags (and --since,
        // which is the analyzer's range).
        let mut args: Vec<&str> = Vec::new();
        let mut words = shipped.iter().map(String::as_str);
        while let Some(word) = words.next() {
            if ["--analyzer", "--analyzer-token-file", "--since"].contains(&word) {
                words.next();
            } else {
                args.push(word);
            }
        }
        args.extend(["--snapshot", arg(&snapshots.prod), arg(&snapshots.staging)]);
        let run = Run::new(&args);
        assert_eq!(run.code(), Some(1), "{file}: {}", run.describe());
        // Conditions that held are listed first, then those that failed.
        assert_eq!(
            gate_lines(&run),
            [
                "passed: no open finding at or above critical",
                "failed: telemetry parity coverage 75.0% is under --fail-under-coverage 90.0%",
            ],
            "{file}"
        );
        assert!(
            stdout(&run).contains("| "),
            "{file}: not markdown: {}",
            stdout(&run)
        );
    }
}
