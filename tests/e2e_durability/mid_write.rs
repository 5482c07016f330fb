//! The store under SIGKILL mid-write: eight clients of the test's own push to the analyzer as
//! fast as it acknowledges, the analyzer is killed while several pushes wait on the store, and
//! the store must open cleanly afterwards (SQLite WAL recovery) holding every acknowledged push
//! and nothing that was never sent. The restarted analyzer then takes every push again, as
//! retrying receivers would: exactly the stored ones are duplicates, and in the end the store
//! holds each push once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use otel_parity_analyzer::store::Store;
use otel_parity_proto::v1 as pb;
use otel_parity_proto::v1::parity_service_client::ParityServiceClient;
use otel_parity_testkit::e2e::{AnalyzerProcess, AnalyzerSite, ScratchDir, unix_nanos_now};
use otel_parity_testkit::shop::NAMESPACE;
use tonic::transport::{Channel, Endpoint};

use crate::exposition::sample;
use crate::stored::{environments, merged, open_store};
use crate::wait_until;

const ENVIRONMENT: &str = "prod";
/// Concurrent pushing clients, each a receiver instance of its own.
const CLIENTS: u64 = 8;
/// Pushes acknowledged before the kill.
const ACKS_BEFORE_KILL: u64 = 200;
const ACK_TIMEOUT: Duration = Duration::from_secs(30);
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);
/// Spans of `PlaceOrder` in every push.
const PLACE_ORDER_SPANS: u64 = 10;
const CHECKOUT: &str = "shop/checkout";
/// Window length of the pushes.
const WINDOW_NANOS: u64 = 200_000_000;

/// A push's key within this test: (client, sequence).
type Key = (u64, u64);

/// What the clients sent and what the analyzer answered.
#[derive(Debug, Default)]
struct Ledger {
    sent: BTreeSet<Key>,
    acknowledged: BTreeSet<Key>,
    /// Failures seen before the kill: none may happen.
    failed_before_kill: Vec<String>,
    /// Pushes that failed because of the kill (in flight, or sent after it).
    failed_by_kill: BTreeSet<Key>,
}

fn receiver_instance(client: u64) -> String {
    format!("loadgen-{client}")
}

/// The marker operation that identifies one push in a merged fingerprint.
fn marker((client, sequence): Key) -> String {
    format!("push {}#{sequence}", receiver_instance(client))
}

/// Push `key`: a checkout service fingerprint with a `PlaceOrder` operation and the push's own
/// marker operation, over its own window after `base`.
fn push_request(base: u64, key: Key) -> pb::PushRequest {
    let (client, sequence) = key;
    let start = base + sequence * WINDOW_NANOS;
    let place_order = pb::SpanOperation {
        name: "oteldemo.CheckoutService/PlaceOrder".to_owned(),
        kind: pb::SpanKind::Server as i32,
        spans: PLACE_ORDER_SPANS,
        errors: 1,
        attribute_keys: [
            "rpc.system",
            "rpc.service",
            "rpc.method",
            "rpc.grpc.status_code",
            "app.user.id",
        ]
        .into_iter()
        .map(|k| (k.to_owned(), PLACE_ORDER_SPANS))
        .collect(),
        propagation: Some(pb::Propagation {
            remote_parent: PLACE_ORDER_SPANS,
            ..Default::default()
        }),
        ..Default::default()
    };
    let marker = pb::SpanOperation {
        name: marker(key),
        kind: pb::SpanKind::Internal as i32,
        spans: 1,
        ..Default::default()
    };
    let service = pb::ServiceFingerprint {
        namespace: NAMESPACE.to_owned(),
        name: "checkout".to_owned(),
        span_operations: vec![marker, place_order],
        ingestion: Some(pb::Ingestion {
            traces: Some(pb::SignalIngestion {
                items: PLACE_ORDER_SPANS + 1,
                requests: 3,
                bytes: 4096,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    pb::PushRequest {
        environment: ENVIRONMENT.to_owned(),
        receiver_instance: receiver_instance(client),
        window_start_unix_nano: start,
        window_end_unix_nano: start + WINDOW_NANOS,
        sequence,
        fingerprint: Some(pb::EnvironmentFingerprint {
            services: [(CHECKOUT.to_owned(), service)].into(),
            overflow: None,
        }),
    }
}

fn client(url: &str) -> ParityServiceClient<Channel> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .unwrap_or_else(|e| panic!("bad push URL {url}: {e}"))
        .timeout(PUSH_TIMEOUT)
        .connect_timeout(PUSH_TIMEOUT);
    ParityServiceClient::new(endpoint.connect_lazy())
}

/// The keys of the pushes `store` holds (by their marker operations), checking that each is
/// stored once and that the `PlaceOrder` spans add up.
fn stored_keys(store: &Store, sent: &BTreeSet<Key>) -> BTreeSet<Key> {
    let merged = merged(store, ENVIRONMENT);
    let service = merged
        .fingerprint
        .services
        .get(CHECKOUT)
        .unwrap_or_else(|| panic!("no {CHECKOUT} in the merged store: {merged:?}"));
    let by_marker: BTreeMap<String, Key> = sent.iter().map(|key| (marker(*key), *key)).collect();
    let mut keys = BTreeSet::new();
    for op in &service.span_operations {
        if op.name == "oteldemo.CheckoutService/PlaceOrder" {
            continue;
        }
        let key = *by_marker
            .get(&op.name)
            .unwrap_or_else(|| panic!("the store holds a push that was never sent: {op:?}"));
        assert_eq!(op.spans, 1, "push {key:?} is counted {} times", op.spans);
        keys.insert(key);
    }
    let place_order = service
        .span_operations
        .iter()
        .find(|op| op.name == "oteldemo.CheckoutService/PlaceOrder")
        .map_or(0, |op| op.spans);
    assert_eq!(
        place_order,
        PLACE_ORDER_SPANS * keys.len() as u64,
        "PlaceOrder spans over {} stored pushes",
        keys.len()
    );
    assert_eq!(merged.pushes, keys.len() as u64);
    let stored: u64 = environments(store).iter().map(|e| e.pushes).sum();
    assert_eq!(stored, keys.len() as u64);
    keys
}

#[test]
fn store_survives_kill_9_mid_write() {
    let started = Instant::now();
    let scratch = ScratchDir::new("durability-mid-write");
    let site = AnalyzerSite::new(&scratch.path().join("data"));
    let mut analyzer = AnalyzerProcess::start_at(&site, 1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot build a runtime: {e}"));
    // Windows start a minute ago, so that retention never touches them.
    let base = unix_nanos_now() - 60_000_000_000;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let url = site.push_url();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (ledger, acknowledged, killed, url) = (
                Arc::clone(&ledger),
                Arc::clone(&acknowledged),
                Arc::clone(&killed),
                url.clone(),
            );
            runtime.spawn(async move {
                let mut client = client(&url);
                for sequence in 0.. {
                    if killed.load(Ordering::SeqCst) {
                        break;
                    }
                    let key = (c, sequence);
                    ledger
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .sent
                        .insert(key);
                    let answer = client.push(push_request(base, key)).await;
                    let mut ledger = ledger.lock().unwrap_or_else(PoisonError::into_inner);
                    match answer {
                        Ok(response) => {
                            let duplicate = response.into_inner().duplicate;
                            assert!(
                                !duplicate,
                                "first push of {key:?} acknowledged as duplicate"
                            );
                            ledger.acknowledged.insert(key);
                            acknowledged.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) if killed.load(Ordering::SeqCst) => {
                            ledger.failed_by_kill.insert(key);
                            break;
                        }
                        Err(status) => {
                            ledger.failed_before_kill.push(format!("{key:?}: {status}"));
                            break;
                        }
                    }
                }
            })
        })
        .collect();

    let enough = wait_until(ACK_TIMEOUT, || {
        acknowledged.load(Ordering::SeqCst) >= ACKS_BEFORE_KILL
    });
    assert!(
        enough,
        "only {} pushes acknowledged within {ACK_TIMEOUT:?}: {:?}",
        acknowledged.load(Ordering::SeqCst),
        ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failed_before_kill
    );
    killed.store(true, Ordering::SeqCst);
    analyzer.kill_9();
    for task in tasks {
        runtime
            .block_on(task)
            .unwrap_or_else(|e| panic!("a pushing client failed: {e}"));
    }
    let ledger = std::mem::take(&mut *ledger.lock().unwrap_or_else(PoisonError::into_inner));
    assert!(
        ledger.failed_before_kill.is_empty(),
        "pushes failed before the kill: {:?}",
        ledger.failed_before_kill
    );
    assert_eq!(
        ledger.sent.len(),
        ledger.acknowledged.len() + ledger.failed_by_kill.len(),
        "every push sent was answered or failed"
    );

    // The analyzer is dead: the store must open (recovering its WAL) and hold every
    // acknowledged push, and nothing else than what was sent.
    let store = open_store(&site);
    let stored = stored_keys(&store, &ledger.sent);
    drop(store);
    let lost: Vec<&Key> = ledger.acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged pushes are missing after SIGKILL: {lost:?}",
        lost.len(),
        ledger.acknowledged.len()
    );

    // Restarted, the analyzer takes every push again as receivers retry them: exactly the
    // stored ones are duplicates.
    let mut analyzer = AnalyzerProcess::start_at(&site, 2);
    let wrong: Vec<String> = runtime.block_on(async {
        let mut client = client(&url);
        let mut wrong = Vec::new();
        for key in &ledger.sent {
            match client.push(push_request(base, *key)).await {
                Ok(response) => {
                    let duplicate = response.into_inner().duplicate;
                    if duplicate != stored.contains(key) {
                        wrong.push(format!(
                            "{key:?}: duplicate={duplicate}, stored before: {}",
                            stored.contains(key)
                        ));
                    }
                }
                Err(status) => wrong.push(format!("{key:?}: {status}")),
            }
        }
        wrong
    });
    assert!(
        wrong.is_empty(),
        "retried pushes after the restart: {wrong:#?}"
    );
    let metrics = analyzer.metrics();
    let duplicates = sample(&metrics, "otel_parity_pushes_total{result=\"duplicate\"}");
    let new = sample(&metrics, "otel_parity_pushes_total{result=\"stored\"}");
    assert_eq!(
        (duplicates, new),
        (
            stored.len() as f64,
            (ledger.sent.len() - stored.len()) as f64
        ),
        "(duplicate, stored) pushes counted by the restarted analyzer\n{metrics}"
    );
    analyzer.terminate();
    let store = open_store(&site);
    let all = stored_keys(&store, &ledger.sent);
    assert_eq!(
        all, ledger.sent,
        "after the retries every push is stored once"
    );
    eprintln!(
        "mid-write: {} sent, {} acknowledged, {} failed by the kill, {} stored at the kill, {:?}",
        ledger.sent.len(),
        ledger.acknowledged.len(),
        ledger.failed_by_kill.len(),
        stored.len(),
        started.elapsed()
    );
}
