//! Three receiver replicas of one environment, merged by the analyzer, give
//! the fingerprint one receiver computes from all the traffic: counts exact,
//! cardinality within sketch error.

use otel_parity_model::merge::merge_environment;
use otel_parity_proto::v1 as pb;
use otel_parity_receiver::{EngineConfig, Fingerprinter, Signal};
use otel_parity_testkit::shop::{Load, Shop};
use prost::Message;

/// Requests of one SDK instance always reach the same replica (as with one
/// Collector sidecar per instance), so cumulative series are not split.
fn replica_of(seed: u64) -> usize {
    ((seed % 16) % 3) as usize
}

fn traffic() -> Vec<(Signal, u64, Vec<u8>)> {
    let shop = Shop::prod();
    let load = Load {
        spans: 64,
        metrics: 6,
        points: 40,
        ..Load::BENCH
    };
    let mut requests = Vec::new();
    for seed in 0..48 {
        let traces = shop.load_traces(&load, seed).encode_to_vec();
        requests.push((Signal::Traces, seed, traces));
        let metrics = shop.load_metrics(&load, seed).encode_to_vec();
        requests.push((Signal::Metrics, seed, metrics));
    }
    for batch in 0..6 {
        let explosion = shop.cardinality_explosion(batch * 5_000, 5_000);
        requests.push((Signal::Metrics, batch, explosion.encode_to_vec()));
    }
    requests
}

fn without_sketches(mut env: pb::EnvironmentFingerprint) -> pb::EnvironmentFingerprint {
    for service in env.services.values_mut() {
        if let Some(resource) = service.resource.as_mut() {
            resource.instances = None;
        }
        for metric in service.metrics.values_mut() {
            metric.series = None;
            for key in metric.attribute_keys.values_mut() {
                key.values = None;
            }
        }
        for op in &mut service.span_operations {
            if let Some(duration) = op.duration.as_mut() {
                duration.hdr.clear();
            }
        }
    }
    env
}

#[test]
fn three_merged_replicas_equal_one_receiver_given_all_traffic() {
    let single = Fingerprinter::new(EngineConfig::default());
    let replicas: Vec<Fingerprinter> = (0..3)
        .map(|_| Fingerprinter::new(EngineConfig::default()))
        .collect();
    for (signal, seed, request) in traffic() {
        single.ingest(signal, &request, request.len()).unwrap();
        replicas[replica_of(seed)]
            .ingest(signal, &request, request.len())
            .unwrap();
    }
    let whole = single.snapshot().environments.remove("prod").unwrap();
    let mut merged = pb::EnvironmentFingerprint::default();
    for replica in &replicas {
        let env = replica.snapshot().environments.remove("prod").unwrap();
        merge_environment(&mut merged, &env).expect("replicas merge");
    }

    // Cardinality: within sketch error of the single receiver's estimate.
    let mut compared = 0;
    for (key, service) in &whole.services {
        let other = &merged.services[key];
        for (name, metric) in &service.metrics {
            let (a, b) = (
                metric.series.as_ref().unwrap().estimate,
                other.metrics[name].series.as_ref().unwrap().estimate,
            );
            assert!(
                (a - b).abs() <= (a * 0.02).max(1.0),
                "{key} {name}: {a} vs {b}"
            );
            compared += 1;
        }
        let instances = |s: &pb::ServiceFingerprint| {
            s.resource
                .as_ref()
                .unwrap()
                .instances
                .as_ref()
                .unwrap()
                .estimate
        };
        assert_eq!(instances(service), instances(other), "{key} instances");
    }
    assert!(compared > 20);
    let cart = &merged.services["shop/cart"].metrics["app.cart.requests"];
    let series = cart.series.as_ref().unwrap().estimate;
    assert!((series - 30_000.0).abs() / 30_000.0 < 0.02, "{series}");

    // Everything else, exactly: counts, maps, operations, edges, durations.
    for (key, service) in &merged.services {
        for (a, b) in service
            .span_operations
            .iter()
            .zip(&whole.services[key].span_operations)
        {
            assert_eq!(
                a.duration.as_ref().unwrap().count,
                b.duration.as_ref().unwrap().count
            );
        }
    }
    assert_eq!(without_sketches(merged), without_sketches(whole));
}
