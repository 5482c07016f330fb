//! Timing two functions against each other for the benches' ratio lines: criterion measures
//! each bench on its own, so a ratio of two of its means mixes two moments of a busy machine.

use std::time::{Duration, Instant};

/// Times `a` and `b` alternately over the same inputs (`a(i)`, `b(i)` for `i` in `0..64`, over
/// and over) for about `budget`, returning mean nanoseconds per call of each.
pub fn interleaved(
    budget: Duration,
    mut a: impl FnMut(usize),
    mut b: impl FnMut(usize),
) -> (f64, f64) {
    let (mut time_a, mut time_b, mut rounds) = (Duration::ZERO, Duration::ZERO, 0u32);
    let start = Instant::now();
    while start.elapsed() < budget {
        for i in 0..64 {
            let t = Instant::now();
            a(i);
            time_a += t.elapsed();
            let t = Instant::now();
            b(i);
            time_b += t.elapsed();
        }
        rounds += 64;
    }
    (
        time_a.as_nanos() as f64 / f64::from(rounds),
        time_b.as_nanos() as f64 / f64::from(rounds),
    )
}
