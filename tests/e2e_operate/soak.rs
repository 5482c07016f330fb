//! The soak, not in the default run (minutes long):
//!
//! ```sh
//! cargo build --release
//! CARGO_BIN_EXE_otel-parity=target/release/otel-parity \
//!     cargo test --test e2e_operate soak -- --ignored --nocapture
//! ```
//!
//! A cardinality explosion through the real gRPC port of one receiver that never ends its
//! window (no analyzer: the hardest case for memory): 10 million metric series (`user.id` on
//! cart's requests, 5,000 new ones per request) and spans whose names churn through 100,000
//! values, side by side. The receiver's RSS, sampled every second, stays under 100 MiB and
//! flat after warm-up; the series estimate is within 2% of 10 million; and the overflow
//! counters say what the span-operation cap left out, to the span. `SOAK_SERIES` makes it
//! shorter (or longer).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use otel_parity_testkit::e2e::{ReceiverProcess, json_at, proto_f64, proto_u64};
use otel_parity_testkit::raw::grpc::{grpc_call, grpc_channel, runtime};
use otel_parity_testkit::shop::{Load, Shop};
use prost::Message;

use crate::value;

const METRICS_EXPORT: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
const TRACES_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
/// New series per metrics request.
const SERIES_PER_REQUEST: u64 = 5_000;
/// Distinct span names the traces churn through.
const SPAN_NAMES: u64 = 100_000;
const SPANS_PER_REQUEST: usize = 500;
/// The RSS bound of the issue.
const RSS_LIMIT: u64 = 100 << 20;
const MIB: f64 = (1 << 20) as f64;

fn rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches(" kB").parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Trace requests whose span names, over all of them, are `SPAN_NAMES` distinct values.
fn churning_traces() -> Vec<(Vec<u8>, u64)> {
    let shop = Shop::prod();
    let load = Load {
        spans: SPANS_PER_REQUEST,
        ..Load::BENCH
    };
    let requests = SPAN_NAMES / SPANS_PER_REQUEST as u64;
    (0..requests)
        .map(|seed| {
            let mut request = shop.load_traces(&load, seed);
            let first = seed * SPANS_PER_REQUEST as u64;
            let spans = request
                .resource_spans
                .iter_mut()
                .flat_map(|r| &mut r.scope_spans)
                .flat_map(|s| &mut s.spans);
            for (n, span) in (first..).zip(spans) {
                span.name = format!("GET /api/products/{n:06}");
            }
            (request.encode_to_vec(), SPANS_PER_REQUEST as u64)
        })
        .collect()
}

#[test]
#[ignore = "soak: minutes long; cargo test --test e2e_operate soak -- --ignored"]
fn a_cardinality_explosion_keeps_rss_flat_under_100_mib_and_overflow_says_what_was_capped() {
    let series: u64 = std::env::var("SOAK_SERIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let traces = churning_traces();
    let receiver = ReceiverProcess::start_with(&[], &[], "1h");
    let pid = receiver.pid();
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let spans_sent = Arc::new(AtomicU64::new(0));

    let metrics_sender = {
        let endpoint = receiver.grpc_endpoint();
        thread::spawn(move || {
            let rt = runtime();
            let channel = rt.block_on(grpc_channel(&endpoint));
            let shop = Shop::prod();
            for first in (0..series).step_by(SERIES_PER_REQUEST as usize) {
                let points = SERIES_PER_REQUEST.min(series - first);
                let body = shop.cardinality_explosion(first, points).encode_to_vec();
                rt.block_on(grpc_call(&channel, METRICS_EXPORT, body, true))
                    .unwrap_or_else(|status| panic!("metrics export refused: {status:?}"));
            }
        })
    };
    let traces_sender = {
        let endpoint = receiver.grpc_endpoint();
        let (done, spans_sent) = (Arc::clone(&done), Arc::clone(&spans_sent));
        thread::spawn(move || {
            let rt = runtime();
            let channel = rt.block_on(grpc_channel(&endpoint));
            for (body, spans) in traces.iter().cycle() {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                rt.block_on(grpc_call(&channel, TRACES_EXPORT, body.clone(), true))
                    .unwrap_or_else(|status| panic!("traces export refused: {status:?}"));
                spans_sent.fetch_add(*spans, Ordering::Relaxed);
            }
        })
    };

    let mut curve: Vec<(f64, u64)> = Vec::new();
    while !metrics_sender.is_finished() {
        curve.push((started.elapsed().as_secs_f64(), rss(pid)));
        thread::sleep(Duration::from_secs(1));
    }
    done.store(true, Ordering::Relaxed);
    metrics_sender.join().expect("metrics sender");
    traces_sender.join().expect("traces sender");
    curve.push((started.elapsed().as_secs_f64(), rss(pid)));

    let metrics = receiver.metrics();
    let mut receiver = receiver;
    receiver.stop();
    let snapshot = receiver.read_snapshot().expect("the final snapshot");

    // The curve, for the issue note: start (after warm-up), end, highest.
    let warm = curve.len() / 5;
    let after_warmup = &curve[warm.max(1)..];
    let highest = curve.iter().map(|(_, r)| *r).max().unwrap_or(0);
    let first_quarter = &after_warmup[..after_warmup.len().div_ceil(4)];
    let last_quarter = &after_warmup[after_warmup.len() * 3 / 4..];
    let mean = |samples: &[(f64, u64)]| {
        samples.iter().map(|(_, r)| *r as f64).sum::<f64>() / samples.len().max(1) as f64
    };
    println!(
        "soak: {series} series and {} spans in {:.0} s; RSS at {:.0} s (after warm-up) {:.1} MiB, \
         at the end {:.1} MiB, highest {:.1} MiB; mean of the first and last quarters after \
         warm-up {:.1} and {:.1} MiB",
        spans_sent.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        after_warmup[0].0,
        after_warmup[0].1 as f64 / MIB,
        curve[curve.len() - 1].1 as f64 / MIB,
        highest as f64 / MIB,
        mean(first_quarter) / MIB,
        mean(last_quarter) / MIB,
    );
    println!(
        "soak curve (s, MiB): {}",
        curve
            .iter()
            .step_by((curve.len() / 20).max(1))
            .map(|(t, r)| format!("{t:.0}:{:.1}", *r as f64 / MIB))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(
        highest < RSS_LIMIT,
        "RSS reached {:.1} MiB",
        highest as f64 / MIB
    );
    assert!(
        mean(last_quarter) <= mean(first_quarter) * 1.10 + 4.0 * MIB,
        "RSS grew after warm-up: {:.1} → {:.1} MiB",
        mean(first_quarter) / MIB,
        mean(last_quarter) / MIB
    );

    let cart = json_at(
        &snapshot,
        &[
            "environments",
            "prod",
            "services",
            "shop/cart",
            "metrics",
            "app.cart.requests",
        ],
    )
    .expect("cart's app.cart.requests in the snapshot");
    assert_eq!(proto_u64(json_at(cart, &["dataPoints"])), Ok(series));
    let estimate = proto_f64(json_at(cart, &["series", "estimate"])).expect("a series estimate");
    assert!(
        (estimate - series as f64).abs() / (series as f64) < 0.02,
        "series estimate {estimate} for {series}"
    );
    // Every span is fingerprinted into its operation or counted over the cap, none lost.
    let spans = value(
        &metrics,
        "otel_parity_receiver_accepted_items_total{signal=\"traces\",protocol=\"grpc\"}",
    );
    assert_eq!(spans as u64, spans_sent.load(Ordering::Relaxed));
    let mut in_operations = 0;
    for service in json_at(&snapshot, &["environments", "prod", "services"])
        .and_then(|s| s.as_object())
        .expect("services")
        .values()
    {
        for op in service["spanOperations"].as_array().into_iter().flatten() {
            in_operations += proto_u64(op.get("spans")).unwrap_or(0);
        }
    }
    let over_cap = value(
        &metrics,
        "otel_parity_receiver_overflow_total{cap=\"span_operations\"}",
    );
    println!("soak: {spans} spans, {in_operations} in span operations, {over_cap} over the cap");
    assert!(over_cap > 0.0);
    assert_eq!(in_operations + over_cap as u64, spans as u64);
}
