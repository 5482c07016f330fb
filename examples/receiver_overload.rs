//! Overload on the receiver: a real `otel-parity receive` process offered OTLP/gRPC traffic at
//! several times what it can fingerprint, to show what admission control holds it to.
//!
//! ```sh
//! cargo build --release && cargo run --release --example receiver_overload -- \
//!     [--budget-mib 16] [--overload 5] [--seconds 20] [--spans 2000] [--connections 32] \
//!     [--max-grpc-streams 1024]
//! ```
//!
//! 1. Capacity: closed-loop gzip'd trace exports (the shop's spans, `--spans` per request, about
//!    440 bytes each decompressed) with as many calls in flight as the budget holds, for a
//!    quarter of `--seconds`: the requests per second the receiver accepts.
//! 2. Overload: the same requests offered open-loop at `--overload` × that rate for
//!    `--seconds`, over `--connections` HTTP/2 connections.
//!
//! Prints, for the overload phase: offered, accepted and refused requests (by gRPC code, and
//! by the receiver's reasons); the receiver's RSS when warm, its peak (VmHWM) and its highest
//! sample, against the bound; and whether every accepted request was fingerprinted (the
//! receiver's `accepted_requests` and `accepted_items` = the snapshot's requests and the spans in
//! its services' fingerprints, and the client's OK answers within them). Exit 1 when a check
//! fails.
//!
//! The bound: RSS when warm + the budget + what HTTP/2 may buffer before the receiver reads a
//! request (hyper's connection window, 1 MiB per connection, not charged to the budget) +
//! [`STREAM_STATE_KIB`] for each gRPC call the receiver lets be in flight
//! (`admission.max_grpc_streams`, `--max-grpc-streams` here).

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use http_body_util::{BodyExt, Full};
use otel_parity_testkit::shop::{Load, Shop};
use prost::Message;
use tonic::codegen::Service as _;
use tonic::codegen::http;
use tonic::transport::{Channel, Endpoint};

const TRACES_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
/// What one gRPC call in flight holds beyond its bytes (HTTP/2 stream, request and task
/// state, allocator slack): about 9.5 KiB measured at 1,024 calls in flight, doubled.
const STREAM_STATE_KIB: u64 = 16;
/// hyper's HTTP/2 connection window: unread request bytes one connection may buffer.
const CONNECTION_WINDOW_MIB: u64 = 1;
/// Distinct requests sent in turn (different span and trace ids).
const DISTINCT_REQUESTS: u64 = 32;
const MIB: u64 = 1 << 20;

struct Options {
    budget_mib: u64,
    overload: f64,
    seconds: u64,
    spans: usize,
    connections: usize,
    max_grpc_streams: u64,
}

fn options() -> Options {
    let mut options = Options {
        budget_mib: 16,
        overload: 5.0,
        seconds: 20,
        spans: 2000,
        connections: 32,
        max_grpc_streams: 1024,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        let bad = || -> ! {
            eprintln!(
                "receiver_overload: bad argument {} {value}\nusage: receiver_overload \
                 [--budget-mib N] [--overload X] [--seconds N] [--spans N] [--connections N] \
                 [--max-grpc-streams N]",
                pair[0]
            );
            std::process::exit(2)
        };
        match pair[0].as_str() {
            "--budget-mib" => options.budget_mib = value.parse().unwrap_or_else(|_| bad()),
            "--overload" => options.overload = value.parse().unwrap_or_else(|_| bad()),
            "--seconds" => options.seconds = value.parse().unwrap_or_else(|_| bad()),
            "--spans" => options.spans = value.parse().unwrap_or_else(|_| bad()),
            "--connections" => options.connections = value.parse().unwrap_or_else(|_| bad()),
            "--max-grpc-streams" => {
                options.max_grpc_streams = value.parse().unwrap_or_else(|_| bad())
            }
            _ => bad(),
        }
    }
    options
}

fn binary() -> PathBuf {
    let release = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/otel-parity");
    if !release.exists() {
        eprintln!("receiver_overload: build the binary first: cargo build --release");
        std::process::exit(2)
    }
    release
}

fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

/// The receiver under load; killed on drop.
struct Receiver {
    child: Child,
    grpc: SocketAddr,
    telemetry: SocketAddr,
    snapshot: PathBuf,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    fn start(dir: &Path, budget_mib: u64, max_grpc_streams: u64) -> Receiver {
        let (grpc, http, telemetry) = (free_addr(), free_addr(), free_addr());
        let config = dir.join("receiver.yaml");
        std::fs::write(
            &config,
            // Both listeners take 4 MiB at most (the Collector's gRPC default), so that
            // the budget may be as small as 8 MiB.
            format!(
                "otlp:\n  protocols:\n    http:\n      max_request_body_size: 4194304\n\
                 admission:\n  max_inflight_mib: {budget_mib}\n  retry_after: 1s\n  \
                 max_grpc_streams: {max_grpc_streams}\n"
            ),
        )
        .expect("config written");
        let snapshot = dir.join("snapshot.json");
        let child = Command::new(binary())
            .arg("receive")
            .arg("--config")
            .arg(&config)
            .args(["--otlp-grpc", &grpc.to_string()])
            .args(["--otlp-http", &http.to_string()])
            .args(["--telemetry", &telemetry.to_string()])
            .arg("--snapshot")
            .arg(&snapshot)
            .args(["--snapshot-interval", "1h"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the receiver starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(telemetry).is_err() {
            assert!(Instant::now() < deadline, "the receiver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Receiver {
            child,
            grpc,
            telemetry,
            snapshot,
        }
    }

    /// A line of `/proc/PID/status` (`VmRSS`, `VmHWM`), in bytes.
    fn status_bytes(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().trim_end_matches(" kB").parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    }

    fn metrics(&self) -> String {
        let url = format!("http://{}/metrics", self.telemetry);
        ureq::get(&url)
            .call()
            .and_then(|mut r| r.body_mut().read_to_string())
            .expect("/metrics answers")
    }

    /// SIGTERM (final snapshot), then the snapshot.
    fn stop(mut self) -> serde_json::Value {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let text = std::fs::read_to_string(&self.snapshot).expect("the final snapshot");
        serde_json::from_str(&text).expect("snapshot JSON")
    }
}

fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
        .unwrap_or(f64::NAN)
}

/// One gzip'd trace export, framed for gRPC, and its spans.
fn requests(spans: usize) -> Vec<(Bytes, u64)> {
    let shop = Shop::prod();
    let load = Load {
        spans,
        ..Load::BENCH
    };
    (0..DISTINCT_REQUESTS)
        .map(|seed| {
            let message = shop.load_traces(&load, seed).encode_to_vec();
            let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
            gzip.write_all(&message).expect("gzip");
            let compressed = gzip.finish().expect("gzip");
            let mut frame = Vec::with_capacity(5 + compressed.len());
            frame.push(1);
            frame.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
            frame.extend_from_slice(&compressed);
            (Bytes::from(frame), spans as u64)
        })
        .collect()
}

/// What became of the calls of one phase.
#[derive(Default)]
struct Outcomes {
    ok: AtomicU64,
    ok_spans: AtomicU64,
    unavailable: AtomicU64,
    other: AtomicU64,
    /// Other answers by gRPC code (`Unknown`: no answer within 30 s).
    other_codes: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

/// Sends one framed export; its grpc-status.
async fn export(channel: &Channel, frame: Bytes) -> tonic::Code {
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://receiver{TRACES_EXPORT}"))
        .header("content-type", "application/grpc")
        .header("grpc-encoding", "gzip")
        .header("te", "trailers")
        .body(tonic::body::Body::new(Full::new(frame)))
        .expect("a request");
    let mut channel = channel.clone();
    let call = async move {
        std::future::poll_fn(|cx| channel.poll_ready(cx))
            .await
            .ok()?;
        let response = channel.call(request).await.ok()?;
        if let Some(status) = tonic::Status::from_header_map(response.headers()) {
            return Some(status.code());
        }
        let collected = response.into_body().collect().await.ok()?;
        let trailers = collected.trailers()?;
        tonic::Status::from_header_map(trailers).map(|s| s.code())
    };
    match tokio::time::timeout(Duration::from_secs(30), call).await {
        Ok(Some(code)) => code,
        _ => tonic::Code::Unknown,
    }
}

fn record(outcomes: &Outcomes, code: tonic::Code, spans: u64) {
    match code {
        tonic::Code::Ok => {
            outcomes.ok.fetch_add(1, Ordering::Relaxed);
            outcomes.ok_spans.fetch_add(spans, Ordering::Relaxed);
        }
        tonic::Code::Unavailable => {
            outcomes.unavailable.fetch_add(1, Ordering::Relaxed);
        }
        other => {
            outcomes.other.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut codes) = outcomes.other_codes.lock() {
                *codes.entry(format!("{other:?}")).or_default() += 1;
            }
        }
    }
}

async fn connect(receiver: SocketAddr, connections: usize) -> Vec<Channel> {
    let mut channels = Vec::with_capacity(connections);
    for _ in 0..connections {
        let channel = Endpoint::from_shared(format!("http://{receiver}"))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect to the receiver");
        channels.push(channel);
    }
    channels
}

/// Closed loop: `concurrency` calls in flight until `duration` is over; accepted per second.
async fn capacity(
    channels: &[Channel],
    requests: &Arc<Vec<(Bytes, u64)>>,
    concurrency: usize,
    duration: Duration,
) -> f64 {
    let outcomes = Arc::new(Outcomes::default());
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let channel = channels[worker % channels.len()].clone();
        let (requests, outcomes) = (Arc::clone(requests), Arc::clone(&outcomes));
        tasks.spawn(async move {
            let mut n = worker;
            while started.elapsed() < duration {
                let (frame, spans) = &requests[n % requests.len()];
                record(&outcomes, export(&channel, frame.clone()).await, *spans);
                n += concurrency;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    outcomes.ok.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Open loop: a call every `1 / rate` seconds for `duration`, whatever is in flight.
async fn offer(
    channels: &[Channel],
    requests: &Arc<Vec<(Bytes, u64)>>,
    rate: f64,
    duration: Duration,
    outcomes: &Arc<Outcomes>,
) -> u64 {
    let every = Duration::from_secs_f64(1.0 / rate);
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut offered = 0u64;
    while started.elapsed() < duration {
        ticker.tick().await;
        let channel = channels[offered as usize % channels.len()].clone();
        let (frame, spans) = requests[offered as usize % requests.len()].clone();
        let outcomes = Arc::clone(outcomes);
        tasks.spawn(async move { record(&outcomes, export(&channel, frame).await, spans) });
        offered += 1;
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    offered
}

fn main() {
    let options = options();
    let dir = std::env::temp_dir().join(format!("receiver-overload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let requests = Arc::new(requests(options.spans));
    let decoded = options.spans as u64 * 440;
    let wire = requests[0].0.len() as u64;
    println!(
        "requests: {} spans, {:.2} MiB decompressed (about), {:.2} MiB gzip'd; budget {} MiB",
        options.spans,
        decoded as f64 / MIB as f64,
        wire as f64 / MIB as f64,
        options.budget_mib
    );
    let receiver = Receiver::start(&dir, options.budget_mib, options.max_grpc_streams);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let channels = runtime.block_on(connect(receiver.grpc, options.connections));

    // Capacity, with as many calls in flight as the budget holds (each needs its compressed
    // and decompressed bytes).
    let fits = ((options.budget_mib * MIB) / (decoded + wire)).max(1) as usize;
    let warmup = Duration::from_secs((options.seconds / 4).max(3));
    let rate = runtime.block_on(capacity(&channels, &requests, fits, warmup));
    let warm_rss = receiver.status_bytes("VmRSS");
    println!(
        "capacity: {rate:.0} requests/s accepted ({:.0} spans/s) with {fits} in flight; RSS warm {:.1} MiB",
        rate * options.spans as f64,
        warm_rss as f64 / MIB as f64
    );
    let before = receiver.metrics();

    // Overload, RSS sampled meanwhile.
    let sampling = Arc::new(AtomicBool::new(true));
    let highest = Arc::new(AtomicU64::new(0));
    let pid = receiver.child.id();
    let sampler = {
        let (sampling, highest) = (Arc::clone(&sampling), Arc::clone(&highest));
        std::thread::spawn(move || {
            let probe = |field: &str| {
                std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .unwrap_or_default()
                    .lines()
                    .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                    .and_then(|r| r.trim().trim_end_matches(" kB").parse::<u64>().ok())
                    .map_or(0, |kib| kib * 1024)
            };
            while sampling.load(Ordering::Relaxed) {
                highest.fetch_max(probe("VmRSS"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let outcomes = Arc::new(Outcomes::default());
    let offered_rate = rate * options.overload;
    let overload = Duration::from_secs(options.seconds);
    let offered = runtime.block_on(offer(
        &channels,
        &requests,
        offered_rate,
        overload,
        &outcomes,
    ));
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    let peak = receiver.status_bytes("VmHWM");
    let after = receiver.metrics();
    let ok = outcomes.ok.load(Ordering::Relaxed);
    let unavailable = outcomes.unavailable.load(Ordering::Relaxed);
    let other = outcomes.other.load(Ordering::Relaxed);
    let delta = |series: &str| sample(&after, series) - sample(&before, series);
    let accepted =
        delta("otel_parity_receiver_accepted_requests_total{signal=\"traces\",protocol=\"grpc\"}");
    let refused = |reason: &str| {
        delta(&format!(
            "otel_parity_receiver_refused_requests_total{{signal=\"traces\",protocol=\"grpc\",reason=\"{reason}\"}}"
        ))
    };
    let (overloaded, streams) = (refused("overloaded"), refused("streams"));
    let other_codes = outcomes
        .other_codes
        .lock()
        .map(|codes| format!("{codes:?}"))
        .unwrap_or_default();
    println!(
        "overload: offered {offered} requests in {:?} ({offered_rate:.0}/s, {:.1}× capacity): \
         OK {ok} ({:.1}%), UNAVAILABLE {unavailable} ({:.1}%), other {other} {other_codes}",
        overload,
        options.overload,
        100.0 * ok as f64 / offered as f64,
        100.0 * unavailable as f64 / offered as f64,
    );
    println!(
        "receiver counted: accepted {accepted}, refused overloaded (budget) {overloaded}, \
         refused streams (max_grpc_streams) {streams}; the other UNAVAILABLE answers, {}, are \
         HTTP/2 REFUSED_STREAM at connections.max_concurrent_streams (not counted by the \
         receiver); connections refused {}",
        unavailable as f64 - overloaded - streams,
        sample(
            &after,
            "otel_parity_receiver_refused_connections_total{protocol=\"grpc\"}"
        )
    );
    let budget = options.budget_mib * MIB;
    let windows = options.connections as u64 * CONNECTION_WINDOW_MIB * MIB;
    let streams_state = options.max_grpc_streams * STREAM_STATE_KIB * 1024;
    let bound = warm_rss + budget + windows + streams_state;
    println!(
        "RSS: warm {:.1} MiB, highest sample {:.1} MiB, peak (VmHWM) {:.1} MiB; bound = warm + \
         budget {} MiB + HTTP/2 windows {} MiB + {} streams' state {:.0} MiB = {:.1} MiB; peak − warm = \
         {:.1} MiB ({:.2}× the budget, {:.2}× budget + windows)",
        warm_rss as f64 / MIB as f64,
        highest.load(Ordering::Relaxed) as f64 / MIB as f64,
        peak as f64 / MIB as f64,
        options.budget_mib,
        windows / MIB,
        options.max_grpc_streams,
        streams_state as f64 / MIB as f64,
        bound as f64 / MIB as f64,
        peak.saturating_sub(warm_rss) as f64 / MIB as f64,
        peak.saturating_sub(warm_rss) as f64 / budget as f64,
        peak.saturating_sub(warm_rss) as f64 / (budget + windows) as f64,
    );

    let accepted_requests = sample(
        &after,
        "otel_parity_receiver_accepted_requests_total{signal=\"traces\",protocol=\"grpc\"}",
    ) as u64;
    let accepted_spans = sample(
        &after,
        "otel_parity_receiver_accepted_items_total{signal=\"traces\",protocol=\"grpc\"}",
    ) as u64;
    let client_ok = ok
        + (sample(
            &before,
            "otel_parity_receiver_accepted_requests_total{signal=\"traces\",protocol=\"grpc\"}",
        ) as u64);
    let snapshot = receiver.stop();
    let number = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.parse::<u64>().unwrap_or(0),
        other => other.as_u64().unwrap_or(0),
    };
    let fingerprinted_requests = number(&snapshot["received"]["traces"]["requests"]);
    let mut fingerprinted_spans = 0;
    if let Some(environments) = snapshot["environments"].as_object() {
        for environment in environments.values() {
            if let Some(services) = environment["services"].as_object() {
                for service in services.values() {
                    fingerprinted_spans += number(&service["ingestion"]["traces"]["items"]);
                }
            }
        }
    }
    println!(
        "fingerprinted: {fingerprinted_requests} requests, {fingerprinted_spans} spans; accepted \
         (receiver): {accepted_requests} requests, {accepted_spans} spans; OK answers (client, \
         both phases): {client_ok}"
    );
    let _ = std::fs::remove_dir_all(&dir);

    let mut failed = Vec::new();
    if peak > bound {
        failed.push("peak RSS over the bound");
    }
    if fingerprinted_requests != accepted_requests || fingerprinted_spans != accepted_spans {
        failed.push("an accepted request was not fingerprinted");
    }
    // An answer lost on the way (a client timeout) leaves a request accepted without its OK.
    if client_ok > accepted_requests || accepted_requests > client_ok + other {
        failed.push("the receiver's accepted requests differ from the client's answers");
    }
    if unavailable == 0 {
        failed.push("nothing was refused: the offered load did not exceed the budget");
    }
    if failed.is_empty() {
        println!("ok");
    } else {
        for failure in failed {
            println!("FAILED: {failure}");
        }
        std::process::exit(1);
    }
}
