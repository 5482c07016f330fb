//! The UI's JSON endpoints through the real binary: fingerprints of a service in both
//! environments, the trend, and JSON errors (400, 404) for bad input.

use serde_json::Value;

use crate::demo;

#[test]
fn service_endpoint_answers_both_fingerprints() {
    let demo = demo::shared();
    for path in [
        "/api/v1/services/shop/checkout?baseline=prod&candidate=staging",
        "/api/v1/services/shop%2Fcheckout?baseline=prod&candidate=staging&since=1h",
    ] {
        let body = demo.get_json(path);
        assert_eq!(body["service"], "shop/checkout", "{path}");
        let unit = |side: &str| {
            body[side]["fingerprint"]["metrics"]["app.orders.placed"]["units"]
                .as_object()
                .map(|units| units.keys().cloned().collect::<Vec<_>>())
        };
        assert_eq!(unit("baseline"), Some(vec!["{order}".to_owned()]), "{path}");
        assert_eq!(unit("candidate"), Some(vec!["1".to_owned()]), "{path}");
    }
    let recommendation =
        demo.get_json("/api/v1/services/shop/recommendation?baseline=prod&candidate=staging");
    assert!(recommendation["baseline"]["fingerprint"].is_object());
    assert_eq!(recommendation["candidate"]["fingerprint"], Value::Null);
}

#[test]
fn ui_endpoints_answer_bad_input_with_json_errors() {
    let demo = demo::shared();
    for (path, status, says) in [
        (
            "/api/v1/services/shop/checkout?baseline=prod",
            400,
            "candidate is required",
        ),
        (
            "/api/v1/services/shop/checkout?baseline=prod&candidate=staging&since=yesterday",
            400,
            "invalid since",
        ),
        (
            "/api/v1/services/shop/checkout?baseline=prod&candidate=staging&service=x",
            400,
            "service",
        ),
        (
            "/api/v1/services/shop/nothing?baseline=prod&candidate=staging",
            404,
            "shop/nothing",
        ),
        (
            "/api/v1/services/shop/checkout?baseline=prod&candidate=qa",
            404,
            "\"qa\"",
        ),
        (
            "/api/v1/history?baseline=prod",
            400,
            "candidate is required",
        ),
        (
            "/api/v1/history?baseline=prod&candidate=qa",
            404,
            "has not been evaluated",
        ),
        ("/ui/nothing.js", 404, "nothing.js"),
    ] {
        let response = demo.get(path);
        assert_eq!(
            response.status,
            status,
            "GET {path}: {}",
            response.describe()
        );
        assert_eq!(response.media_type(), "application/json", "GET {path}");
        let body: Value = serde_json::from_slice(&response.body).expect("JSON error body");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(says),
            "GET {path}: {message:?} should say {says:?}"
        );
    }
}

#[test]
fn pairs_and_history_follow_the_evaluations() {
    let demo = demo::shared();
    let report = demo.report();
    demo.wait_until("an evaluation of the full traffic", |demo| {
        demo.get_json("/api/v1/pairs")[0]["latest"]["composite"] == report["scores"]["composite"]
    });
    let pairs = demo.get_json("/api/v1/pairs");
    assert_eq!(pairs[0]["baseline"], "prod");
    assert_eq!(pairs[0]["candidate"], "staging");
    assert_eq!(pairs[0]["latest"]["coverage"], 0.8);
    let critical = report["findings"].as_array().map_or(0, |f| {
        f.iter().filter(|f| f["severity"] == "critical").count()
    });
    assert_eq!(pairs[0]["latest"]["findings"]["critical"], critical);
    let history = demo.get_json("/api/v1/history?baseline=prod&candidate=staging");
    let points = history["points"].as_array().expect("points");
    assert_eq!(points.last(), Some(&pairs[0]["latest"]));
    let times: Vec<u64> = points
        .iter()
        .filter_map(|p| p["unix_ms"].as_u64())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {times:?}"
    );
}
