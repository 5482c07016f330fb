//! Metric shapes, cumulative request counts turned into deltas, and the metric-name cap.

use opentelemetry_proto::tonic::metrics::v1::{NumberDataPoint, Sum, number_data_point};

use super::*;

#[test]
fn cumulative_request_counts_become_deltas_and_restarts_count_from_zero() {
    let engine = engine();
    for (count, start) in [(10, 100), (25, 100), (4, 900)] {
        let request = metrics(
            "cart",
            vec![request_duration(vec![
                duration_histogram(count, start, "/cart"),
                duration_histogram(count, start, "/cart/items"),
            ])],
        );
        engine
            .ingest(Signal::Metrics, &request, request.len())
            .unwrap();
    }
    let snapshot = engine.snapshot();
    let cart = service(&snapshot, "staging", "shop/cart");
    // Per series: 10, then +15, then a restart (new start time) adds 4: 29 × 2.
    assert_eq!(cart.sampling.as_ref().unwrap().request_metric_count, 58);
    let shape = &cart.metrics["http.server.request.duration"];
    assert_eq!(shape.types["histogram"], 6);
    assert_eq!(shape.units["s"], 6);
    assert_eq!(shape.temporalities["cumulative"], 6);
    assert_eq!(shape.bucket_layouts.len(), 1);
    assert_eq!(
        shape.bucket_layouts[0].bounds,
        vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]
    );
    assert_eq!(shape.series.as_ref().unwrap().estimate, 2.0);
    assert_eq!(
        shape.attribute_keys["http.route"]
            .values
            .as_ref()
            .unwrap()
            .estimate,
        2.0
    );
}

#[test]
fn sums_record_monotonicity_and_metrics_over_the_cap_are_counted() {
    let mut config = EngineConfig::default();
    config.limits.max_metrics = 1;
    let engine = Fingerprinter::new(config);
    let sum = |name: &str, monotonic: bool| Metric {
        name: name.into(),
        unit: "{order}".into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![NumberDataPoint {
                attributes: vec![string("app.payment.method", "card")],
                value: Some(number_data_point::Value::AsInt(3)),
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Delta as i32,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    };
    let request = metrics(
        "checkout",
        vec![
            sum("app.orders.placed", true),
            sum("app.orders.inflight", false),
        ],
    );
    let outcome = engine
        .ingest(Signal::Metrics, &request, request.len())
        .unwrap();
    assert_eq!(outcome.accepted, 2);
    let snapshot = engine.snapshot();
    let checkout = service(&snapshot, "staging", "shop/checkout");
    assert_eq!(checkout.metrics.len(), 1);
    assert_eq!(checkout.metrics["app.orders.placed"].monotonic_points, 1);
    assert_eq!(
        checkout.metrics["app.orders.placed"].temporalities["delta"],
        1
    );
    assert_eq!(checkout.overflow.unwrap().metric_names, 1);
}

#[test]
fn cumulative_request_counts_continue_across_windows() {
    let engine = engine();
    let send = |count| {
        let request = metrics(
            "cart",
            vec![request_duration(vec![duration_histogram(
                count, 100, "/cart",
            )])],
        );
        engine
            .ingest(Signal::Metrics, &request, request.len())
            .unwrap();
    };
    let requests = |window: &pb::Snapshot| {
        service(window, "staging", "shop/cart")
            .sampling
            .as_ref()
            .unwrap()
            .request_metric_count
    };
    send(10);
    let first = engine.take_window();
    send(25);
    send(31);
    let second = engine.take_window();
    assert_eq!((requests(&first), requests(&second)), (10, 21));
}

#[test]
fn exports_count_metric_messages_not_points_and_schema_urls_are_kept() {
    let engine = engine();
    // Three exports of the request histogram with five series each; the
    // counter only in the last one. Resource and scope carry schema URLs.
    let export = |with_counter: bool| {
        let mut metrics = vec![request_duration(
            (0..5)
                .map(|n| duration_histogram(7, 100, &format!("/route/{n}")))
                .collect(),
        )];
        if with_counter {
            metrics.push(Metric {
                name: "app.orders.placed".into(),
                unit: "{order}".into(),
                data: Some(metric::Data::Sum(
                    opentelemetry_proto::tonic::metrics::v1::Sum {
                        data_points: vec![Default::default()],
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: true,
                    },
                )),
                ..Default::default()
            });
        }
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: resource("checkout", "staging", "checkout-1"),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope("shop.checkout", "1.4.0"),
                    metrics,
                    schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.24.0".into(),
            }],
        }
        .encode_to_vec()
    };
    for with_counter in [false, false, true] {
        let request = export(with_counter);
        engine
            .ingest(Signal::Metrics, &request, request.len())
            .unwrap();
    }
    let snapshot = engine.snapshot();
    let checkout = service(&snapshot, "staging", "shop/checkout");
    let duration = &checkout.metrics["http.server.request.duration"];
    assert_eq!((duration.exports, duration.data_points), (3, 15));
    assert_eq!(checkout.metrics["app.orders.placed"].exports, 1);
    let resource = checkout.resource.as_ref().unwrap();
    assert_eq!(
        resource.schema_urls,
        [("https://opentelemetry.io/schemas/1.24.0".to_owned(), 3)].into()
    );
    assert_eq!(
        resource.scopes["shop.checkout"].schema_urls,
        [("https://opentelemetry.io/schemas/1.26.0".to_owned(), 3)].into()
    );
}

#[test]
fn snapshot_with_non_finite_histogram_bounds_reads_back() {
    // Found by fuzzing (`ingest_metrics`): a histogram whose explicit bounds held a NaN made
    // the snapshot file unreadable, because JSON numbers cannot say NaN and the bound was
    // written as `null`. The engine keeps bounds as sent; the file must keep them too.
    let nan_with_payload = f64::from_bits(0xffff_0a08_126e_6f69);
    let mut point = duration_histogram(3, 100, "/checkout");
    point.explicit_bounds = vec![0.005, 0.25, nan_with_payload, f64::INFINITY, 10.0];
    point.bucket_counts = vec![3, 0, 0, 0, 0, 0];
    let request = metrics("checkout", vec![request_duration(vec![point])]);
    let engine = engine();
    engine
        .ingest(Signal::Metrics, &request, request.len())
        .unwrap();

    let directory = std::env::temp_dir().join(format!("parity-nan-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join("snapshot.json");
    otel_parity_model::snapshot::write(&path, &engine.snapshot()).unwrap();
    let read = otel_parity_model::snapshot::read(&path);
    std::fs::remove_dir_all(&directory).unwrap();

    let snapshot = read.expect("the snapshot the receiver wrote reads back");
    let shape =
        &service(&snapshot, "staging", "shop/checkout").metrics["http.server.request.duration"];
    let bounds = &shape.bucket_layouts[0].bounds;
    assert_eq!(bounds.len(), 5);
    assert_eq!(bounds[..2], [0.005, 0.25]);
    assert!(bounds[2].is_nan());
    assert_eq!(bounds[3..], [f64::INFINITY, 10.0]);
}
