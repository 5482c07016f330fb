//! Accepted-differences files (`accepted_differences:` in the analyzer config, `report
//! --accepted`): parsed, then applied to a comparison of the shop's prod and staging, whose
//! report is rendered in every format.

#![no_main]

use libfuzzer_sys::fuzz_target;
use otel_parity_compare::CompareOptions;
use otel_parity_compare::accepted::parse_accepted;
use otel_parity_fuzz::{compare_and_render, shop_fingerprints, today};

fuzz_target!(|text: &[u8]| {
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(accepted) = parse_accepted(text, "accepted-differences.yaml") else {
        return;
    };
    let mut options = CompareOptions::new(today());
    options.accepted = accepted;
    let (prod, staging) = shop_fingerprints();
    compare_and_render(prod, staging, &options);
});
