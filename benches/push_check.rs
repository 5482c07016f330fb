//! What checking a push at the door costs beside decoding it: prost decode of a realistic push
//! (the shop's window through the real fingerprint engine, two copies: 14 services) against
//! decode + `check_fingerprint` (caps, every sketch deserialized, counts). Criterion measures
//! each; the last line prints the ratio from one interleaved run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use otel_parity_model::check::check_fingerprint;
use otel_parity_model::limits::FingerprintLimits;
use otel_parity_proto::v1 as pb;
use otel_parity_testkit::fleet::{WINDOW, environment_window, push};
use otel_parity_testkit::shop::Shop;
use otel_parity_testkit::timing::interleaved;
use prost::Message;

/// 16 encoded pushes of 16 receivers of one environment.
fn pushes() -> Vec<Vec<u8>> {
    let base = environment_window(&Shop::prod(), 2);
    (0..16)
        .map(|receiver| {
            push(
                &base,
                "prod",
                receiver,
                0,
                1_700_000_000_000_000_000,
                WINDOW,
            )
        })
        .map(|push| push.encode_to_vec())
        .collect()
}

fn decode_and_check(bytes: &[u8], limits: &FingerprintLimits) -> bool {
    let Ok(push) = pb::PushRequest::decode(bytes) else {
        return false;
    };
    push.fingerprint
        .as_ref()
        .is_some_and(|f| check_fingerprint(f, limits).is_ok())
}

fn push_check(c: &mut Criterion) {
    let pushes = pushes();
    let limits = FingerprintLimits::default();
    for push in &pushes {
        let push = pb::PushRequest::decode(&**push).expect("decodes");
        if let Some(Err(error)) = push.fingerprint.map(|f| check_fingerprint(&f, &limits)) {
            panic!("the fleet's pushes must pass the check: {error}");
        }
    }
    let mut group = c.benchmark_group("push");
    group.throughput(Throughput::Bytes(pushes[0].len() as u64));
    group.bench_function("prost decode", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(pb::PushRequest::decode(&*pushes[i % 16]).ok())
        })
    });
    group.bench_function("decode + check", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(decode_and_check(&pushes[i % 16], &limits))
        })
    });
    group.finish();
}

fn print_ratio() {
    let pushes = pushes();
    let limits = FingerprintLimits::default();
    let (decode_ns, checked_ns) = interleaved(
        Duration::from_secs(3),
        |i| {
            black_box(pb::PushRequest::decode(&*pushes[i % 16]).ok());
        },
        |i| {
            black_box(decode_and_check(&pushes[i % 16], &limits));
        },
    );
    println!(
        "push ({} bytes): prost decode {:.1} µs, decode + check {:.1} µs → checking adds {:.2}x the decode time",
        pushes[0].len(),
        decode_ns / 1e3,
        checked_ns / 1e3,
        (checked_ns - decode_ns) / decode_ns
    );
}

criterion_group!(benches, push_check);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if !std::env::args().any(|a| a == "--profile-time") {
        print_ratio();
    }
}
