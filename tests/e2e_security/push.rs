//! Receivers pushing to an analyzer over mTLS with a token: accepted as configured, rotated
//! without a restart, and refused, storing nothing, with any one thing wrong.

use std::time::Duration;

use otel_parity_testkit::e2e::{AnalyzerProcess, ReceiverProcess, poll_until};
use otel_parity_testkit::shop::{self, Shop};

use crate::pki::{API_TOKEN, PUSH_TOKEN, Pki, arg, flags};

/// How long a receiver may take to push (or fail to) once it has traffic.
const PUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// An analyzer with TLS and mTLS on both listeners, push and api tokens, reloading its
/// certificate every 200 ms.
fn mtls_analyzer(pki: &Pki) -> AnalyzerProcess {
    let config = format!(
        "push:\n  tls:\n    cert_file: {cert}\n    key_file: {key}\n    client_ca_file: {ca}\n    reload_interval: 200ms\n",
        cert = arg(&pki.server_cert),
        key = arg(&pki.server_key),
        ca = arg(&pki.client_ca_file),
    );
    let args = pki.analyzer_flags(
        true,
        &[
            ("--push-token-file", &pki.push_tokens),
            ("--api-token-file", &pki.api_tokens),
        ],
    );
    AnalyzerProcess::start_secured(
        &config,
        &args,
        true,
        pki.mtls_client().with_token(API_TOKEN),
    )
}

/// A receiver for `environment` pushing every 300 ms with `args` (the analyzer URL and its
/// TLS and token flags), fed one batch of shop traffic.
fn pushing_receiver(environment: &str, args: &[String]) -> ReceiverProcess {
    let mut all = vec![
        "--environment".to_owned(),
        environment.to_owned(),
        "--push-interval".into(),
        "300ms".into(),
    ];
    all.extend(args.iter().cloned());
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let receiver = ReceiverProcess::start(&all);
    send_traffic(&receiver, 1);
    receiver
}

fn send_traffic(receiver: &ReceiverProcess, round: u64) {
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("runtime: {e}"));
    let batch = Shop::prod().batch(5, 5 * round, round);
    runtime
        .block_on(shop::send(&receiver.grpc_endpoint(), batch))
        .unwrap_or_else(|e| {
            panic!(
                "the receiver refused plaintext OTLP: {e}\n{}",
                receiver.stderr_tail()
            )
        });
}

/// The flags of a receiver that does everything right.
fn good_flags(pki: &Pki, analyzer: &AnalyzerProcess) -> Vec<String> {
    let mut out = vec!["--analyzer".to_owned(), analyzer.push_url()];
    out.extend(flags(&[
        ("--analyzer-ca-file", &pki.ca_file),
        ("--analyzer-cert-file", &pki.client_cert),
        ("--analyzer-key-file", &pki.client_key),
        ("--analyzer-token-file", &pki.push_tokens),
    ]));
    out
}

/// `flags` with the value of `flag` replaced (`None`: the flag and its value removed).
fn with(flags: &[String], flag: &str, value: Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut iter = flags.iter();
    while let Some(name) = iter.next() {
        let original = iter.next().cloned().unwrap_or_default();
        if name == flag {
            if let Some(value) = &value {
                out.extend([name.clone(), value.clone()]);
            }
        } else {
            out.extend([name.clone(), original]);
        }
    }
    out
}

/// Pushes the analyzer stored for `environment`.
fn stored(analyzer: &AnalyzerProcess, environment: &str) -> u64 {
    analyzer.environments()[environment]["pushes"]
        .as_u64()
        .unwrap_or(0)
}

/// A counter's value in an exposition, 0 when absent.
fn sample(exposition: &str, series: &str) -> f64 {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn a_receiver_pushes_over_mtls_with_its_token_through_certificate_and_token_rotation() {
    let pki = Pki::new();
    let analyzer = mtls_analyzer(&pki);
    let token_file = pki.token_file("receiver-token", &[PUSH_TOKEN]);
    let flags = with(
        &good_flags(&pki, &analyzer),
        "--analyzer-token-file",
        Some(arg(&token_file)),
    );
    let receiver = pushing_receiver("prod", &flags);
    assert!(
        poll_until(PUSH_TIMEOUT, Duration::from_millis(200), || stored(
            &analyzer, "prod"
        ) >= 1),
        "no push stored\n{}\n{}",
        receiver.stderr_tail(),
        analyzer.stderr_tail()
    );

    // Rotation: a new server certificate, then a new token (added to the analyzer's set,
    // switched to by the receiver, the old one removed). Pushes go on throughout.
    let rotated = pki.ca.server("analyzer.test-rotated");
    otel_parity_testkit::tls::write(&pki.server_key, &rotated.key_pem);
    otel_parity_testkit::tls::write(&pki.server_cert, &rotated.cert_pem);
    const NEW_TOKEN: &str = "push-token-rotated-99e2";
    otel_parity_testkit::tls::write(&pki.push_tokens, &format!("{NEW_TOKEN}\n{PUSH_TOKEN}\n"));
    std::thread::sleep(Duration::from_millis(1500));
    otel_parity_testkit::tls::write(&token_file, &format!("{NEW_TOKEN}\n"));
    std::thread::sleep(Duration::from_millis(1500));
    otel_parity_testkit::tls::write(&pki.push_tokens, &format!("{NEW_TOKEN}\n"));
    let before = stored(&analyzer, "prod");
    for round in 2..=4 {
        send_traffic(&receiver, round);
        std::thread::sleep(Duration::from_millis(400));
    }
    assert!(
        poll_until(PUSH_TIMEOUT, Duration::from_millis(200), || stored(
            &analyzer, "prod"
        ) >= before + 3),
        "pushes stopped after the rotation ({before} before)\n{}\n{}",
        receiver.stderr_tail(),
        analyzer.stderr_tail()
    );
    let metrics = analyzer.metrics();
    assert_eq!(
        sample(
            &metrics,
            "otel_parity_auth_requests_total{listener=\"push\",result=\"invalid\"}"
        ),
        0.0,
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            "otel_parity_auth_requests_total{listener=\"push\",result=\"accepted\"}"
        ) >= 4.0,
        "{metrics}"
    );
    for (name, log) in [
        ("receiver", receiver.stderr()),
        ("analyzer", analyzer.stderr_tail()),
    ] {
        for token in [PUSH_TOKEN, NEW_TOKEN, API_TOKEN] {
            assert!(!log.contains(token), "a token is in the {name}'s log");
        }
    }
}

#[test]
fn a_push_with_any_one_thing_wrong_is_refused_and_stores_nothing() {
    let pki = Pki::new();
    let analyzer = mtls_analyzer(&pki);
    let good = good_flags(&pki, &analyzer);
    let plaintext_url = analyzer.push_url().replace("https://", "http://");
    let wrong_token = pki.token_file("wrong-token", &["guessed-token"]);
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "no-token",
            with(&good, "--analyzer-token-file", None),
            "a bearer token is required",
        ),
        (
            "wrong-token",
            with(&good, "--analyzer-token-file", Some(arg(&wrong_token))),
            "Unauthenticated",
        ),
        (
            "api-token",
            with(&good, "--analyzer-token-file", Some(arg(&pki.api_tokens))),
            "Unauthenticated",
        ),
        // TLS 1.3: the client's side of the handshake is done before the analyzer refuses it, so
        // the receiver sees the connection closed.
        (
            "no-client-cert",
            with(
                &with(&good, "--analyzer-cert-file", None),
                "--analyzer-key-file",
                None,
            ),
            "",
        ),
        (
            "stranger-cert",
            with(
                &with(&good, "--analyzer-cert-file", Some(arg(&pki.stranger_cert))),
                "--analyzer-key-file",
                Some(arg(&pki.stranger_key)),
            ),
            "",
        ),
        (
            "untrusted-analyzer",
            with(
                &good,
                "--analyzer-ca-file",
                Some(arg(&pki.stranger_ca_file)),
            ),
            "UnknownIssuer",
        ),
        (
            "plaintext",
            with(&good, "--analyzer", Some(plaintext_url)),
            "",
        ),
    ];
    let receivers: Vec<_> = cases
        .iter()
        .map(|(environment, flags, _)| (environment, pushing_receiver(environment, flags)))
        .collect();
    let good_receiver = pushing_receiver("prod", &good);
    assert!(
        poll_until(PUSH_TIMEOUT, Duration::from_millis(200), || stored(
            &analyzer, "prod"
        ) >= 1),
        "the good receiver's push was not stored\n{}",
        good_receiver.stderr_tail()
    );
    for ((environment, receiver), (_, _, logged)) in receivers.iter().zip(&cases) {
        assert!(
            poll_until(PUSH_TIMEOUT, Duration::from_millis(200), || receiver
                .stderr()
                .contains("push failed")),
            "{environment}: no failed push logged\n{}",
            receiver.stderr_tail()
        );
        let log = receiver.stderr();
        assert!(
            log.contains(logged),
            "{environment}: {logged:?} not logged\n{log}"
        );
    }
    let environments = analyzer.environments();
    let names: Vec<_> = environments
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(names, ["prod"], "a refused push was stored");
    let metrics = analyzer.metrics();
    let count = |result: &str| {
        sample(
            &metrics,
            &format!("otel_parity_auth_requests_total{{listener=\"push\",result=\"{result}\"}}"),
        )
    };
    assert!(
        count("missing") >= 1.0 && count("invalid") >= 2.0,
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "otel_parity_pushes_total{result=\"invalid\"}"),
        0.0
    );
}

#[test]
fn an_expired_analyzer_certificate_and_tls_to_a_plaintext_port_are_refused() {
    let pki = Pki::new();
    // Push over TLS with an expired certificate; HTTP plaintext, so the test can read the API.
    let expired = AnalyzerProcess::start(&format!(
        "push:\n  tls:\n    cert_file: {}\n    key_file: {}\n",
        arg(&pki.expired_cert),
        arg(&pki.expired_key)
    ));
    let plaintext = AnalyzerProcess::start("");
    let expired_url = format!("https://localhost:{}", expired.push().port());
    let tls_to_plain_url = format!("https://localhost:{}", plaintext.push().port());
    let cases = [
        ("expired", expired_url, &expired, "certificate expired"),
        ("tls-to-plaintext", tls_to_plain_url, &plaintext, ""),
    ];
    for (environment, url, analyzer, logged) in cases {
        let receiver = pushing_receiver(
            environment,
            &[
                "--analyzer".into(),
                url,
                "--analyzer-ca-file".into(),
                arg(&pki.ca_file),
            ],
        );
        assert!(
            poll_until(PUSH_TIMEOUT, Duration::from_millis(200), || receiver
                .stderr()
                .contains("push failed")),
            "{environment}: no failed push logged\n{}",
            receiver.stderr_tail()
        );
        assert!(
            receiver.stderr().contains(logged),
            "{environment}: {logged:?} not logged\n{}",
            receiver.stderr()
        );
        std::thread::sleep(Duration::from_secs(1));
        let environments = analyzer.environments();
        assert_eq!(
            environments.as_object().map(|m| m.len()),
            Some(0),
            "{environment}: stored {environments}"
        );
    }
}
