//! Fleet load on the analyzer: N receivers × W windows of a realistic
//! multi-service fingerprint pushed over gRPC to real `otel-parity analyze`
//! processes, as a fleet of sidecars would.
//!
//! ```sh
//! cargo build --release && cargo run --release --example fleet_load -- \
//!     --receivers 1000 --windows 10 [--store postgres://…] [--replicas 2]
//! ```
//!
//! Prints, for the store and the fleet size given:
//! - push throughput and latency (p50/p99) while filling the store;
//! - push latency (p50/p99) at a steady rate while evaluation rounds run;
//! - the analyzers' CPU per push (stored and rolled up) while filling;
//! - report latency over `since=1h` and `since=24h` (median of 5);
//! - the analyzers' CPU while idle (share of one core over 20 s).
//!
//! Evaluation rounds run every 2 s (`--evaluation-interval`; the analyzer's
//! default is 15 s), so that pushes meet many of them.
//!
//! The fingerprint is the test kit's shop (five services, prod) run through
//! the receiver's engine, then varied per receiver (instance ids, counts) so
//! that no two pushes are alike.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use otel_parity_proto::v1 as pb;
use otel_parity_proto::v1::parity_service_client::ParityServiceClient;
use otel_parity_testkit::fleet::{self, WINDOW};
use otel_parity_testkit::shop::Shop;
use prost::Message;
use tonic::transport::{Channel, Endpoint};

struct Options {
    receivers: u64,
    windows: u64,
    concurrency: usize,
    store: Option<String>,
    replicas: usize,
    steady_rate: u64,
    steady_seconds: u64,
    span_minutes: u64,
    copies: u64,
    evaluation_interval: String,
}

fn options() -> Options {
    let mut options = Options {
        receivers: 100,
        windows: 10,
        concurrency: 32,
        store: None,
        replicas: 1,
        steady_rate: 200,
        steady_seconds: 20,
        span_minutes: 55,
        copies: 2,
        evaluation_interval: "2s".to_owned(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        let number = || value.parse::<u64>().unwrap_or_else(|_| usage(&args[i]));
        match args[i].as_str() {
            "--receivers" => options.receivers = number(),
            "--windows" => options.windows = number(),
            "--concurrency" => options.concurrency = number() as usize,
            "--store" => options.store = Some(value.clone()),
            "--replicas" => options.replicas = number() as usize,
            "--steady-rate" => options.steady_rate = number(),
            "--steady-seconds" => options.steady_seconds = number(),
            "--span-minutes" => options.span_minutes = number().max(1),
            "--copies" => options.copies = number().max(1),
            "--evaluation-interval" => options.evaluation_interval = value.clone(),
            other => usage(other),
        }
        i += 2;
    }
    if options.replicas > 1 && options.store.is_none() {
        eprintln!("fleet_load: --replicas above 1 needs --store postgres://…");
        std::process::exit(2);
    }
    options
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "fleet_load: bad argument {flag:?}\nusage: fleet_load [--receivers N] [--windows W] \
         [--concurrency C] [--store STORE] [--replicas R] [--steady-rate PUSHES_PER_S] \
         [--steady-seconds S] [--span-minutes M] [--copies C] [--evaluation-interval D]"
    );
    std::process::exit(2)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

struct Analyzer {
    child: Child,
    http: SocketAddr,
    push: SocketAddr,
}

impl Drop for Analyzer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let release = root.join("target/release/otel-parity");
    if release.exists() {
        release
    } else {
        eprintln!("fleet_load: build the binary first: cargo build --release");
        std::process::exit(2)
    }
}

fn start_analyzer(store: &str, data_dir: &std::path::Path, interval: &str) -> Analyzer {
    let http = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let push = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let config = data_dir.join("analyzer.yaml");
    std::fs::write(
        &config,
        format!("evaluation:\n  baseline: prod\n  interval: {interval}\n  since: 1h\n"),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", config.display()));
    let child = Command::new(binary())
        .args(["analyze", "--config"])
        .arg(&config)
        .args([
            "--listen",
            &http.to_string(),
            "--push-listen",
            &push.to_string(),
        ])
        .args(["--data-dir"])
        .arg(data_dir)
        .args(["--store", store])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the analyzer: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(push).is_err() {
        assert!(
            Instant::now() < deadline,
            "analyzer did not listen on {push}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Analyzer { child, http, push }
}

fn now_nanos() -> u64 {
    otel_parity_runtime::time::unix_nanos_now()
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Sends `pushes` with `concurrency` clients spread over `channels`;
/// returns every push's latency and the number that failed. Push `i` of
/// `count` is made by `make(i)` when it is sent (a fleet's pushes, decoded,
/// would not fit in memory all at once).
async fn send_all(
    channels: &[Channel],
    count: u64,
    make: Arc<dyn Fn(u64) -> pb::PushRequest + Send + Sync>,
    concurrency: usize,
) -> (Vec<Duration>, u64) {
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let mut client = ParityServiceClient::new(channels[worker % channels.len()].clone());
        let (next, make) = (Arc::clone(&next), Arc::clone(&make));
        let failed = Arc::clone(&failed);
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return latencies;
                }
                let push = make(i);
                let started = Instant::now();
                if client.push(push).await.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                latencies.push(started.elapsed());
            }
        });
    }
    let mut all = Vec::new();
    while let Some(result) = tasks.join_next().await {
        all.extend(result.unwrap_or_default());
    }
    all.sort();
    (all, failed.load(Ordering::Relaxed))
}

/// Pushes at `rate` per second for `seconds`, as a fleet that is up and
/// running does; returns the latencies and failures.
async fn steady(
    channels: &[Channel],
    bases: &[(&str, pb::EnvironmentFingerprint)],
    rate: u64,
    seconds: u64,
    receivers: u64,
) -> (Vec<Duration>, u64) {
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let failed = Arc::new(AtomicU64::new(0));
    let mut ticker = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let window_base = now_nanos();
    for i in 0..rate * seconds {
        ticker.tick().await;
        let (environment, base) = &bases[(i % bases.len() as u64) as usize];
        // Windows of a fleet that keeps pushing: receiver r's window w.
        let receiver = 1_000_000 + i % receivers.max(1);
        let window = i / receivers.max(1);
        let push = fleet::push(base, environment, receiver, window, window_base, WINDOW);
        let mut client = ParityServiceClient::new(channels[(i as usize) % channels.len()].clone());
        let latencies = Arc::clone(&latencies);
        let failed = Arc::clone(&failed);
        tasks.spawn(async move {
            let started = Instant::now();
            if client.push(push).await.is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            if let Ok(mut l) = latencies.lock() {
                l.push(started.elapsed());
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let mut all = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    all.sort();
    (all, failed.load(Ordering::Relaxed))
}

/// A metric's value from an analyzer's `/metrics` (0 when absent).
fn metric(analyzer: &Analyzer, name: &str) -> f64 {
    let url = format!("http://{}/metrics", analyzer.http);
    let text = ureq::get(&url)
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_string().ok())
        .unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Median latency of `/api/v1/report` over `since`, in 5 requests.
fn report_latency(analyzer: &Analyzer, since: &str) -> (Duration, usize) {
    let url = format!(
        "http://{}/api/v1/report?baseline=prod&candidate=staging&since={since}",
        analyzer.http
    );
    let mut times = Vec::new();
    let mut findings = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let body = ureq::get(&url)
            .call()
            .map_err(|e| e.to_string())
            .and_then(|mut r| r.body_mut().read_to_string().map_err(|e| e.to_string()))
            .unwrap_or_else(|e| panic!("report over {since}: {e}"));
        times.push(started.elapsed());
        let report: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("report JSON: {e}"));
        findings = report["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("not a report: {body}"))
            .len();
    }
    times.sort();
    (times[2], findings)
}

/// Seconds of CPU the analyzers have used so far, together.
fn analyzer_cpu(analyzers: &[Analyzer]) -> f64 {
    analyzers.iter().map(|a| cpu_seconds(a.child.id())).sum()
}

/// Seconds of CPU (user + system) a process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which may hold spaces) start after ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 (1-based), 11 and 12 here.
    (ticks(11) + ticks(12)) / 100.0
}

fn print_latencies(what: &str, latencies: &[Duration], failed: u64, elapsed: Duration) {
    println!(
        "{what}: {} pushes in {:.1} s = {:.0} pushes/s, latency p50 {:.1} ms, p99 {:.1} ms, \
         max {:.1} ms, failed {failed}",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        millis(percentile(latencies, 0.5)),
        millis(percentile(latencies, 0.99)),
        millis(percentile(latencies, 1.0)),
    );
}

fn main() {
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let scratch = std::env::temp_dir().join(format!("fleet-load-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap_or_else(|e| panic!("{}: {e}", scratch.display()));
    let store = options
        .store
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", scratch.join("otel-parity.db").display()));
    let prod = fleet::environment_window(&Shop::prod(), options.copies);
    let staging = {
        let mut staging = prod.clone();
        // Staging lacks the payment service's traces and a metric of the
        // checkout: the comparison has work to do.
        for (key, service) in &mut staging.services {
            if key.ends_with("payment") {
                service.span_operations.clear();
                service.edges.clear();
            }
            if key.ends_with("checkout") {
                let first = service.metrics.keys().next().cloned();
                if let Some(name) = first {
                    service.metrics.remove(&name);
                }
            }
        }
        staging
    };
    println!(
        "fingerprint: {} services, {} bytes per push; store {}; {} replica(s); {} receivers × {} windows per environment",
        prod.services.len(),
        prod.encoded_len(),
        otel_parity_analyzer::store::redact_url(&store),
        options.replicas,
        options.receivers,
        options.windows
    );
    let analyzers: Vec<Analyzer> = (0..options.replicas)
        .map(|i| {
            let dir = scratch.join(format!("replica-{i}"));
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            start_analyzer(&store, &dir, &options.evaluation_interval)
        })
        .collect();
    runtime.block_on(async {
        let mut channels = Vec::new();
        for analyzer in &analyzers {
            for _ in 0..4 {
                let endpoint = Endpoint::from_shared(format!("http://{}", analyzer.push))
                    .unwrap_or_else(|e| panic!("endpoint: {e}"));
                channels.push(
                    endpoint
                        .connect()
                        .await
                        .unwrap_or_else(|e| panic!("connect {}: {e}", analyzer.push)),
                );
            }
        }

        // 1. Fill: every receiver's windows spread over the last span
        // minutes, both environments.
        let span = Duration::from_secs(options.span_minutes * 60);
        let spacing = span / options.windows.max(1) as u32;
        let first_window = now_nanos() - span.as_nanos() as u64;
        // Oldest windows first, both environments, every receiver.
        let per_environment = options.windows * options.receivers;
        let filled = 2 * per_environment;
        let (receivers, bases) = (
            options.receivers,
            Arc::new([("prod", prod.clone()), ("staging", staging.clone())]),
        );
        let make = Arc::new(move |i: u64| {
            let (environment, base) = &bases[(i % 2) as usize];
            let j = i / 2;
            fleet::push(
                base,
                environment,
                j % receivers,
                j / receivers,
                first_window,
                spacing,
            )
        });
        let cpu_before = analyzer_cpu(&analyzers);
        let started = Instant::now();
        let (latencies, failed) = send_all(&channels, filled, make, options.concurrency).await;
        print_latencies("fill", &latencies, failed, started.elapsed());

        // Roll-up catches up.
        let started = Instant::now();
        while metric(&analyzers[0], "otel_parity_store_pending_pushes") > 0.0
            && started.elapsed() < Duration::from_secs(600)
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        println!(
            "roll-up caught up {:.1} s after the last push; analyzer CPU per push \
             (stored and rolled up): {:.0} µs",
            started.elapsed().as_secs_f64(),
            (analyzer_cpu(&analyzers) - cpu_before) * 1e6 / filled as f64
        );

        // 2. Steady pushes while evaluation rounds run (every 2 s).
        let bases = [("prod", prod.clone()), ("staging", staging.clone())];
        let started = Instant::now();
        let (latencies, failed) = steady(
            &channels,
            &bases,
            options.steady_rate,
            options.steady_seconds,
            options.receivers,
        )
        .await;
        print_latencies("steady, evaluating", &latencies, failed, started.elapsed());
    });

    // 3. Reports, once the steady pushes are rolled up.
    std::thread::sleep(Duration::from_secs(3));
    for since in ["1h", "24h"] {
        let (latency, findings) = report_latency(&analyzers[0], since);
        println!(
            "report since={since}: {:.1} ms (median of 5), {findings} findings",
            millis(latency)
        );
    }
    let stored = metric(&analyzers[0], "otel_parity_stored_pushes");
    println!("stored pushes (as counted by replica 0): {stored}");

    // 4. Idle CPU.
    std::thread::sleep(Duration::from_secs(5));
    let before: Vec<f64> = analyzers
        .iter()
        .map(|a| cpu_seconds(a.child.id()))
        .collect();
    let idle = Duration::from_secs(20);
    std::thread::sleep(idle);
    for (i, analyzer) in analyzers.iter().enumerate() {
        let used = cpu_seconds(analyzer.child.id()) - before[i];
        println!(
            "idle CPU, replica {i}: {:.2}% of one core over {} s",
            100.0 * used / idle.as_secs_f64(),
            idle.as_secs()
        );
    }
    drop(analyzers);
    let _ = std::fs::remove_dir_all(&scratch);
}
