//! What holds across signals: malformed requests, where the environment comes from, no
//! attribute value outside the allowlist, and windows taken under load.

use super::*;

#[test]
fn malformed_request_changes_nothing_already_counted() {
    let engine = engine();
    let good = traces(
        "frontend",
        vec![span(1, 1, 0, "GET /", span::SpanKind::Server, 0, "", false)],
    );
    engine.ingest(Signal::Traces, &good, good.len()).unwrap();
    let before = engine.snapshot();
    // Truncated: the last span's bytes are cut, after a valid first span.
    let longer = traces(
        "payment",
        vec![
            span(
                1,
                5,
                0,
                "POST /charge",
                span::SpanKind::Server,
                0,
                "",
                false,
            ),
            span(
                1,
                6,
                0,
                "POST /charge",
                span::SpanKind::Server,
                0,
                "",
                false,
            ),
        ],
    );
    let error = engine
        .ingest(Signal::Traces, &longer[..longer.len() - 7], 10)
        .unwrap_err();
    assert_eq!(error.source, WireError::Truncated);
    let mut invalid_utf8 = good.clone();
    let at = invalid_utf8.windows(5).position(|w| w == b"GET /").unwrap();
    invalid_utf8[at] = 0xff;
    assert!(matches!(
        engine
            .ingest(Signal::Traces, &invalid_utf8, 1)
            .unwrap_err()
            .source,
        WireError::InvalidUtf8 { .. }
    ));
    let after = engine.snapshot();
    assert_eq!(before.environments, after.environments);
    assert_eq!(after.received["traces"].rejected_requests, 2);
    assert_eq!(after.received["traces"].items, 1);
}

#[test]
fn environment_comes_from_config_or_resource_as_configured() {
    let request = traces(
        "frontend",
        vec![span(1, 1, 0, "GET /", span::SpanKind::Server, 0, "", false)],
    );
    let with = |environment: Option<&str>, from| {
        let engine = Fingerprinter::new(EngineConfig {
            environment: environment.map(str::to_owned),
            environment_from: from,
            ..Default::default()
        });
        engine.ingest(Signal::Traces, &request, 1).unwrap();
        engine
            .snapshot()
            .environments
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        with(Some("staging"), EnvironmentSource::Config),
        ["staging"]
    );
    assert_eq!(with(Some("staging"), EnvironmentSource::Resource), ["prod"]);
    assert_eq!(with(None, EnvironmentSource::Config), ["prod"]);
    let no_env = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span(1, 1, 0, "GET /", span::SpanKind::Server, 0, "", false)],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec();
    let engine = engine();
    engine.ingest(Signal::Traces, &no_env, 1).unwrap();
    let snapshot = engine.snapshot();
    assert_eq!(
        snapshot.environments.keys().collect::<Vec<_>>(),
        ["unknown"]
    );
    assert!(
        snapshot.environments["unknown"]
            .services
            .contains_key("unknown_service")
    );
}

#[test]
fn snapshot_bytes_hold_no_attribute_value_outside_the_allowlist() {
    let engine = engine();
    let request = traces(
        "frontend",
        vec![span(
            1,
            1,
            0,
            "GET /",
            span::SpanKind::Server,
            0,
            "ot=th:8",
            false,
        )],
    );
    engine.ingest(Signal::Traces, &request, 1).unwrap();
    let request = metrics(
        "cart",
        vec![request_duration(vec![duration_histogram(
            3,
            1,
            "/cart/secret-route",
        )])],
    );
    engine.ingest(Signal::Metrics, &request, 1).unwrap();
    let json = serde_json::to_string(&engine.snapshot()).unwrap();
    for secret in [
        "customer-8842",
        "ip-10-0-3-17",
        "frontend-1",
        "cart-7f9c",
        "secret-route",
        "POST\"",
    ] {
        assert!(!json.contains(secret), "{secret} leaked into the snapshot");
    }
    for allowed in ["2.4.1", "\"rust\""] {
        assert!(
            json.contains(allowed),
            "{allowed} missing from the snapshot"
        );
    }
}

#[test]
fn windows_taken_while_requests_arrive_lose_and_double_count_nothing() {
    let engine = std::sync::Arc::new(engine());
    let request = traces(
        "frontend",
        (1..=50u8)
            .map(|id| {
                span(
                    3,
                    id,
                    0,
                    "GET /api/products",
                    span::SpanKind::Server,
                    0,
                    "",
                    false,
                )
            })
            .collect(),
    );
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let engine = std::sync::Arc::clone(&engine);
            let request = request.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    engine
                        .ingest(Signal::Traces, &request, request.len())
                        .unwrap();
                }
            })
        })
        .collect();
    let mut windows = Vec::new();
    while !senders.iter().all(|s| s.is_finished()) {
        windows.push(engine.take_window());
    }
    for sender in senders {
        sender.join().unwrap();
    }
    windows.push(engine.take_window());
    let spans: u64 = windows
        .iter()
        .filter_map(|w| w.environments.get("prod"))
        .map(|env| {
            operation(
                &env.services["shop/frontend"],
                "GET /api/products",
                pb::SpanKind::Server,
            )
            .spans
        })
        .sum();
    assert_eq!(spans, 4 * 200 * 50);
    assert!(windows.len() > 2, "only {} windows", windows.len());
    for pair in windows.windows(2) {
        assert!(pair[1].window_start_unix_nano >= pair[0].window_start_unix_nano);
    }
    assert!(engine.snapshot().environments.is_empty());
    assert_eq!(engine.snapshot().received["traces"].items, 4 * 200 * 50);
}
