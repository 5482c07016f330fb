use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};

use tower::{Layer, ServiceExt, service_fn};

use otel_parity_testkit::e2e::ScratchDir;

use super::*;

fn headers(authorization: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(value) = authorization {
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
    }
    headers
}

fn token_set(dir: &Path, name: &str, text: &str) -> (Arc<TokenSet>, PathBuf) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    (Arc::new(TokenSet::from_file(&path).unwrap()), path)
}

#[test]
fn every_line_of_the_file_is_a_token_and_nothing_else_is() {
    let dir = ScratchDir::new("runtime-auth-lines");
    let (set, _) = token_set(
        &dir,
        "push",
        "# rotated 2026-11\n  new-token  \n\nold-token\n",
    );
    assert!(set.accepts(b"new-token") && set.accepts(b"old-token"));
    for stranger in [
        &b"new-toke"[..],
        b"new-token2",
        b"",
        b"# rotated 2026-11",
        b"NEW-TOKEN",
    ] {
        assert!(
            !set.accepts(stranger),
            "{}",
            String::from_utf8_lossy(stranger)
        );
    }
}

#[test]
fn credentials_are_judged_by_their_header() {
    let dir = ScratchDir::new("runtime-auth-outcomes");
    let (push, _) = token_set(&dir, "push", "push-token\n");
    let (api, _) = token_set(&dir, "api", "api-token\n");
    let guard = Guard::new(vec![api]);
    let cases = [
        (None, AuthOutcome::Missing),
        (Some("Bearer api-token"), AuthOutcome::Accepted),
        (Some("bearer   api-token "), AuthOutcome::Accepted),
        (Some("Bearer push-token"), AuthOutcome::Invalid),
        (Some("Bearer wrong"), AuthOutcome::Invalid),
        (Some("api-token"), AuthOutcome::Malformed),
        (Some("Basic YXBpLXRva2Vu"), AuthOutcome::Malformed),
        (Some("Bearer "), AuthOutcome::Malformed),
    ];
    for (authorization, expected) in cases {
        assert_eq!(
            guard.check(&headers(authorization)),
            expected,
            "{authorization:?}"
        );
    }
    // A token in another header is no token.
    let mut elsewhere = HeaderMap::new();
    elsewhere.insert("x-api-key", HeaderValue::from_static("api-token"));
    assert_eq!(guard.check(&elsewhere), AuthOutcome::Missing);
    // Either of two sets.
    let (api_again, _) = token_set(&dir, "api2", "api-token\n");
    let both = Guard::new(vec![push, api_again]);
    assert_eq!(
        both.check(&headers(Some("Bearer push-token"))),
        AuthOutcome::Accepted
    );
    assert_eq!(
        both.check(&headers(Some("Bearer api-token"))),
        AuthOutcome::Accepted
    );
}

#[test]
fn a_rotated_token_file_takes_effect_and_an_emptied_one_keeps_the_old_tokens() {
    let dir = ScratchDir::new("runtime-auth-rotate");
    let (set, path) = token_set(&dir, "api", "old\n");
    std::fs::write(&path, "old\nnew\n").unwrap();
    std::thread::sleep(TOKEN_RELOAD_INTERVAL + Duration::from_millis(100));
    assert!(set.accepts(b"new") && set.accepts(b"old"));
    std::fs::write(&path, "new\n").unwrap();
    std::thread::sleep(TOKEN_RELOAD_INTERVAL + Duration::from_millis(100));
    assert!(set.accepts(b"new") && !set.accepts(b"old"));
    std::fs::write(&path, "\n").unwrap();
    std::thread::sleep(TOKEN_RELOAD_INTERVAL + Duration::from_millis(100));
    assert!(
        set.accepts(b"new"),
        "an empty file is a broken rotation, not 'accept nothing'"
    );
}

#[test]
fn a_file_without_tokens_is_an_error_that_names_it() {
    let dir = ScratchDir::new("runtime-auth-empty");
    let path = dir.join("tokens");
    std::fs::write(&path, "# none yet\n\n").unwrap();
    assert_eq!(
        TokenSet::from_file(&path).unwrap_err().to_string(),
        format!(
            "token file {}: holds no token (one per line)",
            path.display()
        )
    );
}

fn refuse(outcome: AuthOutcome, _: &HeaderMap) -> Response<String> {
    let mut response = Response::new(outcome.message().to_owned());
    *response.status_mut() = http::StatusCode::UNAUTHORIZED;
    response
        .headers_mut()
        .insert(http::header::WWW_AUTHENTICATE, outcome.www_authenticate());
    response
}

#[tokio::test]
async fn the_layer_refuses_without_calling_the_service_and_hides_the_token_from_it() {
    let dir = ScratchDir::new("runtime-auth-layer");
    let (api, _) = token_set(&dir, "api", "api-token\n");
    let outcomes = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let seen = Arc::clone(&outcomes);
    let guard = Guard::new(vec![api]).observed(Arc::new(move |o| seen.lock().push(o)));
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let inner = service_fn(move |request: Request<()>| {
        counted.fetch_add(1, Ordering::SeqCst);
        let saw_token = request.headers().contains_key(AUTHORIZATION);
        async move { Ok::<_, Infallible>(Response::new(format!("served, token visible: {saw_token}"))) }
    });
    let service = RequireBearer::new(Some(guard), refuse).layer(inner);
    let call = |authorization: Option<&'static str>| {
        let mut request = Request::new(());
        *request.headers_mut() = headers(authorization);
        service.clone().oneshot(request)
    };
    let refused = call(Some("Bearer nope")).await.unwrap();
    assert_eq!(refused.status(), http::StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.headers()[http::header::WWW_AUTHENTICATE],
        "Bearer realm=\"otel-parity\", error=\"invalid_token\""
    );
    let missing = call(None).await.unwrap();
    assert_eq!(
        missing.headers()[http::header::WWW_AUTHENTICATE],
        "Bearer realm=\"otel-parity\""
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let served = call(Some("Bearer api-token")).await.unwrap();
    assert_eq!(served.into_body(), "served, token visible: false");
    assert_eq!(
        *outcomes.lock(),
        [
            AuthOutcome::Invalid,
            AuthOutcome::Missing,
            AuthOutcome::Accepted
        ]
    );

    let open = RequireBearer::new(None, refuse).layer(service_fn(|_: Request<()>| async {
        Ok::<_, Infallible>(Response::new("open".to_owned()))
    }));
    assert_eq!(
        open.oneshot(Request::new(())).await.unwrap().into_body(),
        "open"
    );
}

#[test]
fn the_client_sends_the_first_token_of_its_file_marked_sensitive() {
    let dir = ScratchDir::new("runtime-auth-client");
    let path = dir.join("token");
    std::fs::write(&path, "# current\nfirst\nsecond\n").unwrap();
    let token = ClientToken::from_file(path).unwrap();
    let header = token.authorization();
    assert_eq!(header, "Bearer first");
    assert!(header.is_sensitive());
    assert!(!format!("{header:?}").contains("first"));
}
