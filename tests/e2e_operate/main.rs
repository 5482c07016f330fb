//! End to end: operating a real `otel-parity receive` process. Its own telemetry on
//! `--telemetry` (`telemetry`: the Python SDK's traffic counted in `/metrics`, `/readyz`
//! following the pushes), admission control under overload (`admission`: refusals before the
//! body is read, with OTLP's retryable answers, counted), process faults (`faults`: SIGTERM
//! drains and pushes the last window; a SIGKILL loses only the unpushed window, and the next
//! run says how much) and, not in the default run, the soak (`soak`: a cardinality explosion
//! through the gRPC port with RSS flat under 100 MiB).

mod admission;
mod faults;
mod soak;
mod telemetry;

use std::time::Duration;

use otel_parity_testkit::e2e::{ReceiverProcess, poll_until};

/// A log without its ANSI colours, so that `field=value` can be looked for.
pub fn plain(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, then a final byte in @..~.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The value of one series (`name{labels}` exactly as exposed) in Prometheus text.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}

/// [`sample`], panicking with the exposition when the series is missing.
pub fn value(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
}

/// Polls the receiver's `/metrics` until `series` has `expected`; its last value otherwise.
pub fn wait_for_value(receiver: &ReceiverProcess, series: &str, expected: f64) -> f64 {
    let mut last = f64::NAN;
    poll_until(Duration::from_secs(20), Duration::from_millis(100), || {
        last = sample(&receiver.metrics(), series).unwrap_or(f64::NAN);
        last == expected
    });
    last
}
