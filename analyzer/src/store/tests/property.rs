//! Rollups change nothing a report reads: for random fleets (receivers,
//! windows, services, sketches), whatever roll-up passes ran, a range read
//! equals merging exactly the pushes in it.

use datasketches::hll::{HllSketch, HllType};
use otel_parity_model::accumulate::Accumulator;
use otel_parity_model::sketch::SERIES_LG_K;
use proptest::prelude::*;

use super::*;

const SERVICES: [&str; 4] = [
    "shop/frontend",
    "shop/cart",
    "shop/checkout",
    "shop/payment",
];

/// One receiver's window, drawn from `seed`: some services, each with a
/// request counter whose series overlap across windows.
fn window(seed: u64) -> pb::EnvironmentFingerprint {
    let mut state = seed;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n.max(1)
    };
    let mut fingerprint = pb::EnvironmentFingerprint::default();
    for name in SERVICES {
        if next(3) == 0 {
            continue;
        }
        let points = 1 + next(300);
        let first_series = next(1_000);
        let mut series = HllSketch::new(SERIES_LG_K, HllType::Hll4).unwrap();
        for s in first_series..first_series + points {
            series.update(s);
        }
        let mut service = checkout(1 + next(50))
            .services
            .remove("shop/checkout")
            .unwrap();
        service.name = name.rsplit('/').next().unwrap().into();
        service.metrics.insert(
            "app.requests".into(),
            pb::MetricShape {
                types: [("sum".to_owned(), points)].into(),
                data_points: points,
                series: Some(pb::Cardinality {
                    estimate: series.estimate().round(),
                    hll: series.serialize(),
                }),
                ..Default::default()
            },
        );
        fingerprint.services.insert(name.into(), service);
    }
    fingerprint
}

/// What the store must return for a range: the pushes in it, merged.
fn expected(pushes: &[PushRequest]) -> Option<pb::EnvironmentFingerprint> {
    let mut accumulator = Accumulator::new();
    for push in pushes {
        accumulator.add(push.fingerprint.clone().unwrap()).unwrap();
    }
    accumulator.finish()
}

fn assert_matches(
    read: Option<&MergedFingerprint>,
    expected: Option<&pb::EnvironmentFingerprint>,
    count: u64,
) {
    let (Some(read), Some(expected)) = (read, expected) else {
        assert_eq!(read.is_none(), expected.is_none());
        return;
    };
    assert_eq!(read.pushes, count);
    for (key, service) in &expected.services {
        let got = &read.fingerprint.services[key];
        assert_eq!(got.span_operations, service.span_operations, "{key}");
        let (a, b) = (
            &got.metrics["app.requests"],
            &service.metrics["app.requests"],
        );
        assert_eq!(a.data_points, b.data_points, "{key}");
        let (ea, eb) = (
            a.series.as_ref().unwrap().estimate,
            b.series.as_ref().unwrap().estimate,
        );
        assert!(
            (ea - eb).abs() <= (eb * 0.02).max(1.0),
            "{key}: {ea} vs {eb}"
        );
    }
    assert_eq!(read.fingerprint.services.len(), expected.services.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn range_reads_equal_merging_the_pushes_in_range(
        seed in any::<u64>(),
        receivers in 1u64..5,
        windows in 1u64..40,
        roll_up_after in 0u64..40,
        range in (0u64..40, 1u64..40),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let t = TestStore::new(Kind::Sqlite, "property", keep_everything()).await;
            let mut pushes = Vec::new();
            for w in 0..windows {
                for r in 0..receivers {
                    let mut request = push("production", &format!("otelcol-{r}"), w, w, 1);
                    request.fingerprint = Some(window(seed ^ (w * 131 + r)));
                    pushes.push(request);
                }
            }
            // Some pushes rolled up, the rest pending.
            let (first, rest) = pushes.split_at(((roll_up_after.min(windows)) * receivers) as usize);
            insert_all(&t.store, first).await;
            t.store.roll_up_all().await.unwrap();
            insert_all(&t.store, rest).await;

            // A range of whole minutes (the rollups' precision).
            let (start_minute, minutes) = range;
            let since = T0 + start_minute * MINUTE;
            let until = since + minutes * MINUTE;
            let in_range: Vec<PushRequest> = pushes
                .iter()
                .filter(|p| p.window_start_unix_nano >= since && p.window_start_unix_nano < until)
                .cloned()
                .collect();
            let read = t.store.fingerprint("production", since, until).await.unwrap();
            assert_matches(read.as_ref(), expected(&in_range).as_ref(), in_range.len() as u64);
            let all = t.store.fingerprint("production", 0, u64::MAX).await.unwrap();
            assert_matches(all.as_ref(), expected(&pushes).as_ref(), pushes.len() as u64);
        });
    }
}
