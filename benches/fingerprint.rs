//! Fingerprinting versus prost decoding of the same OTLP bytes.
//!
//! DESIGN.md's target: fingerprinting (validation included) at least as fast
//! as prost can merely decode the request, ideally 2x faster. Criterion
//! measures each; the last lines print the ratio from one interleaved run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use otel_parity_receiver::{EngineConfig, Fingerprinter, Signal};
use otel_parity_testkit::shop::{Load, Shop};
use otel_parity_testkit::timing::interleaved;
use prost::Message;

/// The requests: 512 spans of about 440 bytes with 10 attributes, 500 points with 5 attributes.
const LOAD: Load = Load::BENCH;
const SPANS: usize = LOAD.spans;

/// 16 trace requests of the shop's services, as the fingerprint gets them.
fn trace_requests() -> Vec<Vec<u8>> {
    let shop = Shop::prod();
    (0..16)
        .map(|seed| shop.load_traces(&LOAD, seed).encode_to_vec())
        .collect()
}

/// 16 metrics requests of the shop's services.
fn metrics_requests() -> Vec<Vec<u8>> {
    let shop = Shop::prod();
    (0..16)
        .map(|seed| shop.load_metrics(&LOAD, seed).encode_to_vec())
        .collect()
}

fn traces(c: &mut Criterion) {
    let requests = trace_requests();
    let bytes_per_span = requests[0].len() / SPANS;
    let engine = Fingerprinter::new(EngineConfig::default());
    let mut group = c.benchmark_group(format!("traces_{SPANS}_spans_of_{bytes_per_span}_bytes"));
    group.throughput(Throughput::Elements(SPANS as u64));
    let mut n = 0;
    group.bench_function("prost_decode", |b| {
        b.iter(|| {
            n += 1;
            black_box(ExportTraceServiceRequest::decode(&*requests[n % requests.len()]).ok())
        })
    });
    group.bench_function("fingerprint", |b| {
        b.iter(|| {
            n += 1;
            let request = &requests[n % requests.len()];
            black_box(engine.ingest(Signal::Traces, request, request.len()).ok())
        })
    });
    group.finish();
}

fn metrics(c: &mut Criterion) {
    let requests = metrics_requests();
    let engine = Fingerprinter::new(EngineConfig::default());
    let mut group = c.benchmark_group("metrics_500_points_5_attributes");
    group.throughput(Throughput::Elements(500));
    let mut n = 0;
    group.bench_function("prost_decode", |b| {
        b.iter(|| {
            n += 1;
            black_box(ExportMetricsServiceRequest::decode(&*requests[n % requests.len()]).ok())
        })
    });
    group.bench_function("fingerprint", |b| {
        b.iter(|| {
            n += 1;
            let request = &requests[n % requests.len()];
            black_box(engine.ingest(Signal::Metrics, request, request.len()).ok())
        })
    });
    group.finish();
}

fn print_ratios() {
    let budget = Duration::from_secs(3);
    let traces = trace_requests();
    let engine = Fingerprinter::new(EngineConfig::default());
    let (prost_ns, fingerprint_ns) = interleaved(
        budget,
        |i| {
            black_box(ExportTraceServiceRequest::decode(&*traces[i % 16]).ok());
        },
        |i| {
            black_box(engine.ingest(Signal::Traces, &traces[i % 16], 0).ok());
        },
    );
    println!(
        "traces ({SPANS} spans, {} bytes): prost decode {:.1} µs, fingerprint {:.1} µs → fingerprint is {:.2}x prost decode speed",
        traces[0].len(),
        prost_ns / 1e3,
        fingerprint_ns / 1e3,
        prost_ns / fingerprint_ns
    );
    let metrics = metrics_requests();
    let (prost_ns, fingerprint_ns) = interleaved(
        budget,
        |i| {
            black_box(ExportMetricsServiceRequest::decode(&*metrics[i % 16]).ok());
        },
        |i| {
            black_box(engine.ingest(Signal::Metrics, &metrics[i % 16], 0).ok());
        },
    );
    println!(
        "metrics (500 points, {} bytes): prost decode {:.1} µs, fingerprint {:.1} µs → fingerprint is {:.2}x prost decode speed",
        metrics[0].len(),
        prost_ns / 1e3,
        fingerprint_ns / 1e3,
        prost_ns / fingerprint_ns
    );
}

criterion_group!(benches, traces, metrics);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `--profile-time` runs one bench under a profiler: no ratio pass then.
    if !std::env::args().any(|a| a == "--profile-time") {
        print_ratios();
    }
}
