use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use otel_parity_testkit::e2e::ScratchDir;
use tower::ServiceExt;

use super::*;
use crate::evaluate::Evaluator;
use crate::store::Store;
use crate::web::http::{ApiState, router};

/// Token files `push`, `api`, `metrics` in `dir`, and an analyzer config that uses them.
fn config_with_tokens(dir: &ScratchDir) -> AnalyzerConfig {
    let dir = dir.path();
    let mut config = AnalyzerConfig::default();
    for (set, token) in [
        ("push", "push-token"),
        ("api", "api-token"),
        ("metrics", "scrape-token"),
    ] {
        let path = dir.join(set);
        std::fs::write(&path, format!("{token}\n")).unwrap();
        match set {
            "push" => config.auth.push_token_file = Some(path),
            "api" => config.auth.api_token_file = Some(path),
            _ => config.auth.metrics_token_file = Some(path),
        }
    }
    config
}

async fn status(
    app: &axum::Router,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        challenge,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test]
async fn each_route_group_takes_its_own_tokens_and_probes_stay_open() {
    let tokens = ScratchDir::new("analyzer-security-routes");
    let config = config_with_tokens(&tokens);
    let metrics = Arc::new(AnalyzerMetrics::new());
    let security = Security::new(&config, &metrics).unwrap();
    assert!(security.push_guard.is_some());
    let store = Arc::new(Store::open_temporary().await.unwrap());
    let evaluator = Arc::new(Evaluator::new(
        Arc::clone(&store),
        Arc::clone(&metrics),
        config.clone(),
        Vec::new(),
    ));
    let state = ApiState {
        store,
        metrics,
        evaluator,
        default_since: Duration::from_secs(3600),
    };
    let app = router(state, security.http_auth);

    for open in [
        "/healthz",
        "/readyz",
        "/",
        "/ui/app.js",
        "/services/shop/cart",
    ] {
        assert_eq!(status(&app, open, None).await.0, StatusCode::OK, "{open}");
    }
    let (code, challenge, body) = status(&app, "/api/v1/environments", None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some("Bearer realm=\"otel-parity\""));
    assert_eq!(
        body,
        r#"{"error":"a bearer token is required (Authorization: Bearer <token>)"}"#
    );
    for wrong in ["push-token", "scrape-token", "nope"] {
        let (code, challenge, _) = status(&app, "/api/v1/pairs", Some(wrong)).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{wrong}");
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer realm=\"otel-parity\", error=\"invalid_token\"")
        );
    }
    assert_eq!(
        status(&app, "/api/v1/environments", Some("api-token"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        status(&app, "/api/v1/pairs", Some("api-token")).await.0,
        StatusCode::OK
    );

    assert_eq!(
        status(&app, "/metrics", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(&app, "/metrics", Some("push-token")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(&app, "/metrics", Some("api-token")).await.0,
        StatusCode::OK
    );
    let (code, _, exposition) = status(&app, "/metrics", Some("scrape-token")).await;
    assert_eq!(code, StatusCode::OK);
    for line in [
        "otel_parity_auth_requests_total{listener=\"api\",result=\"missing\"} 1",
        "otel_parity_auth_requests_total{listener=\"api\",result=\"invalid\"} 3",
        "otel_parity_auth_requests_total{listener=\"api\",result=\"accepted\"} 2",
        "otel_parity_auth_requests_total{listener=\"metrics\",result=\"invalid\"} 1",
        "otel_parity_auth_requests_total{listener=\"metrics\",result=\"missing\"} 1",
        // The api token's scrape and this one.
        "otel_parity_auth_requests_total{listener=\"metrics\",result=\"accepted\"} 2",
    ] {
        assert!(exposition.contains(line), "{line} not in\n{exposition}");
    }
}

#[tokio::test]
async fn without_token_files_everything_is_open() {
    let config = AnalyzerConfig::default();
    let metrics = Arc::new(AnalyzerMetrics::new());
    let security = Security::new(&config, &metrics).unwrap();
    assert!(security.push_guard.is_none() && security.http_auth.api.is_none());
    assert!(security.push.tls.is_none() && security.http.tls.is_none());
}

#[test]
fn an_unreadable_token_file_stops_the_start_and_names_the_file() {
    let mut config = AnalyzerConfig::default();
    config.auth.push_token_file = Some("/nonexistent/push-tokens".into());
    let metrics = Arc::new(AnalyzerMetrics::new());
    let error = Security::new(&config, &metrics).err().unwrap().to_string();
    assert!(
        error.starts_with("cannot read /nonexistent/push-tokens: "),
        "{error}"
    );
}
