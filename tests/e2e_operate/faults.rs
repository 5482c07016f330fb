//! Process faults. SIGTERM during heavy ingest: the receiver drains the requests in flight,
//! pushes the last window and exits within its grace period, and the analyzer's store holds
//! every span the receiver acknowledged. SIGKILL mid-window with a state directory: the next
//! run sends the pushes the killed one left unacknowledged and says, in its log and its
//! metrics, how much of the unpushed window was lost.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use otel_parity_analyzer::store::{Retention, Store, StoreLocation};
use otel_parity_testkit::e2e::{AnalyzerProcess, AnalyzerSite, ReceiverProcess, ScratchDir};
use otel_parity_testkit::raw::grpc::{grpc_call, grpc_channel};
use otel_parity_testkit::shop::Shop;
use prost::Message;

use crate::{plain, value, wait_for_value};

const TRACES_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Spans of the staging shop's traces for `requests` checkouts, round `round`: the request
/// and how many spans it carries.
fn traces(requests: u64, round: u64) -> (Vec<u8>, u64) {
    let request = Shop::staging().traces_request(requests, round);
    let spans = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len() as u64)
        .sum();
    (request.encode_to_vec(), spans)
}

/// Spans of `environment` in the store at `site` (no analyzer running on it), over every push.
fn stored_spans(site: &AnalyzerSite, environment: &str) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let location = StoreLocation::Sqlite(site.store_path());
        let store = Store::open(&location, Retention::default())
            .await
            .expect("the store opens");
        let merged = store
            .fingerprint(environment, 0, u64::MAX)
            .await
            .expect("the store merges")
            .expect("pushes of the environment");
        merged
            .fingerprint
            .services
            .values()
            .filter_map(|s| s.ingestion.as_ref()?.traces.as_ref())
            .map(|t| t.items)
            .sum()
    })
}

/// Gzip'd gRPC exports from `senders` threads until `stop`; spans acknowledged (OK answers).
fn heavy_ingest(
    endpoint: String,
    senders: u64,
    stop: Arc<AtomicBool>,
) -> Vec<thread::JoinHandle<u64>> {
    (0..senders)
        .map(|sender| {
            let (endpoint, stop) = (endpoint.clone(), Arc::clone(&stop));
            thread::spawn(move || {
                let runtime = otel_parity_testkit::raw::grpc::runtime();
                let channel = runtime.block_on(grpc_channel(&endpoint));
                let mut acknowledged = 0;
                let mut round = sender * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    let (body, spans) = traces(40, round);
                    round += 1;
                    match runtime.block_on(grpc_call(&channel, TRACES_EXPORT, body, true)) {
                        Ok(_) => acknowledged += spans,
                        // The receiver stopped taking requests (GOAWAY, connection refused).
                        Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect()
}

#[test]
fn sigterm_during_heavy_ingest_pushes_everything_acknowledged_within_the_grace_period() {
    let dir = ScratchDir::new("sigterm-drain");
    let site = AnalyzerSite::new(&dir.path().join("analyzer"));
    let mut analyzer = AnalyzerProcess::start_at(&site, 1);
    // Windows an hour long: the only push is the one the stop makes.
    let mut receiver = ReceiverProcess::start(&[
        "--analyzer",
        &site.push_url(),
        "--push-interval",
        "1h",
        "--shutdown-grace-period",
        "8s",
    ]);
    let stop = Arc::new(AtomicBool::new(false));
    let senders = heavy_ingest(receiver.grpc_endpoint(), 4, Arc::clone(&stop));
    let accepted =
        "otel_parity_receiver_accepted_requests_total{signal=\"traces\",protocol=\"grpc\"}";
    let busy = otel_parity_testkit::e2e::poll_until(
        Duration::from_secs(20),
        Duration::from_millis(50),
        || value(&receiver.metrics(), accepted) >= 200.0,
    );
    assert!(
        busy,
        "the senders did not get going: {}",
        receiver.stderr_tail()
    );

    let signalled = Instant::now();
    let exit = receiver.stop();
    let took = signalled.elapsed();
    stop.store(true, Ordering::Relaxed);
    let acknowledged: u64 = senders.into_iter().map(|s| s.join().expect("sender")).sum();
    assert!(exit.success(), "{exit:?}\n{}", receiver.stderr_tail());
    assert!(took < Duration::from_secs(8), "the stop took {took:?}");
    let log = plain(&receiver.stderr());
    assert!(log.contains("receiver stopped"), "{log}");
    assert!(log.contains("undelivered=0"), "{log}");

    analyzer.terminate();
    assert!(
        acknowledged > 8_000,
        "only {acknowledged} spans acknowledged"
    );
    assert_eq!(stored_spans(&site, "staging"), acknowledged);
}

#[test]
fn a_receiver_killed_mid_window_loses_only_that_window_and_the_next_run_says_how_much() {
    let dir = ScratchDir::new("restart-loss");
    let state = dir.path().join("state");
    let site = AnalyzerSite::new(&dir.path().join("analyzer"));
    let state_arg = state.to_str().expect("utf-8").to_owned();
    let args = |interval: &'static str| {
        vec![
            "--analyzer".to_owned(),
            site.push_url(),
            "--push-interval".to_owned(),
            interval.to_owned(),
            "--state-dir".to_owned(),
            state_arg.clone(),
            "--shutdown-grace-period".to_owned(),
            "2s".to_owned(),
        ]
    };
    let start = |interval| {
        let args = args(interval);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ReceiverProcess::start(&args)
    };
    // No analyzer yet: the first windows' pushes fail and wait, on disk.
    let first = start("1s");
    let runtime = otel_parity_testkit::raw::grpc::runtime();
    let channel = runtime.block_on(grpc_channel(&first.grpc_endpoint()));
    let (body, pushed_spans) = traces(30, 1);
    runtime
        .block_on(grpc_call(&channel, TRACES_EXPORT, body, false))
        .expect("accepted");
    let failed = "otel_parity_receiver_push_attempts_total{result=\"failed\"}";
    assert!(otel_parity_testkit::e2e::poll_until(
        Duration::from_secs(20),
        Duration::from_millis(100),
        || { value(&first.metrics(), failed) >= 1.0 }
    ));
    let pending = fs::read_dir(state.join("pending"))
        .expect("pending dir")
        .count();
    assert_eq!(pending, 1, "one window, one environment: one pending push");
    drop(first);
    // Windows of an hour from here: what it accepts stays in the current window.
    let mut second = start("1h");
    let channel = runtime.block_on(grpc_channel(&second.grpc_endpoint()));
    let mut lost_spans = 0;
    for round in 2..5 {
        let (body, spans) = traces(25, round);
        runtime
            .block_on(grpc_call(&channel, TRACES_EXPORT, body, false))
            .expect("accepted");
        lost_spans += spans;
    }
    // The window checkpoint is written every second.
    thread::sleep(Duration::from_millis(2500));
    second.kill_9();

    let mut analyzer = AnalyzerProcess::start_at(&site, 1);
    let third = start("1h");
    let metrics = third.metrics();
    assert_eq!(
        value(
            &metrics,
            "otel_parity_receiver_restart_lost_items{signal=\"traces\"}"
        ),
        lost_spans as f64
    );
    assert_eq!(
        value(
            &metrics,
            "otel_parity_receiver_restart_lost_requests{signal=\"traces\"}"
        ),
        3.0
    );
    assert_eq!(
        value(
            &metrics,
            "otel_parity_receiver_restart_lost_items{signal=\"logs\"}"
        ),
        0.0
    );
    assert_eq!(
        value(&metrics, "otel_parity_receiver_restart_recovered_pushes"),
        1.0
    );
    let log = plain(&third.stderr());
    assert!(
        log.contains("the previous run stopped without pushing its last window")
            && log.contains(&format!("traces={lost_spans}")),
        "{log}"
    );
    // The first run's window reaches the analyzer from the third run.
    let acknowledged = "otel_parity_receiver_push_attempts_total{result=\"acknowledged\"}";
    assert_eq!(wait_for_value(&third, acknowledged, 1.0), 1.0);
    assert_eq!(
        fs::read_dir(state.join("pending"))
            .expect("pending dir")
            .count(),
        0
    );
    drop(third);
    analyzer.terminate();
    assert_eq!(stored_spans(&site, "staging"), pushed_spans);
}
