//! Two receivers (prod, staging) pushing every 200 ms to an analyzer that is killed with
//! SIGKILL mid-traffic and restarted: the receivers keep serving OTLP meanwhile, catch up once
//! it is back, and the store ends up counting exactly the spans they acknowledged.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use otel_parity_testkit::e2e::{
    AnalyzerProcess, AnalyzerSite, ReceiverProcess, ScratchDir, port_accepts, unix_nanos_now,
};
use serde_json::Value;

use crate::exposition::sample;
use crate::sender::{Control, Phase, Sender};
use crate::stored::{difference, environments, merged, open_store, tally_of};
use crate::wait_until;

const ENVIRONMENTS: [&str; 2] = ["prod", "staging"];
/// Traffic before the kill, at least.
const BEFORE_KILL: Duration = Duration::from_millis(1000);
/// How long the analyzer stays dead.
const DOWN: Duration = Duration::from_millis(1500);
/// Traffic after the restart, at least.
const AFTER_RESTART: Duration = Duration::from_millis(500);
/// Bound on waiting for pushes to arrive (first ones, catch-up).
const PUSH_TIMEOUT: Duration = Duration::from_secs(20);
/// Acknowledged OTLP requests each sender must have made while the analyzer was down, at
/// least: proof that the receivers served then (they send one about every 10–20 ms).
const MIN_REQUESTS_WHILE_DOWN: u64 = 10;

/// `environments[env][field]` as a number, 0 when absent.
fn field(environments: &Value, env: &str, field: &str) -> u64 {
    environments[env][field].as_u64().unwrap_or(0)
}

#[test]
fn acknowledged_pushes_survive_kill_9_and_receivers_catch_up() {
    let started = Instant::now();
    let scratch = ScratchDir::new("durability-receivers");
    let site = AnalyzerSite::new(&scratch.path().join("data"));
    let mut analyzer = AnalyzerProcess::start_at(&site, 1);
    let push_url = site.push_url();
    let receiver = |env: &str| {
        ReceiverProcess::start(&[
            "--environment",
            env,
            "--analyzer",
            &push_url,
            "--push-interval",
            "200ms",
        ])
    };
    let mut prod = receiver("prod");
    let mut staging = receiver("staging");
    let control = Arc::new(Control::default());
    let senders = [
        Sender::start(
            "prod",
            prod.grpc_endpoint(),
            prod.http_endpoint(),
            Arc::clone(&control),
        ),
        Sender::start(
            "staging",
            staging.grpc_endpoint(),
            staging.http_endpoint(),
            Arc::clone(&control),
        ),
    ];

    // Before: traffic for a second, and until both environments have pushes stored.
    let traffic_start = Instant::now();
    let stored_both = wait_until(PUSH_TIMEOUT, || {
        let environments = analyzer.environments();
        traffic_start.elapsed() >= BEFORE_KILL
            && ENVIRONMENTS
                .iter()
                .all(|env| field(&environments, env, "pushes") >= 2)
    });
    assert!(
        stored_both,
        "the analyzer did not store two pushes of each environment within {PUSH_TIMEOUT:?}: {}\n{}\n{}",
        analyzer.environments(),
        prod.stderr_tail(),
        staging.stderr_tail()
    );
    // Committed (and so readable) before the kill: whatever the analyzer acknowledged by now
    // is among these, and must all be there after the restart.
    let before_kill = analyzer.environments();

    control.set_phase(Phase::AnalyzerDown);
    analyzer.kill_9();
    let down_since = Instant::now();
    while down_since.elapsed() < DOWN {
        for (env, receiver) in [("prod", &prod), ("staging", &staging)] {
            assert!(
                port_accepts(receiver.grpc_addr()) && port_accepts(receiver.http_addr()),
                "the {env} receiver stopped listening while the analyzer was down\n{}",
                receiver.stderr_tail()
            );
        }
        thread::sleep(Duration::from_millis(100));
    }

    let analyzer_died_for = down_since.elapsed();
    let mut analyzer = AnalyzerProcess::start_at(&site, 2);
    let restarted_at = unix_nanos_now();
    control.set_phase(Phase::After);
    let after_restart = analyzer.environments();
    for env in ENVIRONMENTS {
        let (before, after) = (
            field(&before_kill, env, "pushes"),
            field(&after_restart, env, "pushes"),
        );
        assert!(
            after >= before,
            "{env}: {before} pushes were stored before the SIGKILL, only {after} after the \
             restart\nbefore: {before_kill}\nafter: {after_restart}"
        );
    }

    // Catch-up: pushes go in order, so a stored window that ended after the restart means
    // every window queued while the analyzer was down was delivered first.
    let restart = Instant::now();
    let caught_up = wait_until(PUSH_TIMEOUT, || {
        let environments = analyzer.environments();
        restart.elapsed() >= AFTER_RESTART
            && ENVIRONMENTS
                .iter()
                .all(|env| field(&environments, env, "last_window_end_unix_nano") >= restarted_at)
    });
    assert!(
        caught_up,
        "the receivers did not catch up within {PUSH_TIMEOUT:?} of the restart (no window \
         ending after it stored): {}\n{}\n{}",
        analyzer.environments(),
        prod.stderr_tail(),
        staging.stderr_tail()
    );

    let [prod_sender, staging_sender] = senders;
    let reports = [
        ("prod", prod_sender.stop()),
        ("staging", staging_sender.stop()),
    ];
    // SIGTERM: each receiver pushes its last window and flushes what is queued.
    for (env, receiver) in [("prod", &mut prod), ("staging", &mut staging)] {
        let status = receiver.stop();
        assert!(
            status.success(),
            "the {env} receiver exited with {status}\n{}",
            receiver.stderr_tail()
        );
    }
    let api_environments = analyzer.environments();
    let metrics = analyzer.metrics();
    analyzer.terminate();

    // Every OTLP request succeeded, including while the analyzer was down.
    let failures: Vec<&String> = reports.iter().flat_map(|(_, r)| &r.failures).collect();
    assert!(
        failures.is_empty(),
        "{} OTLP exports were not acknowledged by the receivers:\n{failures:#?}",
        failures.len()
    );
    for (env, report) in &reports {
        let down = report.acknowledged[Phase::AnalyzerDown as usize];
        assert!(
            down >= MIN_REQUESTS_WHILE_DOWN,
            "the {env} sender made only {down} requests in the {analyzer_died_for:?} the \
             analyzer was down (acknowledged per phase: {:?})",
            report.acknowledged
        );
    }

    let store = open_store(&site);
    let stored_environments = environments(&store);
    let names: Vec<&str> = stored_environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ENVIRONMENTS, "{stored_environments:#?}");
    let mut mismatches = String::new();
    for ((env, report), summary) in reports.iter().zip(&stored_environments) {
        assert_eq!(
            summary.receivers, 1,
            "{env}: one receiver pushed: {summary:?}"
        );
        // No push arrived after the API was last asked.
        assert_eq!(
            summary.pushes,
            field(&api_environments, env, "pushes"),
            "{env}: the store and /api/v1/environments disagree: {summary:?} vs {api_environments}"
        );
        let merged = merged(&store, env);
        assert_eq!(merged.pushes, summary.pushes, "{env}");
        let stored = tally_of(&merged);
        if let Some(diff) = difference(&stored, &report.accepted) {
            mismatches.push_str(&format!(
                "{env} ({} pushes stored, {} spans acknowledged by the receiver, {} stored):\n{diff}",
                summary.pushes,
                report.accepted.spans(),
                stored.spans()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "the merged store does not count exactly what the receivers acknowledged:\n{mismatches}\n{}\n{}",
        prod.stderr_tail(),
        staging.stderr_tail()
    );

    // The restarted analyzer's own counters agree with its store.
    let total: u64 = stored_environments.iter().map(|e| e.pushes).sum();
    assert_eq!(
        sample(&metrics, "otel_parity_stored_pushes"),
        total as f64,
        "otel_parity_stored_pushes after the last push\n{metrics}"
    );
    for result in ["invalid", "error"] {
        let name = format!("otel_parity_pushes_total{{result=\"{result}\"}}");
        assert_eq!(sample(&metrics, &name), 0.0, "{name}\n{metrics}");
    }
    let stored_since_restart = sample(&metrics, "otel_parity_pushes_total{result=\"stored\"}");
    assert!(
        stored_since_restart >= 1.0 && stored_since_restart <= total as f64,
        "otel_parity_pushes_total{{result=\"stored\"}} of the restarted analyzer is \
         {stored_since_restart}, the store holds {total}\n{metrics}"
    );
    eprintln!(
        "durability with receivers: {total} pushes ({stored_since_restart} after the restart, \
         {} of them retries already stored), {} + {} spans, {:?} total",
        sample(&metrics, "otel_parity_pushes_total{result=\"duplicate\"}"),
        reports[0].1.accepted.spans(),
        reports[1].1.accepted.spans(),
        started.elapsed()
    );
}
