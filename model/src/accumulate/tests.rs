//! `finish` of any grouping of the same fingerprints is the same fingerprint.

use hdrhistogram::Histogram;
use otel_parity_proto::v1 as pb;
use proptest::prelude::*;

use super::*;
use crate::check::check_sketches;
use crate::sketch::{SERIES_LG_K, VALUES_LG_K, hll_of as hll};

/// splitmix64: a tiny deterministic generator, so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn durations(rng: &mut Rng, count: u64) -> pb::DurationHistogram {
    let mut histogram = Histogram::<u64>::new(2).unwrap();
    for _ in 0..count {
        histogram.record(1 + rng.below(2_000_000)).unwrap();
    }
    duration_proto(&histogram)
}

const SERVICES: [&str; 5] = [
    "shop/frontend",
    "shop/cart",
    "shop/checkout",
    "shop/payment",
    "shop/shipping",
];
const METRICS: [&str; 4] = [
    "http.server.request.duration",
    "app.cart.items",
    "db.client.operation.duration",
    "app.orders.placed",
];
const KEYS: [&str; 3] = ["http.request.method", "http.route", "db.system.name"];
const OPERATIONS: [&str; 3] = ["GET /cart", "POST /checkout", "SELECT orders"];

/// One receiver's window: a random subset of the shop, with series drawn
/// from a shared value space so that windows overlap (unions, not sums).
fn window(rng: &mut Rng) -> pb::EnvironmentFingerprint {
    let mut fingerprint = pb::EnvironmentFingerprint::default();
    for service_name in SERVICES {
        if rng.below(4) == 0 {
            continue;
        }
        let mut service = pb::ServiceFingerprint {
            name: service_name.into(),
            ..Default::default()
        };
        let instance = rng.below(6);
        service.resource = Some(pb::ResourceShape {
            resources: 1 + rng.below(3),
            attribute_keys: [
                ("service.name".to_owned(), 1),
                ("host.name".to_owned(), rng.below(3)),
            ]
            .into(),
            instances: Some(hll(VALUES_LG_K, std::iter::once(instance))),
            ..Default::default()
        });
        for metric_name in METRICS {
            if rng.below(3) == 0 {
                continue;
            }
            let points = 1 + rng.below(500);
            let base = rng.below(5_000);
            let mut metric = pb::MetricShape {
                types: [("histogram".to_owned(), points)].into(),
                units: [("s".to_owned(), points)].into(),
                data_points: points,
                series: Some(hll(SERIES_LG_K, base..base + points)),
                ..Default::default()
            };
            for key in KEYS {
                if rng.below(2) == 0 {
                    let values = rng.below(50);
                    metric.attribute_keys.insert(
                        key.to_owned(),
                        pb::AttributeKeyShape {
                            count: points,
                            values: Some(hll(VALUES_LG_K, 0..values)),
                        },
                    );
                }
            }
            service.metrics.insert(metric_name.to_owned(), metric);
        }
        for (i, name) in OPERATIONS.iter().enumerate() {
            if rng.below(2) == 0 {
                continue;
            }
            let spans = 1 + rng.below(200);
            service.span_operations.push(pb::SpanOperation {
                name: (*name).into(),
                kind: if i == 2 { 3 } else { 2 },
                spans,
                errors: rng.below(spans),
                attribute_keys: [("http.route".to_owned(), spans)].into(),
                duration: Some(durations(rng, spans)),
                ..Default::default()
            });
        }
        service.logs = Some(pb::LogShape {
            records: rng.below(100),
            severities: [("INFO".to_owned(), rng.below(100))].into(),
            ..Default::default()
        });
        fingerprint.services.insert(service_name.into(), service);
    }
    fingerprint
}

/// Every distinct-count estimate in a fingerprint, by location: the sketches
/// themselves are compared through them.
fn estimates(fingerprint: &pb::EnvironmentFingerprint) -> Vec<(String, f64)> {
    let mut estimates = Vec::new();
    for (key, service) in &fingerprint.services {
        if let Some(c) = service.resource.as_ref().and_then(|r| r.instances.as_ref()) {
            estimates.push((format!("{key} instances"), c.estimate));
        }
        for (name, metric) in &service.metrics {
            if let Some(c) = &metric.series {
                estimates.push((format!("{key} {name} series"), c.estimate));
            }
            for (attribute, shape) in &metric.attribute_keys {
                if let Some(c) = &shape.values {
                    estimates.push((format!("{key} {name} {attribute}"), c.estimate));
                }
            }
        }
    }
    estimates
}

/// The fingerprint without sketch bytes or estimates: what must match exactly.
fn exact_part(fingerprint: &pb::EnvironmentFingerprint) -> pb::EnvironmentFingerprint {
    let mut exact = fingerprint.clone();
    clear_sketches(&mut exact);
    for service in exact.services.values_mut() {
        if let Some(c) = service.resource.as_mut().and_then(|r| r.instances.as_mut()) {
            c.estimate = 0.0;
        }
        for metric in service.metrics.values_mut() {
            if let Some(c) = metric.series.as_mut() {
                c.estimate = 0.0;
            }
            for shape in metric.attribute_keys.values_mut() {
                if let Some(c) = shape.values.as_mut() {
                    c.estimate = 0.0;
                }
            }
        }
    }
    exact
}

fn accumulate(
    fingerprints: impl IntoIterator<Item = pb::EnvironmentFingerprint>,
) -> pb::EnvironmentFingerprint {
    let mut accumulator = Accumulator::new();
    for fingerprint in fingerprints {
        accumulator.add(fingerprint).unwrap();
    }
    accumulator.finish().unwrap()
}

fn assert_same(a: &pb::EnvironmentFingerprint, b: &pb::EnvironmentFingerprint, what: &str) {
    assert_eq!(exact_part(a), exact_part(b), "{what}: counts and maps");
    let (ea, eb) = (estimates(a), estimates(b));
    assert_eq!(ea.len(), eb.len(), "{what}: sketch locations");
    for ((la, va), (lb, vb)) in ea.iter().zip(&eb) {
        assert_eq!(la, lb);
        // Both are unions of the same inputs; only the order differs.
        let tolerance = (va.max(*vb) * 0.02).max(1.0);
        assert!((va - vb).abs() <= tolerance, "{what}: {la}: {va} vs {vb}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Rollups of any grouping (windows into buckets, replicas into one
    /// environment) merge to what merging every push does.
    #[test]
    fn merging_rollups_equals_merging_every_push(
        seed in any::<u64>(),
        receivers in 1usize..6,
        windows in 1usize..12,
        bucket_size in 1usize..5,
    ) {
        let mut rng = Rng(seed);
        let pushes: Vec<Vec<pb::EnvironmentFingerprint>> = (0..receivers)
            .map(|_| (0..windows).map(|_| window(&mut rng)).collect())
            .collect();
        let every_push = accumulate(pushes.iter().flatten().cloned());

        // Buckets of `bucket_size` windows across all receivers, then the
        // buckets merged: what a report over a range of rollups does.
        let rollups: Vec<pb::EnvironmentFingerprint> = (0..windows)
            .step_by(bucket_size)
            .map(|start| {
                accumulate(pushes.iter().flat_map(|r| {
                    r[start..(start + bucket_size).min(windows)].iter().cloned()
                }))
            })
            .collect();
        let from_rollups = accumulate(rollups);
        assert_same(&every_push, &from_rollups, "rollups vs pushes");

        // Pairwise merging (the old way) agrees too.
        let mut pairwise = pushes[0][0].clone();
        for push in pushes.iter().flatten().skip(1) {
            merge_environment(&mut pairwise, push).unwrap();
        }
        assert_same(&every_push, &pairwise, "accumulated vs pairwise");
    }
}

#[test]
fn series_of_many_windows_union_instead_of_adding() {
    let windows = (0..20u64).map(|w| pb::EnvironmentFingerprint {
        services: [(
            "shop/cart".to_owned(),
            pb::ServiceFingerprint {
                metrics: [(
                    "app.cart.items".to_owned(),
                    pb::MetricShape {
                        data_points: 10_000,
                        series: Some(hll(SERIES_LG_K, w * 5_000..w * 5_000 + 10_000)),
                        ..Default::default()
                    },
                )]
                .into(),
                ..Default::default()
            },
        )]
        .into(),
        ..Default::default()
    });
    let merged = accumulate(windows);
    let metric = &merged.services["shop/cart"].metrics["app.cart.items"];
    assert_eq!(metric.data_points, 200_000);
    let estimate = metric.series.as_ref().unwrap().estimate;
    // Windows overlap by half: 19 * 5,000 + 10,000 distinct series.
    assert!(
        (estimate - 105_000.0).abs() / 105_000.0 < 0.02,
        "{estimate}"
    );
}

#[test]
fn a_sketch_that_does_not_decode_is_named_and_nothing_is_added() {
    let mut rng = Rng(7);
    let good = window(&mut rng);
    let mut bad = good.clone();
    let (key, service) = bad.services.iter_mut().next().unwrap();
    let key = key.clone();
    let (name, metric) = service.metrics.iter_mut().next().unwrap();
    let name = name.clone();
    metric.series.as_mut().unwrap().hll = vec![2, 1, 7, 0, 0];

    let error = check_sketches(&bad).unwrap_err();
    assert_eq!(
        error.location,
        format!("service {key:?} metric {name:?} series")
    );
    assert!(
        error.reason.starts_with("HLL sketch does not decode"),
        "{}",
        error.reason
    );

    let mut accumulator = Accumulator::new();
    accumulator.add(good.clone()).unwrap();
    assert_eq!(accumulator.add(bad).unwrap_err(), error);
    assert_eq!(accumulator.added(), 1);
    assert_same(
        &accumulator.finish().unwrap(),
        &accumulate([good]),
        "after a refused add",
    );
}

#[test]
fn precision_above_what_receivers_write_is_refused() {
    let mut fingerprint = pb::EnvironmentFingerprint::default();
    fingerprint.services.insert(
        "s".into(),
        pb::ServiceFingerprint {
            resource: Some(pb::ResourceShape {
                instances: Some(hll(MAX_LG_K + 2, 0..10)),
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let error = check_sketches(&fingerprint).unwrap_err();
    assert_eq!(error.location, "service \"s\" resource instances");
    assert!(error.reason.contains("precision 16"), "{}", error.reason);
}

#[test]
fn nothing_added_finishes_to_nothing() {
    assert_eq!(Accumulator::new().finish(), None);
}
