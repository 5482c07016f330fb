//! Writes the committed seed corpora, `fuzz/seeds/<target>/*`, from the shop (the scenario of the
//! demo, the end-to-end tests and the benches) and the example configs under `config/`:
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds
//! ```
//!
//! Seeds are kept small (a few KB): one service instance's batch per request, sketches left
//! out of the lint snapshot. `fuzz/capture_sdk.py` adds requests the Python SDK sends.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use otel_parity_fuzz::{engine, shop_fingerprint};
use otel_parity_lint::{Baseline, Telemetry};
use otel_parity_proto::v1 as pb;
use otel_parity_receiver::otlp::json;
use otel_parity_receiver::{Limits, Signal};
use otel_parity_testkit::shop::Shop;
use prost::Message;

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repo = fuzz.parent().ok_or("fuzz/ has a parent")?;
    let seeds = Seeds {
        dir: fuzz.join("seeds"),
    };
    let (prod, staging) = (Shop::prod(), Shop::staging());

    for (name, shop) in [("prod", &prod), ("staging", &staging)] {
        let batch = shop.batch(1, 1, 7);
        request_seeds(&seeds, Signal::Traces, name, &batch.traces)?;
        request_seeds(&seeds, Signal::Metrics, name, &batch.metrics)?;
        request_seeds(&seeds, Signal::Logs, name, &batch.logs)?;
    }

    // Pushes: two receivers of prod, one of staging, as the analyzer receives them.
    let prod_fingerprint = shop_fingerprint(&prod);
    let staging_fingerprint = shop_fingerprint(&staging);
    let mut pushes = Vec::new();
    for (sequence, (environment, instance, fingerprint)) in [
        ("prod", "receiver-a", &prod_fingerprint),
        ("prod", "receiver-b", &prod_fingerprint),
        ("staging", "receiver-c", &staging_fingerprint),
    ]
    .into_iter()
    .enumerate()
    {
        let push = pb::PushRequest {
            environment: environment.into(),
            receiver_instance: instance.into(),
            window_start_unix_nano: 1_700_000_000_000_000_000,
            window_end_unix_nano: 1_700_000_010_000_000_000,
            sequence: sequence as u64,
            fingerprint: Some(only_services(fingerprint, SEED_SERVICES)),
        };
        push.encode_length_delimited(&mut pushes)?;
    }
    seeds.write("push", "prod-and-staging.pb", &pushes)?;

    for (name, path) in [
        ("receiver.yaml", "config/receiver.yaml"),
        (
            "accepted-differences.yaml",
            "config/accepted-differences.yaml",
        ),
    ] {
        let text = std::fs::read(repo.join(path))?;
        let target = if name == "receiver.yaml" {
            "config"
        } else {
            "accepted_differences"
        };
        seeds.write(target, name, &text)?;
    }
    seeds.write("config", "analyzer.yaml", ANALYZER_CONFIG.as_bytes())?;

    // Lint: a staging capture (sketches left out: lint reads estimates), the prod baseline
    // and a rules file, NUL-separated.
    let capture = pb::Snapshot {
        receiver_instance: "ci-receiver".into(),
        environments: [(
            "staging".to_owned(),
            without_sketches(&only_services(&staging_fingerprint, SEED_SERVICES)),
        )]
        .into(),
        ..Default::default()
    };
    let prod_snapshot = pb::Snapshot {
        environments: [(
            "prod".to_owned(),
            only_services(&prod_fingerprint, SEED_SERVICES),
        )]
        .into(),
        ..Default::default()
    };
    let telemetry =
        Telemetry::from_snapshots([&prod_snapshot]).expect("the shop's snapshot merges");
    let baseline = Baseline::from_telemetry(&telemetry);
    let mut lint = serde_json::to_vec(&capture)?;
    lint.push(0);
    lint.extend_from_slice(baseline.to_yaml().as_bytes());
    lint.push(0);
    lint.extend_from_slice(LINT_RULES.as_bytes());
    seeds.write("lint", "staging-against-prod.txt", &lint)?;
    Ok(())
}

/// The services kept in fingerprint seeds (pushes, lint): two, so that they differ in more
/// than their names, and small seeds that run fast.
const SEED_SERVICES: &[&str] = &["shop/checkout", "shop/payment"];

/// An analyzer config with every key (the Kubernetes example's, plus the band).
const ANALYZER_CONFIG: &str = "listen: 0.0.0.0:8080
push_listen: 0.0.0.0:4319
data_dir: ${env:DATA:-/var/lib/otel-parity}
retention: 7d
max_push_size_mib: ${env:N}
evaluation:
  baseline: prod
  candidates: [staging, ${env:ENV}]
  interval: 15s
  since: 1h
accepted_differences: /etc/otel-parity/accepted-differences.yaml
ingestion_band: [0.5, 2.0]
";

/// A rules file using every kind of key.
const LINT_RULES: &str = "rules:
  OTP-M009: {level: error}
  OTP-M010: {enabled: false}
high_cardinality_threshold: 1000
max_name_length: 255
";

/// Where seeds go, and the checks they pass before they are written.
struct Seeds {
    dir: PathBuf,
}

impl Seeds {
    fn write(&self, target: &str, name: &str, bytes: &[u8]) -> Result<(), Failure> {
        let dir = self.dir.join(target);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        println!("{:>7} bytes  {}", bytes.len(), path.display());
        Ok(())
    }

    /// An OTLP/JSON seed, written only if the transcoder takes every item of it: a seed the
    /// receiver half rejects would teach the fuzzer the wrong shape.
    fn json(&self, target: &str, name: &str, signal: Signal, text: &[u8]) -> Result<(), Failure> {
        let transcoded = json::transcode(signal, text)?;
        if let Some(reason) = transcoded.first_rejection {
            return Err(format!("{name}: the transcoder rejects an item: {reason}").into());
        }
        let engine = engine(Limits::default());
        engine.ingest(signal, &transcoded.protobuf, text.len())?;
        self.write(target, name, text)
    }
}

/// Seeds of one environment's `signal` requests: two service instances' requests as
/// protobuf, the first also as OTLP/JSON and gzipped.
fn request_seeds<R: Message + serde::Serialize>(
    seeds: &Seeds,
    signal: Signal,
    environment: &str,
    requests: &[R],
) -> Result<(), Failure> {
    for (i, request) in requests.iter().take(2).enumerate() {
        let bytes = request.encode_to_vec();
        seeds.write(
            &format!("ingest_{signal}"),
            &format!("{environment}-{i}.pb"),
            &bytes,
        )?;
        if i == 0 {
            let name = format!("{signal}-{environment}");
            let text = serde_json::to_vec(request)?;
            seeds.json("otlp_json", &format!("{name}.json"), signal, &text)?;
            seeds.write("gzip_body", &format!("{name}.pb.gz"), &gzip(&bytes)?)?;
        }
    }
    Ok(())
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>, Failure> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// `fingerprint` with only `services`, to keep a push seed small.
fn only_services(
    fingerprint: &pb::EnvironmentFingerprint,
    services: &[&str],
) -> pb::EnvironmentFingerprint {
    let mut kept = fingerprint.clone();
    kept.services
        .retain(|key, _| services.contains(&key.as_str()));
    kept
}

/// `fingerprint` with its sketch bytes left out (the estimates stay).
fn without_sketches(fingerprint: &pb::EnvironmentFingerprint) -> pb::EnvironmentFingerprint {
    let mut stripped = fingerprint.clone();
    stripped
        .services
        .values_mut()
        .for_each(otel_parity_model::sketch::clear_sketch_bytes);
    stripped
}
