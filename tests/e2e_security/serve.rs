//! `otel-parity serve` with the security flags: TLS on its OTLP listeners and its analyzer's
//! HTTP listener, the API behind the `api` token, and the built-in receiver's pushes carrying
//! the `push` token.

use std::process::Command;
use std::time::Duration;

use otel_parity_testkit::e2e::{
    ChildOutput, ChildProcess, ScratchDir, free_ports, loopback, otel_parity_binary,
};

use crate::pki::{API_TOKEN, Pki};

#[test]
fn serve_takes_the_same_flags_and_secures_its_listeners_with_them() {
    let pki = Pki::new();
    let dir = ScratchDir::new("serve-secured");
    let [grpc, otlp_http, http, push] = free_ports().map(loopback);
    let config = dir.path().join("serve.yaml");
    std::fs::write(
        &config,
        format!(
            "receiver:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: {grpc}\n      http:\n        endpoint: {otlp_http}\n\
             analyzer:\n  listen: {http}\n  push_listen: {push}\n"
        ),
    )
    .unwrap();
    let mut command = Command::new(otel_parity_binary());
    command
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(pki.analyzer_flags(
            false,
            &[
                ("--push-token-file", &pki.push_tokens),
                ("--api-token-file", &pki.api_tokens),
            ],
        ));
    let log = dir.path().join("serve.log");
    let mut serve = ChildProcess::spawn("otel-parity serve", &mut command, ChildOutput::Log(&log));
    let https = pki.https_client();
    let url =
        |addr: std::net::SocketAddr, path: &str| format!("https://localhost:{}{path}", addr.port());
    serve.wait_until(Duration::from_secs(30), "ready over TLS", || {
        https
            .get(&url(http, "/readyz"))
            .is_ok_and(|(status, _)| status == 200)
    });
    // OTLP/HTTP over TLS (a GET is not an export: 405, but over TLS).
    let (status, _) = https.get(&url(otlp_http, "/v1/traces")).unwrap();
    assert_eq!(status, 405);
    assert!(
        https
            .get(&url(otlp_http, "/v1/traces").replace("https", "http"))
            .is_err()
    );
    // The API behind the api token.
    assert_eq!(
        https.get(&url(http, "/api/v1/environments")).unwrap().0,
        401
    );
    let (status, body) = https
        .clone()
        .with_token(API_TOKEN)
        .get(&url(http, "/api/v1/environments"))
        .unwrap();
    assert_eq!((status, body.trim()), (200, "[]"));
    let exit = serve.stop();
    assert!(exit.is_some_and(|s| s.success()), "{}", serve.output_tail());
}
