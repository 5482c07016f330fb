//! Each check of a pushed fingerprint, on the checkout service of the
//! OpenTelemetry demo as one receiver saw it over one window: the untouched
//! service passes, each broken field is named with both numbers.

use hdrhistogram::Histogram;
use otel_parity_proto::v1 as pb;

use super::*;
use crate::limits::MAX_SAMPLING_THRESHOLDS;
use crate::sketch::{
    DURATION_SIGNIFICANT_DIGITS, SERIES_LG_K, VALUES_LG_K, duration_proto, hll_of as hll,
};

const CHECKOUT: &str = "shop/checkout";

fn durations(count: u64) -> pb::DurationHistogram {
    let mut histogram = Histogram::<u64>::new(DURATION_SIGNIFICANT_DIGITS).unwrap();
    for i in 0..count {
        histogram.record(800 + 37 * i).unwrap();
    }
    duration_proto(&histogram)
}

fn counts(pairs: &[(&str, u64)]) -> std::collections::BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// 100 checkout requests (25% sampled: 100 SERVER spans kept of 400
/// requests counted by the request-duration histogram), each with a database
/// call; 120 histogram points and 40 counter points; 50 log records.
fn checkout() -> pb::EnvironmentFingerprint {
    let request_duration = pb::MetricShape {
        types: counts(&[("histogram", 120)]),
        units: counts(&[("s", 120)]),
        temporalities: counts(&[("cumulative", 120)]),
        bucket_layouts: vec![pb::BucketLayout {
            bounds: vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0],
            data_points: 120,
        }],
        attribute_keys: ["http.request.method", "http.route"]
            .into_iter()
            .map(|key| {
                let shape = pb::AttributeKeyShape {
                    count: 120,
                    values: Some(hll(VALUES_LG_K, 0..4)),
                };
                (key.to_owned(), shape)
            })
            .collect(),
        series: Some(hll(SERIES_LG_K, 0..12)),
        data_points: 120,
        ..Default::default()
    };
    let orders = pb::MetricShape {
        types: counts(&[("sum", 40)]),
        units: counts(&[("{order}", 40)]),
        temporalities: counts(&[("cumulative", 40)]),
        monotonic_points: 40,
        series: Some(hll(SERIES_LG_K, 0..2)),
        data_points: 40,
        ..Default::default()
    };
    let server = pb::SpanOperation {
        name: "POST /checkout".into(),
        kind: pb::SpanKind::Server as i32,
        spans: 100,
        errors: 4,
        attribute_keys: counts(&[("http.request.method", 100), ("http.route", 100)]),
        event_names: counts(&[("exception", 4)]),
        duration: Some(durations(100)),
        propagation: Some(pb::Propagation {
            remote_parent: 97,
            local_parent: 0,
            root: 3,
        }),
        ..Default::default()
    };
    let database = pb::SpanOperation {
        name: "SELECT orders".into(),
        kind: pb::SpanKind::Client as i32,
        spans: 100,
        attribute_keys: counts(&[("db.system.name", 100)]),
        duration: Some(durations(100)),
        ..Default::default()
    };
    let service = pb::ServiceFingerprint {
        namespace: "shop".into(),
        name: "checkout".into(),
        resource: Some(pb::ResourceShape {
            resources: 3,
            attribute_keys: counts(&[("service.name", 3), ("service.version", 3)]),
            allowed_values: [(
                "service.version".to_owned(),
                pb::ValueCounts {
                    values: counts(&[("1.12.0", 3)]),
                },
            )]
            .into(),
            instances: Some(hll(VALUES_LG_K, 0..3)),
            scopes: [(
                "io.opentelemetry.flask".to_owned(),
                pb::ScopeShape {
                    count: 3,
                    versions: counts(&[("0.48b0", 3)]),
                    schema_urls: counts(&[("", 3)]),
                },
            )]
            .into(),
            schema_urls: counts(&[("", 3)]),
        }),
        metrics: [
            ("http.server.request.duration".to_owned(), request_duration),
            ("app.orders.placed".to_owned(), orders),
        ]
        .into(),
        span_operations: vec![server, database],
        edges: vec![pb::OperationEdge {
            parent_service: "shop/frontend".into(),
            parent_operation: "POST /api/checkout".into(),
            parent_kind: pb::SpanKind::Client as i32,
            child_operation: "POST /checkout".into(),
            child_kind: pb::SpanKind::Server as i32,
            count: 97,
        }],
        sampling: Some(pb::Sampling {
            thresholds: vec![pb::ThresholdCount {
                threshold: "c".into(),
                probability: 0.25,
                spans: 200,
            }],
            spans_without_threshold: 0,
            server_spans: 100,
            server_spans_adjusted: 400.0,
            server_spans_without_threshold: 0,
            request_metric_count: 400,
            inferred_rate: 0.25,
        }),
        logs: Some(pb::LogShape {
            records: 50,
            severities: counts(&[("INFO", 46), ("ERROR", 4)]),
            attribute_keys: counts(&[("order.id", 40)]),
            event_names: counts(&[("order.placed", 40)]),
            body_kinds: counts(&[("string", 50)]),
            with_trace_id: 50,
        }),
        ingestion: Some(pb::Ingestion {
            traces: Some(pb::SignalIngestion {
                items: 200,
                requests: 20,
                bytes: 88_000,
            }),
            metrics: Some(pb::SignalIngestion {
                items: 160,
                requests: 4,
                bytes: 9_000,
            }),
            logs: Some(pb::SignalIngestion {
                items: 50,
                requests: 10,
                bytes: 12_000,
            }),
        }),
        overflow: Some(pb::Overflow::default()),
    };
    pb::EnvironmentFingerprint {
        services: [(CHECKOUT.to_owned(), service)].into(),
        overflow: Some(pb::Overflow::default()),
    }
}

fn service(fingerprint: &mut pb::EnvironmentFingerprint) -> &mut pb::ServiceFingerprint {
    fingerprint.services.get_mut(CHECKOUT).unwrap()
}

fn operation(fingerprint: &mut pb::EnvironmentFingerprint) -> &mut pb::SpanOperation {
    &mut service(fingerprint).span_operations[0]
}

fn metric(fingerprint: &mut pb::EnvironmentFingerprint) -> &mut pb::MetricShape {
    service(fingerprint)
        .metrics
        .get_mut("http.server.request.duration")
        .unwrap()
}

/// The error `change` makes `checkout()` fail with, under `limits`.
fn refused(
    limits: &FingerprintLimits,
    change: impl FnOnce(&mut pb::EnvironmentFingerprint),
) -> FingerprintError {
    let mut fingerprint = checkout();
    change(&mut fingerprint);
    check_fingerprint(&fingerprint, limits).unwrap_err()
}

/// One edit of `checkout()`.
type Change = fn(&mut pb::EnvironmentFingerprint);

fn error(location: &str, reason: &str) -> FingerprintError {
    FingerprintError {
        location: location.to_owned(),
        reason: reason.to_owned(),
    }
}

#[test]
fn a_receivers_window_passes_at_default_limits_and_at_caps_equal_to_its_sizes() {
    check_fingerprint(&checkout(), &FingerprintLimits::default()).unwrap();
    // Exactly at every cap is within it.
    let tight = FingerprintLimits {
        max_services: 1,
        max_metrics: 2,
        max_span_operations: 2,
        max_attribute_keys: 2,
        max_event_names: 1,
        max_allowed_values: 1,
        max_bucket_layouts: 1,
        max_units: 1,
        max_scopes: 1,
        max_edges: 1,
    };
    check_fingerprint(&checkout(), &tight).unwrap();
}

#[test]
fn each_cap_is_checked_and_named_with_its_config_key() {
    let limit = |change: fn(&mut FingerprintLimits)| {
        let mut limits = FingerprintLimits::default();
        change(&mut limits);
        limits
    };
    let svc = r#"service "shop/checkout""#;
    let shape = r#"service "shop/checkout" metric "http.server.request.duration""#;
    let op = r#"service "shop/checkout" span operation "POST /checkout" (SPAN_KIND_SERVER)"#;
    let cases: Vec<(FingerprintLimits, FingerprintError)> = vec![
        (
            limit(|l| l.max_services = 0),
            error("environment", "1 services, above limits.max_services (0)"),
        ),
        (
            limit(|l| l.max_edges = 0),
            error("environment", "1 edges, above limits.max_edges (0)"),
        ),
        (
            limit(|l| l.max_metrics = 1),
            error(svc, "2 metric names, above limits.max_metrics (1)"),
        ),
        (
            limit(|l| l.max_span_operations = 1),
            error(
                svc,
                "2 span operations, above limits.max_span_operations (1)",
            ),
        ),
        (
            limit(|l| l.max_attribute_keys = 1),
            error(
                &format!("{svc} resource"),
                "2 attribute keys, above limits.max_attribute_keys (1)",
            ),
        ),
        (
            limit(|l| l.max_scopes = 0),
            error(
                &format!("{svc} resource"),
                "1 scopes, above limits.max_scopes (0)",
            ),
        ),
        (
            limit(|l| l.max_allowed_values = 0),
            error(
                &format!(r#"{svc} resource allowed value "service.version""#),
                "1 values, above limits.max_allowed_values (0)",
            ),
        ),
        (
            // Metrics are checked in name order.
            limit(|l| l.max_units = 0),
            error(
                r#"service "shop/checkout" metric "app.orders.placed""#,
                "1 units, above limits.max_units (0)",
            ),
        ),
        (
            limit(|l| l.max_bucket_layouts = 0),
            error(
                shape,
                "1 bucket layouts, above limits.max_bucket_layouts (0)",
            ),
        ),
        (
            limit(|l| l.max_event_names = 0),
            error(op, "1 event names, above limits.max_event_names (0)"),
        ),
    ];
    for (limits, expected) in cases {
        assert_eq!(refused(&limits, |_| {}), expected, "{limits:?}");
    }
    // Scope versions share the scopes cap.
    let limits = FingerprintLimits::default();
    let error = refused(&limits, |f| {
        let resource = service(f).resource.as_mut().unwrap();
        let scope = resource.scopes.get_mut("io.opentelemetry.flask").unwrap();
        for v in 0..65 {
            scope.versions.insert(format!("1.{v}.0"), 1);
        }
    });
    assert_eq!(
        error.to_string(),
        r#"service "shop/checkout" resource scope "io.opentelemetry.flask": 66 versions, above limits.max_scopes (64)"#
    );
    // Sampling thresholds have a fixed cap.
    let error = refused(&limits, |f| {
        let sampling = service(f).sampling.as_mut().unwrap();
        for t in 1..=MAX_SAMPLING_THRESHOLDS as u64 {
            sampling.thresholds.push(pb::ThresholdCount {
                threshold: format!("{t:x}"),
                probability: 0.5,
                spans: 0,
            });
        }
    });
    assert_eq!(
        error.to_string(),
        r#"service "shop/checkout" sampling: 33 thresholds, above the 32 a receiver keeps"#
    );
}

#[test]
fn each_count_that_a_receiver_keeps_consistent_is_checked_with_both_numbers() {
    let limits = FingerprintLimits::default();
    let op = r#"service "shop/checkout" span operation "POST /checkout" (SPAN_KIND_SERVER)"#;
    let shape = r#"service "shop/checkout" metric "http.server.request.duration""#;
    let sampling = r#"service "shop/checkout" sampling"#;
    let logs = r#"service "shop/checkout" logs"#;
    let ingestion = r#"service "shop/checkout" ingestion"#;
    let cases: Vec<(Change, FingerprintError)> = vec![
        (
            |f| operation(f).errors = 101,
            error(op, "errors (101) is above spans (100)"),
        ),
        (
            |f| operation(f).propagation.as_mut().unwrap().local_parent = 1,
            error(
                op,
                "remote_parent + local_parent + root (101) is above spans (100)",
            ),
        ),
        (
            |f| service(f).span_operations[1].spans = 99,
            error(
                r#"service "shop/checkout" span operation "SELECT orders" (SPAN_KIND_CLIENT)"#,
                "duration.count (100) is above spans (99)",
            ),
        ),
        (
            |f| metric(f).monotonic_points = 121,
            error(
                shape,
                "monotonic_points + non_monotonic_points (121) is above data_points (120)",
            ),
        ),
        (
            |f| {
                metric(f).types.insert("gauge".into(), 1);
            },
            error(shape, "points by type (121) is above data_points (120)"),
        ),
        (
            |f| {
                metric(f).temporalities.insert("delta".into(), 1);
            },
            error(
                shape,
                "points by temporality (121) is above data_points (120)",
            ),
        ),
        (
            |f| {
                metric(f).units.insert("ms".into(), 1);
            },
            error(shape, "points by unit (121) is above data_points (120)"),
        ),
        (
            |f| metric(f).bucket_layouts[0].data_points = 121,
            error(
                shape,
                "points by bucket layout (121) is above data_points (120)",
            ),
        ),
        (
            |f| {
                service(f)
                    .sampling
                    .as_mut()
                    .unwrap()
                    .server_spans_without_threshold = 101
            },
            error(
                sampling,
                "server_spans_without_threshold (101) is above server_spans (100)",
            ),
        ),
        (
            |f| service(f).sampling.as_mut().unwrap().server_spans = 201,
            error(
                sampling,
                "server_spans (201) is above spans by threshold + spans_without_threshold (200)",
            ),
        ),
        (
            |f| service(f).sampling.as_mut().unwrap().thresholds[0].spans = 150,
            error(
                r#"service "shop/checkout""#,
                "spans of its span operations (200) is above spans by threshold + spans_without_threshold (150)",
            ),
        ),
        (
            |f| service(f).logs.as_mut().unwrap().with_trace_id = 51,
            error(logs, "with_trace_id (51) is above records (50)"),
        ),
        (
            |f| {
                let logs = service(f).logs.as_mut().unwrap();
                logs.severities.insert("WARN".into(), 1);
            },
            error(logs, "records by severity (51) is above records (50)"),
        ),
        (
            |f| {
                let logs = service(f).logs.as_mut().unwrap();
                logs.body_kinds.insert("kvlist".into(), 1);
            },
            error(logs, "records by body kind (51) is above records (50)"),
        ),
        (
            |f| {
                let logs = service(f).logs.as_mut().unwrap();
                logs.event_names.insert("order.failed".into(), 11);
            },
            error(logs, "records by event name (51) is above records (50)"),
        ),
        (
            |f| {
                let ingestion = service(f).ingestion.as_mut().unwrap();
                ingestion.traces.as_mut().unwrap().items = 199;
            },
            error(
                ingestion,
                "spans of its span operations (200) is above traces.items (199)",
            ),
        ),
        (
            |f| {
                let ingestion = service(f).ingestion.as_mut().unwrap();
                ingestion.metrics.as_mut().unwrap().items = 159;
            },
            error(
                ingestion,
                "data points of its metrics (160) is above metrics.items (159)",
            ),
        ),
        (
            |f| {
                let ingestion = service(f).ingestion.as_mut().unwrap();
                ingestion.logs.as_mut().unwrap().items = 49;
            },
            error(ingestion, "logs.records (50) is above logs.items (49)"),
        ),
    ];
    for (change, expected) in cases {
        assert_eq!(refused(&limits, change), expected);
    }
}

#[test]
fn counts_that_would_overflow_a_u64_when_added_are_still_compared() {
    let error = refused(&FingerprintLimits::default(), |f| {
        let p = operation(f).propagation.as_mut().unwrap();
        p.remote_parent = u64::MAX;
        p.root = u64::MAX;
    });
    assert_eq!(
        error.reason,
        format!(
            "remote_parent + local_parent + root ({}) is above spans (100)",
            2 * u128::from(u64::MAX)
        )
    );
}

#[test]
fn sketches_that_do_not_decode_or_disagree_with_their_count_are_named() {
    let limits = FingerprintLimits::default();
    let error = refused(&limits, |f| {
        metric(f).series.as_mut().unwrap().hll = vec![2, 1, 7, 0, 0];
    });
    assert_eq!(
        error.location,
        r#"service "shop/checkout" metric "http.server.request.duration" series"#
    );
    assert!(
        error.reason.starts_with("HLL sketch does not decode"),
        "{error}"
    );

    let error = refused(&limits, |f| {
        service(f).resource.as_mut().unwrap().instances = Some(hll(16, 0..3));
    });
    assert_eq!(
        error.to_string(),
        r#"service "shop/checkout" resource instances: HLL precision 16 is above the largest a receiver writes (14)"#
    );

    // A duration histogram must hold the durations its count states.
    let error = refused(&limits, |f| {
        let duration = operation(f).duration.as_mut().unwrap();
        duration.hdr = durations(90).hdr;
    });
    assert_eq!(
        error.to_string(),
        r#"service "shop/checkout" span operation "POST /checkout" duration: HDR histogram holds 90 durations, its count says 100"#
    );
}

#[test]
fn hdr_headers_that_would_make_the_decoder_allocate_are_refused_unread() {
    let limits = FingerprintLimits::default();
    let with_hdr = |edit: fn(&mut Vec<u8>)| {
        refused(&limits, move |f| {
            edit(&mut operation(f).duration.as_mut().unwrap().hdr);
        })
        .reason
    };
    // A payload length of 4 GiB after a 40-byte header.
    let reason = with_hdr(|hdr| hdr[4..8].copy_from_slice(&u32::MAX.to_be_bytes()));
    assert!(
        reason.starts_with("HDR histogram claims a 4294967295-byte payload"),
        "{reason}"
    );
    // Five significant digits: a counts array of millions of entries.
    let reason = with_hdr(|hdr| hdr[12..16].copy_from_slice(&5u32.to_be_bytes()));
    assert_eq!(
        reason,
        "HDR precision of 5 significant digits, receivers write 2"
    );
    // The compressed V2 encoding (a zlib bomb's way in).
    let reason = with_hdr(|hdr| hdr[0..4].copy_from_slice(&0x1c84_9314u32.to_be_bytes()));
    assert_eq!(
        reason,
        "HDR histogram is not in the V2 encoding receivers write (cookie 0x1c849314)"
    );
    let reason = with_hdr(|hdr| hdr.truncate(39));
    assert_eq!(
        reason,
        "HDR histogram is 39 bytes, shorter than its 40-byte header"
    );
}

#[test]
fn services_are_checked_in_key_order_caps_and_counts_before_sketches() {
    let mut fingerprint = checkout();
    let mut cart = service(&mut fingerprint).clone();
    cart.name = "cart".into();
    cart.span_operations[0].errors = 500;
    // Checkout has a corrupt sketch, cart (listed first) a bad count.
    operation(&mut fingerprint).duration.as_mut().unwrap().hdr = vec![0; 8];
    fingerprint.services.insert("shop/cart".into(), cart);
    let limits = FingerprintLimits::default();
    let error = check_fingerprint(&fingerprint, &limits).unwrap_err();
    assert_eq!(
        error.location,
        r#"service "shop/cart" span operation "POST /checkout" (SPAN_KIND_SERVER)"#
    );
    fingerprint.services.remove("shop/cart");
    let mut checkout = fingerprint.services.remove(CHECKOUT).unwrap();
    checkout.span_operations[0].errors = 500;
    fingerprint.services.insert(CHECKOUT.into(), checkout);
    // Within one service, the bad count is named before the corrupt sketch.
    let error = check_fingerprint(&fingerprint, &limits).unwrap_err();
    assert_eq!(error.reason, "errors (500) is above spans (100)");
}
