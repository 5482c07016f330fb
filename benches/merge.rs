//! Merging a fleet's pushes: the accumulator (sketches kept live, serialized
//! once) against pairwise merging (every sketch deserialized and serialized
//! again at each push), over the same 100 realistic pushes (two copies of
//! the shop, ~15 KB each); and the roll-up's merge of pushes the push
//! service handed over already decoded. (What decoding and checking a push
//! costs: `benches/push_check.rs`.)
//!
//! The last lines print the ratio from one interleaved run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use otel_parity_model::accumulate::Accumulator;
use otel_parity_model::merge::merge_environment;
use otel_parity_proto::v1 as pb;
use otel_parity_testkit::fleet;
use otel_parity_testkit::shop::Shop;
use otel_parity_testkit::timing::interleaved;
use prost::Message;

const PUSHES: u64 = 100;

fn pushes() -> Vec<Vec<u8>> {
    let base = fleet::environment_window(&Shop::prod(), 2);
    (0..PUSHES)
        .map(|i| {
            fleet::push(&base, "prod", i, i / 10, 0, fleet::WINDOW)
                .fingerprint
                .unwrap_or_default()
                .encode_to_vec()
        })
        .collect()
}

fn decode(bytes: &[u8]) -> pb::EnvironmentFingerprint {
    pb::EnvironmentFingerprint::decode(bytes).unwrap_or_default()
}

fn accumulate(pushes: &[Vec<u8>]) -> Option<pb::EnvironmentFingerprint> {
    let mut accumulator = Accumulator::new();
    for bytes in pushes {
        accumulator.add(decode(bytes)).ok()?;
    }
    accumulator.finish()
}

/// The roll-up's case when the push service handed the pushes over
/// decoded: merging only.
fn accumulate_decoded(
    pushes: Vec<pb::EnvironmentFingerprint>,
) -> Option<pb::EnvironmentFingerprint> {
    let mut accumulator = Accumulator::new();
    for fingerprint in pushes {
        accumulator.add(fingerprint).ok()?;
    }
    accumulator.finish()
}

fn pairwise(pushes: &[Vec<u8>]) -> Option<pb::EnvironmentFingerprint> {
    let mut merged = decode(&pushes[0]);
    for bytes in &pushes[1..] {
        merge_environment(&mut merged, &decode(bytes)).ok()?;
    }
    Some(merged)
}

fn merging(c: &mut Criterion) {
    let pushes = pushes();
    let mut group = c.benchmark_group(format!(
        "merge_{PUSHES}_pushes_of_{}_bytes",
        pushes[0].len()
    ));
    group.throughput(Throughput::Elements(PUSHES));
    group.sample_size(20);
    group.bench_function("accumulator", |b| b.iter(|| black_box(accumulate(&pushes))));
    let decoded: Vec<_> = pushes.iter().map(|bytes| decode(bytes)).collect();
    group.bench_function("accumulator_handed_decoded", |b| {
        b.iter_batched(
            || decoded.clone(),
            |decoded| black_box(accumulate_decoded(decoded)),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("pairwise", |b| b.iter(|| black_box(pairwise(&pushes))));
    group.finish();
}

fn print_ratio() {
    let pushes = pushes();
    let decoded: Vec<_> = pushes.iter().map(|bytes| decode(bytes)).collect();
    let (accumulator, pair) = interleaved(
        Duration::from_secs(4),
        |_| {
            black_box(accumulate(&pushes));
        },
        |_| {
            black_box(pairwise(&pushes));
        },
    );
    let (handed, _) = interleaved(
        Duration::from_secs(2),
        |_| {
            black_box(accumulate_decoded(decoded.clone()));
        },
        |_| {
            black_box(decoded.clone());
        },
    );
    let per_push = |nanos: f64| nanos / 1e3 / PUSHES as f64;
    println!(
        "merging {PUSHES} pushes of {} bytes: accumulator {:.1} µs per push, pairwise {:.1} µs \
         per push → accumulator is {:.2}x faster; handed over decoded (clone included) {:.1} µs",
        pushes[0].len(),
        per_push(accumulator),
        per_push(pair),
        pair / accumulator,
        per_push(handed)
    );
}

criterion_group!(benches, merging);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_ratio();
}
