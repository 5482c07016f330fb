//! Pairwise merges: counts add, sketches union, unreadable sketches are errors.

use hdrhistogram::Histogram;

use super::*;
use crate::sketch::{DURATION_SIGNIFICANT_DIGITS, hll_of};

fn cardinality(values: std::ops::Range<u64>) -> pb::Cardinality {
    hll_of(MAX_LG_K, values)
}

fn duration(micros: &[u64]) -> pb::DurationHistogram {
    let mut h = Histogram::<u64>::new(DURATION_SIGNIFICANT_DIGITS).unwrap();
    for m in micros {
        h.record(*m).unwrap();
    }
    duration_proto(&h)
}

#[test]
fn cardinalities_union_instead_of_adding() {
    let mut a = cardinality(0..60_000);
    merge_cardinality(&mut a, &cardinality(40_000..100_000)).unwrap();
    assert!(
        (a.estimate - 100_000.0).abs() / 100_000.0 < 0.02,
        "{}",
        a.estimate
    );
}

#[test]
fn a_corrupt_sketch_on_either_side_is_an_error_naming_it() {
    let corrupt = pb::Cardinality {
        estimate: 5.0,
        hll: vec![1, 2, 3],
    };
    let mut a = cardinality(0..1_000);
    let reason = merge_cardinality(&mut a, &corrupt).unwrap_err();
    assert!(reason.starts_with("HLL sketch does not decode"), "{reason}");
    let mut left = corrupt.clone();
    assert!(merge_cardinality(&mut left, &cardinality(0..10)).is_err());

    let with_series = |series: pb::Cardinality| {
        let metric = pb::MetricShape {
            series: Some(series),
            data_points: 10,
            ..Default::default()
        };
        pb::EnvironmentFingerprint {
            services: [(
                "shop/cart".to_owned(),
                pb::ServiceFingerprint {
                    metrics: [("app.cart.items".to_owned(), metric)].into(),
                    ..Default::default()
                },
            )]
            .into(),
            overflow: None,
        }
    };
    let mut merged = with_series(cardinality(0..1_000));
    let error = merge_environment(&mut merged, &with_series(corrupt)).unwrap_err();
    assert_eq!(
        error.location,
        r#"service "shop/cart" metric "app.cart.items" series"#
    );
    assert!(
        error.reason.starts_with("HLL sketch does not decode"),
        "{error}"
    );
}

#[test]
fn a_corrupt_duration_histogram_is_an_error_naming_its_operation() {
    let operation = |duration: pb::DurationHistogram| pb::ServiceFingerprint {
        name: "checkout".into(),
        namespace: "shop".into(),
        span_operations: vec![pb::SpanOperation {
            name: "POST /checkout".into(),
            kind: pb::SpanKind::Server as i32,
            spans: duration.count,
            duration: Some(duration),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut truncated = duration(&[1_000, 2_000]);
    truncated.hdr.truncate(20);
    let mut merged = operation(duration(&[1_000]));
    let error = merge_service(&mut merged, &operation(truncated)).unwrap_err();
    assert_eq!(
        error.location,
        r#"service "shop/checkout" span operation "POST /checkout" duration"#
    );
    assert!(
        error.reason.contains("shorter than its 40-byte header"),
        "{error}"
    );
}

#[test]
fn estimates_without_sketches_merge_to_the_larger() {
    let mut a = pb::Cardinality {
        estimate: 3.0,
        hll: vec![],
    };
    merge_cardinality(
        &mut a,
        &pb::Cardinality {
            estimate: 5.0,
            hll: vec![],
        },
    )
    .unwrap();
    assert_eq!(
        a,
        pb::Cardinality {
            estimate: 5.0,
            hll: vec![]
        }
    );
}

#[test]
fn durations_add_and_percentiles_follow() {
    let mut a = duration(&[1_000; 90]);
    merge_duration(&mut a, &duration(&[100_000; 10])).unwrap();
    assert_eq!(a.count, 100);
    assert!((a.p50_us - 1_000.0).abs() <= 10.0, "{}", a.p50_us);
    assert!((a.p99_us - 100_000.0).abs() <= 1_000.0, "{}", a.p99_us);
}

#[test]
fn services_operations_edges_and_counts_combine() {
    let op = |spans, errors| pb::SpanOperation {
        name: "POST /checkout".into(),
        kind: pb::SpanKind::Server as i32,
        spans,
        errors,
        attribute_keys: [("http.route".to_owned(), spans)].into(),
        duration: Some(duration(&[2_000])),
        propagation: Some(pb::Propagation {
            remote_parent: spans,
            ..Default::default()
        }),
        ..Default::default()
    };
    let edge = |count| pb::OperationEdge {
        parent_service: "shop/frontend".into(),
        parent_operation: "POST /checkout".into(),
        parent_kind: pb::SpanKind::Client as i32,
        child_operation: "POST /checkout".into(),
        child_kind: pb::SpanKind::Server as i32,
        count,
    };
    let service = |spans, errors, requests| pb::ServiceFingerprint {
        name: "checkout".into(),
        namespace: "shop".into(),
        span_operations: vec![op(spans, errors)],
        edges: vec![edge(spans)],
        sampling: Some(pb::Sampling {
            server_spans: spans,
            request_metric_count: requests,
            ..Default::default()
        }),
        ingestion: Some(pb::Ingestion {
            traces: Some(pb::SignalIngestion {
                items: spans,
                requests: 1,
                bytes: 100,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let env = |s: pb::ServiceFingerprint| pb::EnvironmentFingerprint {
        services: [("shop/checkout".to_owned(), s)].into(),
        overflow: Some(pb::Overflow {
            services: 1,
            ..Default::default()
        }),
    };
    let mut merged = env(service(30, 3, 40));
    merge_environment(&mut merged, &env(service(10, 1, 40))).unwrap();
    let checkout = &merged.services["shop/checkout"];
    let op = &checkout.span_operations[0];
    assert_eq!((op.spans, op.errors), (40, 4));
    assert_eq!(op.attribute_keys["http.route"], 40);
    assert_eq!(op.propagation.unwrap().remote_parent, 40);
    assert_eq!(op.duration.as_ref().unwrap().count, 2);
    assert_eq!(checkout.edges.len(), 1);
    assert_eq!(checkout.edges[0].count, 40);
    let sampling = checkout.sampling.as_ref().unwrap();
    assert_eq!(sampling.inferred_rate, 0.5);
    assert_eq!(checkout.ingestion.unwrap().traces.unwrap().requests, 2);
    assert_eq!(merged.overflow.unwrap().services, 2);
}

#[test]
fn many_bucket_layouts_with_nan_bounds_merge_sorted_without_panicking() {
    // 30 layouts, every third starting with NaN: sorted with NaN "equal" to every bound,
    // as merges did, the standard library's sort panics.
    let layout = |bounds: Vec<f64>| pb::BucketLayout {
        bounds,
        data_points: 1,
    };
    let mut a = pb::MetricShape {
        bucket_layouts: (0..30)
            .map(|i| match i % 3 {
                0 => layout(vec![f64::NAN, f64::from(i)]),
                _ => layout(vec![f64::from(30 - i)]),
            })
            .collect(),
        ..Default::default()
    };
    let b = pb::MetricShape {
        bucket_layouts: vec![
            layout(vec![1.0]),
            layout(vec![f64::from_bits(0x7ff8_0000_dead_beef), 27.0]),
        ],
        ..Default::default()
    };
    merge_metric("shop/checkout", "http.server.request.duration", &mut a, &b).unwrap();

    let firsts: Vec<f64> = a.bucket_layouts[..20].iter().map(|l| l.bounds[0]).collect();
    let expected: Vec<f64> = (1..30).filter(|v| v % 3 != 0).map(f64::from).collect();
    assert_eq!(firsts, expected);
    assert_eq!(a.bucket_layouts[0].data_points, 2);
    let nan_seconds: Vec<f64> = a.bucket_layouts[20..]
        .iter()
        .inspect(|l| assert!(l.bounds[0].is_nan()))
        .map(|l| l.bounds[1])
        .collect();
    assert_eq!(
        nan_seconds,
        [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 27.0]
    );
    // The NaN with another payload is the same layout, not a 31st.
    assert_eq!(a.bucket_layouts[29].data_points, 2);
}

#[test]
fn exports_and_schema_urls_add_associatively() {
    let service = |exports: u64, url: &str, span_cache: u64| pb::ServiceFingerprint {
        metrics: [(
            "app.orders.placed".to_owned(),
            pb::MetricShape {
                exports,
                data_points: exports * 3,
                ..Default::default()
            },
        )]
        .into(),
        resource: Some(pb::ResourceShape {
            schema_urls: [(url.to_owned(), 1)].into(),
            scopes: [(
                "shop.checkout".to_owned(),
                pb::ScopeShape {
                    count: 1,
                    schema_urls: [(url.to_owned(), 1)].into(),
                    ..Default::default()
                },
            )]
            .into(),
            ..Default::default()
        }),
        overflow: Some(pb::Overflow {
            span_cache,
            ..Default::default()
        }),
        ..Default::default()
    };
    let (a, b, c) = (
        service(6, "https://opentelemetry.io/schemas/1.26.0", 1),
        service(4, "https://opentelemetry.io/schemas/1.26.0", 0),
        service(1, "", 2),
    );
    let mut left = a.clone();
    merge_service(&mut left, &b).unwrap();
    merge_service(&mut left, &c).unwrap();
    let mut bc = b.clone();
    merge_service(&mut bc, &c).unwrap();
    let mut right = a.clone();
    merge_service(&mut right, &bc).unwrap();
    assert_eq!(left, right);
    assert_eq!(left.metrics["app.orders.placed"].exports, 11);
    let resource = left.resource.as_ref().unwrap();
    assert_eq!(
        resource.schema_urls,
        [
            ("".to_owned(), 1),
            ("https://opentelemetry.io/schemas/1.26.0".to_owned(), 2)
        ]
        .into()
    );
    assert_eq!(
        resource.scopes["shop.checkout"].schema_urls,
        resource.schema_urls
    );
    assert_eq!(left.overflow.unwrap().span_cache, 3);
}
