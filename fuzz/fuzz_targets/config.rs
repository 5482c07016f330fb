//! Receiver and analyzer config files (YAML with `${env:…}` references): parsed and
//! validated as `--config` reads them; a config that passes must run, so the receiver's
//! engine is built from it and fed the shop's traffic, and the analyzer's ingestion band
//! compares the shop's environments.

#![no_main]

use libfuzzer_sys::fuzz_target;
use otel_parity_analyzer::config::AnalyzerConfig;
use otel_parity_compare::CompareOptions;
use otel_parity_fuzz::{
    compare_and_render, env_lookup, shop_fingerprint_with, shop_fingerprints, today,
};
use otel_parity_receiver::{Fingerprinter, ReceiverConfig};
use otel_parity_runtime::config;
use otel_parity_testkit::shop::Shop;

fuzz_target!(|text: &[u8]| {
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    if let Ok(receiver) = config::parse::<ReceiverConfig>(text, "receiver.yaml", &env_lookup) {
        let engine = Fingerprinter::new(receiver.engine_config());
        shop_fingerprint_with(&engine, &Shop::staging());
    }
    if let Ok(analyzer) = config::parse::<AnalyzerConfig>(text, "analyzer.yaml", &env_lookup) {
        let mut options = CompareOptions::new(today());
        options.ingestion_band = analyzer.ingestion_band;
        let (prod, staging) = shop_fingerprints();
        compare_and_render(prod, staging, &options);
    }
});
