//! The analyzer's HTTP API behind TLS, mTLS and the `api` token set: what each kind of
//! client gets, in HTTP's terms; the probes stay open.

use std::time::Duration;

use otel_parity_testkit::e2e::{AnalyzerProcess, otel_parity_binary, run_with_timeout};

use crate::pki::{API_TOKEN, PUSH_TOKEN, Pki};

fn analyzer(pki: &Pki) -> AnalyzerProcess {
    let args = pki.analyzer_flags(
        true,
        &[
            ("--push-token-file", &pki.push_tokens),
            ("--api-token-file", &pki.api_tokens),
        ],
    );
    AnalyzerProcess::start_secured("", &args, true, pki.mtls_client())
}

/// A request the API refuses: what is wrong, its extra headers, the `WWW-Authenticate`
/// challenge and a part of the error message it gets.
type Refusal = (
    &'static str,
    Vec<(&'static str, String)>,
    &'static str,
    &'static str,
);

#[test]
fn the_api_answers_its_tokens_only_and_says_why_in_http_terms() {
    let pki = Pki::new();
    let analyzer = analyzer(&pki);
    let url = |path: &str| format!("{}{path}", analyzer.http_url());
    let client = pki.mtls_client();
    let bearer = |token: &str| format!("Bearer {token}");

    for probe in ["/healthz", "/readyz", "/", "/ui/app.js"] {
        let answer = client.request(&url(probe), &[]).unwrap();
        assert_eq!(answer.status, 200, "{probe}: {}", answer.body);
    }
    let answer = client
        .request(
            &url("/api/v1/environments"),
            &[("authorization", &bearer(API_TOKEN))],
        )
        .unwrap();
    assert_eq!((answer.status, answer.body.trim()), (200, "[]"));

    let cases: [Refusal; 5] = [
        (
            "no token",
            vec![],
            "Bearer realm=\"otel-parity\"",
            "a bearer token is required",
        ),
        (
            "wrong token",
            vec![("authorization", bearer("guessed"))],
            "Bearer realm=\"otel-parity\", error=\"invalid_token\"",
            "not accepted",
        ),
        (
            "push token",
            vec![("authorization", bearer(PUSH_TOKEN))],
            "Bearer realm=\"otel-parity\", error=\"invalid_token\"",
            "not accepted",
        ),
        (
            "token in another header",
            vec![("x-api-key", API_TOKEN.to_owned())],
            "Bearer realm=\"otel-parity\"",
            "a bearer token is required",
        ),
        (
            "token without its scheme",
            vec![("authorization", API_TOKEN.to_owned())],
            "Bearer realm=\"otel-parity\", error=\"invalid_token\"",
            "not a bearer token",
        ),
    ];
    for (case, headers, challenge, message) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        for path in [
            "/api/v1/environments",
            "/api/v1/report?baseline=prod&candidate=staging",
            "/metrics",
        ] {
            let answer = client.request(&url(path), &headers).unwrap();
            assert_eq!(answer.status, 401, "{case} {path}: {}", answer.body);
            assert_eq!(
                answer.header("www-authenticate"),
                Some(challenge),
                "{case} {path}"
            );
            let error: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
            assert!(
                error["error"].as_str().unwrap_or("").contains(message),
                "{case} {path}: {}",
                answer.body
            );
        }
    }
    assert!(!analyzer.stderr_tail().contains(API_TOKEN));
}

#[test]
fn clients_without_tls_or_a_trusted_certificate_are_refused() {
    let pki = Pki::new();
    let analyzer = analyzer(&pki);
    let https = format!("{}/healthz", analyzer.http_url());
    let plaintext = https.replace("https://", "http://");
    let refused = |client: otel_parity_testkit::e2e::HttpClient, url: &str| {
        client.request(url, &[]).unwrap_err()
    };
    let error = refused(pki.https_client(), &https);
    assert!(
        error.contains("CertificateRequired"),
        "no client certificate: {error}"
    );
    let stranger = pki.https_client().with_client_cert(
        &std::fs::read_to_string(&pki.stranger_cert).unwrap(),
        &std::fs::read_to_string(&pki.stranger_key).unwrap(),
    );
    let error = refused(stranger, &https);
    assert!(
        error.contains("UnknownCA"),
        "a stranger's certificate: {error}"
    );
    let untrusting = otel_parity_testkit::e2e::HttpClient::new()
        .trusting(&std::fs::read_to_string(&pki.stranger_ca_file).unwrap())
        .with_client_cert(&pki.client.cert_pem, &pki.client.key_pem);
    let error = refused(untrusting, &https);
    assert!(
        error.contains("UnknownIssuer"),
        "an untrusted server: {error}"
    );
    // Plaintext to the TLS port gets no HTTP answer.
    assert!(pki.mtls_client().request(&plaintext, &[]).is_err());
    // And the analyzer still serves.
    assert_eq!(pki.mtls_client().request(&https, &[]).unwrap().status, 200);
}

#[test]
fn report_reads_an_https_analyzer_with_the_api_token() {
    let pki = Pki::new();
    let args = pki.analyzer_flags(false, &[("--api-token-file", &pki.api_tokens)]);
    let analyzer =
        AnalyzerProcess::start_secured("", &args, true, pki.https_client().with_token(API_TOKEN));
    let report = |extra: &[&std::path::Path], flags: &[&str]| {
        let mut command = std::process::Command::new(otel_parity_binary());
        command.args([
            "report",
            "--baseline",
            "prod",
            "--candidate",
            "staging",
            "--analyzer",
        ]);
        command.arg(analyzer.http_url());
        for (flag, path) in flags.iter().zip(extra) {
            command.arg(flag).arg(path);
        }
        let output = run_with_timeout(&mut command, Duration::from_secs(30), "otel-parity report");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let with_token = report(
        &[&pki.ca_file, &pki.api_tokens],
        &["--analyzer-ca-file", "--analyzer-token-file"],
    );
    // Through TLS and the token to the API, which has no data for the pair yet: no report,
    // exit 2 (1 is a failed parity gate).
    assert_eq!(with_token.0, Some(2), "{}", with_token.1);
    assert!(
        with_token.1.contains("the analyzer answered 404"),
        "{}",
        with_token.1
    );
    let without_token = report(&[&pki.ca_file], &["--analyzer-ca-file"]);
    assert!(
        without_token.1.contains("the analyzer answered 401"),
        "{}",
        without_token.1
    );
    let untrusted = report(&[], &[]);
    assert!(
        untrusted.1.contains("cannot reach the analyzer"),
        "{}",
        untrusted.1
    );
}
