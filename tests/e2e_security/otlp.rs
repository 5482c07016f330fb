//! The receiver's OTLP listeners over TLS with a token, fed by the Python SDK's exporters
//! configured through `OTEL_EXPORTER_OTLP_*` only.

use std::time::Duration;

use otel_parity_testkit::e2e::{ReceiverProcess, app_path, json_at, proto_u64, run_python};
use serde_json::Value;

use crate::pki::{Pki, arg};

/// The receiver's OTLP token.
const OTLP_TOKEN: &str = "otlp-token-41d0";

/// What one run of tests/apps/tls_export.py reported, and what its exporter logged.
struct Export {
    result: String,
    stderr: String,
}

/// Exports 5 spans of `service` with the SDK's `protocol` exporter, configured by `env`.
fn export(protocol: &str, service: &str, env: &[(&str, &str)]) -> Export {
    let mut env = env.to_vec();
    env.push(("OTEL_EXPORTER_OTLP_TIMEOUT", "4"));
    // requests prefers these over the exporter's own CA file (OTEL_EXPORTER_OTLP_CERTIFICATE):
    // empty, they are ignored, as on a machine that does not set them.
    env.extend([("REQUESTS_CA_BUNDLE", ""), ("CURL_CA_BUNDLE", "")]);
    let output = run_python(
        &app_path("tls_export.py"),
        &["--protocol", protocol, "--service", service],
        &env,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("tls_export.py printed no JSON ({e}): {stdout}"));
    Export {
        result: summary["result"].as_str().unwrap_or_default().to_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Spans of `shop/<service>` in prod in the receiver's snapshot.
fn spans(snapshot: &Value, service: &str) -> u64 {
    let name = format!("shop/{service}");
    json_at(
        snapshot,
        &["environments", "prod", "services", &name, "spanOperations"],
    )
    .and_then(Value::as_array)
    .into_iter()
    .flatten()
    .map(|operation| proto_u64(operation.get("spans")).unwrap_or(0))
    .sum()
}

fn receiver(pki: &Pki, tokens: &std::path::Path) -> ReceiverProcess {
    ReceiverProcess::start(&[
        "--tls-cert-file",
        &arg(&pki.server_cert),
        "--tls-key-file",
        &arg(&pki.server_key),
        "--otlp-token-file",
        &arg(tokens),
    ])
}

#[test]
fn the_python_sdk_exports_over_tls_with_a_token_on_grpc_and_http() {
    let pki = Pki::new();
    let tokens = pki.token_file("otlp-tokens", &[OTLP_TOKEN]);
    let mut receiver = receiver(&pki, &tokens);
    let grpc = format!("https://localhost:{}", receiver.grpc_addr().port());
    let http = format!(
        "https://localhost:{}/v1/traces",
        receiver.http_addr().port()
    );
    let ca = arg(&pki.ca_file);
    let header = format!("authorization=Bearer%20{OTLP_TOKEN}");
    for (protocol, endpoint, service) in
        [("grpc", &grpc, "cart-grpc"), ("http", &http, "cart-http")]
    {
        let exported = export(
            protocol,
            service,
            &[
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint),
                ("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca),
                ("OTEL_EXPORTER_OTLP_HEADERS", &header),
            ],
        );
        assert_eq!(
            exported.result,
            "SUCCESS",
            "{protocol}: {}\n{}",
            exported.stderr,
            receiver.stderr_tail()
        );
    }
    let snapshot = receiver
        .wait_for_snapshot(Duration::from_secs(20), |s| {
            spans(s, "cart-grpc") == 5 && spans(s, "cart-http") == 5
        })
        .unwrap_or_else(|| panic!("no snapshot with 5 + 5 spans\n{}", receiver.stderr_tail()));
    assert_eq!(
        spans(&snapshot, "cart-grpc") + spans(&snapshot, "cart-http"),
        10
    );
    assert!(
        !receiver.stderr().contains(OTLP_TOKEN),
        "the token is in the receiver's log"
    );
}

/// An export the receiver or the exporter refuses: protocol, service name, endpoint, the CA
/// file the exporter trusts, its `OTEL_EXPORTER_OTLP_HEADERS`, and what the exporter logs.
type Refused<'a> = (
    &'static str,
    &'static str,
    &'a String,
    &'a String,
    Option<&'a String>,
    &'static str,
);

#[test]
fn exporters_without_the_token_or_trust_are_refused_and_nothing_is_counted() {
    let pki = Pki::new();
    let tokens = pki.token_file("otlp-tokens", &[OTLP_TOKEN]);
    let mut receiver = receiver(&pki, &tokens);
    let grpc = format!("https://localhost:{}", receiver.grpc_addr().port());
    let grpc_plain = format!("http://localhost:{}", receiver.grpc_addr().port());
    let http = format!(
        "https://localhost:{}/v1/traces",
        receiver.http_addr().port()
    );
    let http_plain = format!("http://localhost:{}/v1/traces", receiver.http_addr().port());
    let (ca, stranger) = (arg(&pki.ca_file), arg(&pki.stranger_ca_file));
    let good = format!("authorization=Bearer%20{OTLP_TOKEN}");
    let wrong = "authorization=Bearer%20guessed".to_owned();
    let elsewhere = format!("x-api-key={OTLP_TOKEN}");
    let cases: [Refused<'_>; 7] = [
        ("grpc", "no-token-grpc", &grpc, &ca, None, "UNAUTHENTICATED"),
        (
            "grpc",
            "wrong-token-grpc",
            &grpc,
            &ca,
            Some(&wrong),
            "UNAUTHENTICATED",
        ),
        ("http", "no-token-http", &http, &ca, None, "401"),
        (
            "http",
            "token-elsewhere-http",
            &http,
            &ca,
            Some(&elsewhere),
            "401",
        ),
        ("grpc", "untrusted-grpc", &grpc, &stranger, Some(&good), ""),
        ("grpc", "plaintext-grpc", &grpc_plain, &ca, Some(&good), ""),
        ("http", "plaintext-http", &http_plain, &ca, Some(&good), ""),
    ];
    for (protocol, service, endpoint, trusted, header, logged) in cases {
        let mut env = vec![
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", trusted.as_str()),
        ];
        if let Some(header) = header {
            env.push(("OTEL_EXPORTER_OTLP_HEADERS", header.as_str()));
        }
        let exported = export(protocol, service, &env);
        assert_eq!(
            exported.result, "FAILURE",
            "{service} was not refused: {}",
            exported.stderr
        );
        assert!(
            exported.stderr.contains(logged),
            "{service}: the exporter did not log {logged:?}:\n{}",
            exported.stderr
        );
    }
    // The receiver still serves, and counted none of the refused spans.
    let exported = export(
        "grpc",
        "after-refusals",
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &grpc),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca),
            ("OTEL_EXPORTER_OTLP_HEADERS", &good),
        ],
    );
    assert_eq!(exported.result, "SUCCESS", "{}", exported.stderr);
    let snapshot = receiver
        .wait_for_snapshot(Duration::from_secs(20), |s| spans(s, "after-refusals") == 5)
        .unwrap_or_else(|| panic!("the receiver stopped serving\n{}", receiver.stderr_tail()));
    let services = json_at(&snapshot, &["environments", "prod", "services"])
        .and_then(Value::as_object)
        .map(|s| s.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    assert_eq!(
        services,
        ["shop/after-refusals"],
        "refused exports were counted"
    );
}
