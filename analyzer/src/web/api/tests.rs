use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use otel_parity_proto::v1::{
    Cardinality, EnvironmentFingerprint, MetricShape, PushRequest, ServiceFingerprint,
};
use serde_json::Value;
use tower::ServiceExt;

use crate::config::AnalyzerConfig;
use crate::evaluate::Evaluator;
use crate::exposition::AnalyzerMetrics;
use crate::store::Store;
use crate::web::http::{ApiState, HttpAuth, router};
use otel_parity_runtime::time::unix_nanos_now;

/// A real HLL sketch of two series (the store checks every sketch).
fn two_series() -> Cardinality {
    let mut sketch = datasketches::hll::HllSketch::new(12, datasketches::hll::HllType::Hll4)
        .expect("valid precision");
    sketch.update(1_u64);
    sketch.update(2_u64);
    Cardinality {
        estimate: 2.0,
        hll: sketch.serialize(),
    }
}

fn service(name: &str, metrics: &[(&str, &str)]) -> ServiceFingerprint {
    ServiceFingerprint {
        namespace: "shop".into(),
        name: name.into(),
        metrics: metrics
            .iter()
            .map(|(metric, unit)| {
                let shape = MetricShape {
                    units: [((*unit).to_owned(), 4)].into(),
                    series: Some(two_series()),
                    data_points: 4,
                    ..MetricShape::default()
                };
                ((*metric).to_owned(), shape)
            })
            .collect(),
        ..ServiceFingerprint::default()
    }
}

/// prod has shop/checkout and shop/recommendation, staging only shop/checkout
/// (with another unit); nothing is evaluated yet.
async fn state() -> ApiState {
    let store = Arc::new(Store::open_temporary().await.expect("store"));
    let now = unix_nanos_now();
    let environments = [
        (
            "prod",
            vec![
                service("checkout", &[("app.orders.placed", "{order}")]),
                service("recommendation", &[("app.recommendations", "1")]),
            ],
        ),
        (
            "staging",
            vec![service("checkout", &[("app.orders.placed", "1")])],
        ),
    ];
    for (environment, services) in environments {
        let fingerprint = EnvironmentFingerprint {
            services: services
                .into_iter()
                .map(|s| (format!("{}/{}", s.namespace, s.name), s))
                .collect(),
            overflow: None,
        };
        let push = PushRequest {
            environment: environment.into(),
            receiver_instance: "rx-1".into(),
            window_start_unix_nano: now - 60_000_000_000,
            window_end_unix_nano: now - 1_000_000_000,
            sequence: 1,
            fingerprint: Some(fingerprint),
        };
        store.insert_push(&push, now).await.expect("stored");
    }
    let metrics = Arc::new(AnalyzerMetrics::new());
    let evaluator = Arc::new(Evaluator::new(
        Arc::clone(&store),
        Arc::clone(&metrics),
        AnalyzerConfig::default(),
        Vec::new(),
    ));
    ApiState {
        store,
        metrics,
        evaluator,
        default_since: Duration::from_secs(3600),
    }
}

struct Answer {
    status: StatusCode,
    content_type: String,
    csp: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        assert_eq!(self.content_type, "application/json", "{}", self.body);
        serde_json::from_str(&self.body).expect("JSON body")
    }

    fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .expect("error message")
            .to_owned()
    }
}

async fn get(state: &ApiState, uri: &str) -> Answer {
    let response = router(state.clone(), HttpAuth::default())
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("answered");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (status, content_type, csp) = (
        response.status(),
        header("content-type").unwrap_or_default(),
        header("content-security-policy"),
    );
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    Answer {
        status,
        content_type,
        csp,
        body: String::from_utf8(bytes.to_vec()).expect("UTF-8"),
    }
}

#[tokio::test]
async fn service_answers_both_fingerprints_without_sketch_bytes() {
    let state = state().await;
    for uri in [
        "/api/v1/services/shop/checkout?baseline=prod&candidate=staging",
        "/api/v1/services/shop%2Fcheckout?baseline=prod&candidate=staging&since=10m",
    ] {
        let answer = get(&state, uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.body);
        let body = answer.json();
        assert_eq!(body["service"], "shop/checkout");
        assert_eq!(body["ingestion_band"], serde_json::json!([0.5, 2.0]));
        assert_eq!(body["baseline"]["environment"], "prod");
        assert_eq!(body["candidate"]["environment"], "staging");
        let unit = |side: &str| {
            body[side]["fingerprint"]["metrics"]["app.orders.placed"]["units"]
                .as_object()
                .map(|units| units.keys().cloned().collect::<Vec<_>>())
        };
        assert_eq!(unit("baseline"), Some(vec!["{order}".to_owned()]));
        assert_eq!(unit("candidate"), Some(vec!["1".to_owned()]));
        let series = &body["baseline"]["fingerprint"]["metrics"]["app.orders.placed"]["series"];
        assert_eq!(series["estimate"], 2.0);
        assert!(
            series.get("hll").is_none(),
            "sketch bytes left in: {series}"
        );
    }
}

#[tokio::test]
async fn service_in_one_environment_only_has_a_null_side() {
    let state = state().await;
    let answer = get(
        &state,
        "/api/v1/services/shop/recommendation?baseline=prod&candidate=staging",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let body = answer.json();
    assert!(body["baseline"]["fingerprint"].is_object());
    assert!(body["candidate"]["fingerprint"].is_null());
    assert_eq!(body["candidate"]["pushes"], 1);
}

#[tokio::test]
async fn service_rejects_bad_queries_with_400() {
    let state = state().await;
    for (query, expected) in [
        ("candidate=staging", "baseline is required"),
        ("baseline=prod", "candidate is required"),
        ("baseline=&candidate=staging", "baseline is required"),
        (
            "baseline=prod&candidate=staging&since=soon",
            "invalid since",
        ),
        ("baseline=prod&candidate=staging&colour=red", "colour"),
    ] {
        let answer = get(&state, &format!("/api/v1/services/shop/checkout?{query}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            answer.error().contains(expected),
            "{query}: {:?} should say {expected:?}",
            answer.error()
        );
    }
}

#[tokio::test]
async fn service_or_environment_without_data_is_404() {
    let state = state().await;
    let answer = get(
        &state,
        "/api/v1/services/shop/ghost?baseline=prod&candidate=staging",
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.error().contains("\"shop/ghost\" is in neither"));
    let answer = get(
        &state,
        "/api/v1/services/shop/checkout?baseline=prod&candidate=dev",
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(
        answer.error().contains("\"dev\""),
        "names the environment: {}",
        answer.error()
    );
}

#[tokio::test]
async fn history_and_pairs_follow_evaluations() {
    let state = state().await;
    let answer = get(&state, "/api/v1/history?baseline=prod&candidate=staging").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.error().contains("has not been evaluated"));
    assert_eq!(
        get(&state, "/api/v1/pairs").await.json(),
        Value::Array(vec![])
    );

    state.evaluator.evaluate_once().await.expect("evaluated");
    state.evaluator.evaluate_once().await.expect("evaluated");
    let history = get(&state, "/api/v1/history?baseline=prod&candidate=staging")
        .await
        .json();
    let points = history["points"].as_array().expect("points");
    assert_eq!(points.len(), 2);
    // One of two baseline services keeps its metric names.
    assert_eq!(points[1]["coverage"], 0.5);
    assert!(
        points[1]["findings"]["high"].as_u64() > Some(0),
        "{history}"
    );
    let pairs = get(&state, "/api/v1/pairs").await.json();
    assert_eq!(pairs[0]["baseline"], "prod");
    assert_eq!(pairs[0]["candidate"], "staging");
    assert_eq!(pairs[0]["latest"], points[1]);
}

#[tokio::test]
async fn history_rejects_bad_queries_with_400() {
    let state = state().await;
    for query in [
        "",
        "?baseline=prod",
        "?candidate=staging",
        "?baseline=prod&candidate=staging&x=1",
    ] {
        let answer = get(&state, &format!("/api/v1/history{query}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        answer.error();
    }
}

#[tokio::test]
async fn pages_and_assets_are_embedded_with_a_strict_policy() {
    let state = state().await;
    for uri in [
        "/",
        "/services/shop/checkout?baseline=prod&candidate=staging",
    ] {
        let page = get(&state, uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        assert!(page.body.contains("/ui/app.js"), "{uri}");
        let csp = page.csp.unwrap_or_default();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
    }
    let script = get(&state, "/ui/app.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.content_type.starts_with("text/javascript"));
    // The UI never turns data into markup.
    for asset in [
        "errors.js",
        "app.js",
        "api.js",
        "dom.js",
        "charts.js",
        "findings.js",
        "sidebyside.js",
        "sections.js",
        "overview.js",
        "service.js",
    ] {
        let body = get(&state, &format!("/ui/{asset}")).await.body;
        assert!(!body.contains("innerHTML"), "{asset} uses innerHTML");
        assert!(!body.contains("insertAdjacentHTML"), "{asset}");
        assert!(!body.contains("document.write"), "{asset}");
    }
    let missing = get(&state, "/ui/nope.js").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.error().contains("nope.js"));
}

#[tokio::test]
async fn settings_answer_the_configured_coverage_objective_and_band() {
    let mut state = state().await;
    let answer = get(&state, "/api/v1/settings").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.json(),
        serde_json::json!({"coverage_objective": 0.9, "ingestion_band": [0.5, 2.0]})
    );
    let mut config = AnalyzerConfig::default();
    config.evaluation.coverage_objective = 0.95;
    config.ingestion_band = (0.8, 1.25);
    state.evaluator = Arc::new(Evaluator::new(
        Arc::clone(&state.store),
        Arc::clone(&state.metrics),
        config,
        Vec::new(),
    ));
    assert_eq!(
        get(&state, "/api/v1/settings").await.json(),
        serde_json::json!({"coverage_objective": 0.95, "ingestion_band": [0.8, 1.25]})
    );
}
