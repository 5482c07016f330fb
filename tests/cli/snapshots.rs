//! The periodic snapshot: rewritten every `--snapshot-interval`, always whole (written to a
//! temporary file and renamed), its counts only ever growing, and complete at SIGTERM.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use otel_parity_testkit::e2e::{Expectations, ReceiverProcess, json_at, proto_u64};
use otel_parity_testkit::raw::http::{PROTOBUF, http_request};
use serde_json::{Value, json};

use crate::expect_snapshot::expect_operations;
use crate::otlp_requests::{RESOURCE_ENVIRONMENT, operation_of, shop_traces};

/// How long the test keeps sending while it watches the snapshot file.
const SENDING: Duration = Duration::from_secs(2);
/// The snapshot interval under test.
const INTERVAL: &str = "200ms";
/// Fewest distinct snapshots expected while sending: 10 at 200 ms, minus slack for a busy
/// machine; a 1 s interval would give at most 3.
const MIN_SNAPSHOTS: usize = 5;

/// What a reader saw of the snapshot file, read over and over.
#[derive(Default)]
struct Observations {
    reads: usize,
    /// Reads that were not complete JSON, described.
    torn: Vec<String>,
    /// `received.traces.items` of each complete read, in order.
    items: Vec<u64>,
    /// Distinct `windowEndUnixNano`: one per snapshot written.
    window_ends: BTreeSet<String>,
}

/// Reads the snapshot at `path` every few milliseconds until `stop`.
fn watch(path: &Path, stop: &AtomicBool) -> Observations {
    let mut seen = Observations::default();
    while !stop.load(Ordering::Relaxed) {
        match std::fs::read(path) {
            Ok(bytes) => {
                seen.reads += 1;
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(snapshot) => {
                        let items = json_at(&snapshot, &["received", "traces", "items"]);
                        seen.items.push(proto_u64(items).unwrap_or(u64::MAX));
                        if let Some(end) = snapshot["windowEndUnixNano"].as_str() {
                            seen.window_ends.insert(end.to_owned());
                        }
                    }
                    Err(e) => seen.torn.push(format!(
                        "{} bytes, {e}: …{}",
                        bytes.len(),
                        String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(80)..])
                    )),
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => panic!("cannot read {}: {e}", path.display()),
        }
        thread::sleep(Duration::from_millis(5));
    }
    seen
}

#[test]
fn snapshot_is_rewritten_every_interval_atomically() {
    let mut receiver = ReceiverProcess::start_with(&[], &[], INTERVAL);
    let path = receiver.snapshot_path().to_owned();
    let addr = receiver.http_addr();
    let stop = AtomicBool::new(false);
    let services = [("checkout", 5), ("frontend", 3)];
    let spans_per_request: u64 = services.iter().map(|(_, spans)| spans).sum();

    let (requests, failure, seen) = thread::scope(|scope| {
        let reader = scope.spawn(|| watch(&path, &stop));
        let mut requests = 0;
        let mut failure = None;
        let deadline = Instant::now() + SENDING;
        while Instant::now() < deadline {
            let body = shop_traces(requests, &services);
            let response = http_request(
                addr,
                "POST",
                "/v1/traces",
                &[("Content-Type", PROTOBUF)],
                &body,
            );
            if response.status != 200 {
                failure = Some(response.describe());
                break;
            }
            requests += 1;
            thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
        let seen = reader
            .join()
            .unwrap_or_else(|_| panic!("the snapshot reader panicked"));
        (requests, failure, seen)
    });
    if let Some(failure) = failure {
        panic!(
            "export {requests} failed: {failure}\n{}",
            receiver.stderr_tail()
        );
    }

    let mut expect = Expectations::new();
    expect.check(
        seen.torn.is_empty(),
        "snapshot reads",
        format!(
            "{} of {} reads were not complete JSON: {:?}",
            seen.torn.len(),
            seen.reads,
            seen.torn
        ),
        None,
    );
    expect.check(
        seen.window_ends.len() >= MIN_SNAPSHOTS,
        "snapshots written while sending",
        format!(
            "expected at least {MIN_SNAPSHOTS} at --snapshot-interval {INTERVAL} over {SENDING:?}, \
             saw {} in {} reads",
            seen.window_ends.len(),
            seen.reads
        ),
        None,
    );
    let decrease = seen.items.windows(2).position(|pair| pair[1] < pair[0]);
    expect.check(
        decrease.is_none(),
        "received.traces.items over successive reads",
        format!("decreased at read {decrease:?}: {:?}", seen.items),
        None,
    );
    let sent = requests * spans_per_request;
    let last_seen = seen.items.last().copied().unwrap_or(0);
    expect.check(
        last_seen > 0 && last_seen <= sent,
        "received.traces.items while sending",
        format!("last read {last_seen}, sent {sent}"),
        None,
    );

    let status = receiver.stop();
    assert!(
        status.success(),
        "receiver exited {status}\n{}",
        receiver.stderr_tail()
    );
    let snapshot = receiver
        .read_snapshot()
        .unwrap_or_else(|| panic!("no snapshot after SIGTERM\n{}", receiver.stderr_tail()));
    let received = json_at(&snapshot, &["received", "traces"])
        .cloned()
        .unwrap_or(json!({}));
    expect.u64_eq("final received.traces", &received, &["requests"], requests);
    expect.u64_eq("final received.traces", &received, &["items"], sent);
    for (service, spans) in services {
        expect_operations(
            &mut expect,
            &snapshot,
            RESOURCE_ENVIRONMENT,
            &format!("shop/{service}"),
            &[(
                operation_of(service),
                "SPAN_KIND_SERVER",
                spans * requests,
                0,
            )],
        );
    }
    expect.finish("periodic snapshots", &receiver.stderr_tail());
}
