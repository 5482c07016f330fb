//! What the manifests' containers run: the shipped analyzer config and
//! receiver arguments, with the Secrets they mount made for the test (CAs,
//! certificates, tokens), start the real binaries, and the receiver's push
//! reaches the analyzer over mTLS with its token; the Dockerfile builds that
//! binary and exposes the ports the manifests use.

use std::time::Duration;

use otel_parity_testkit::e2e::{HttpClient, ScratchDir, poll_until, workspace_root};
use otel_parity_testkit::raw::http::http_request;
use otel_parity_testkit::shop::Shop;
use prost::Message;

use crate::manifests::{containers, kubernetes_objects, object, receiver_sidecar, str_of};
use crate::shipped::{
    MountedSecrets, ShippedAnalyzer, ShippedReceiver, analyzer_config, start_analyzer,
    start_receiver,
};

#[test]
fn shipped_analyzer_config_and_receiver_arguments_start_the_real_binaries() {
    let objects = kubernetes_objects();
    let dir = ScratchDir::new("deploy-manifests");
    let config_map = object(&objects, "ConfigMap", "otel-parity-analyzer");
    let secrets = MountedSecrets::new(dir.path());
    let config_path = analyzer_config(config_map, &secrets, dir.path());
    let https = HttpClient::new().trusting(&secrets.ca.cert_pem());
    let ShippedAnalyzer {
        process: mut analyzer,
        http,
        push,
    } = start_analyzer(&config_path, dir.path(), "data", &[], &https);
    let (_, sidecar) = receiver_sidecar(&objects);
    let ShippedReceiver {
        process: mut receiver,
        otlp_http,
        telemetry,
    } = start_receiver(&sidecar, &secrets, push, dir.path());

    // Traffic with the Collector's token reaches the receiver, whose push
    // reaches the analyzer (mTLS, push token); the API answers its token.
    let body = Shop::prod().traces_request(3, 1).encode_to_vec();
    let otlp_token = format!("Bearer {}", MountedSecrets::token("otlp"));
    let protobuf = ("Content-Type", "application/x-protobuf");
    let refused = http_request(otlp_http, "POST", "/v1/traces", &[protobuf], &body);
    assert_eq!(refused.status, 401, "{}", refused.describe());
    let accepted = http_request(
        otlp_http,
        "POST",
        "/v1/traces",
        &[protobuf, ("Authorization", &otlp_token)],
        &body,
    );
    assert_eq!(accepted.status, 200, "{}", accepted.describe());
    let api = https.clone().with_token(&MountedSecrets::token("api"));
    let environments = format!("https://localhost:{}/api/v1/environments", http.port());
    let pushed = poll_until(Duration::from_secs(30), Duration::from_millis(250), || {
        api.get(&environments)
            .is_ok_and(|(status, body)| status == 200 && body.contains("\"staging\""))
    });
    assert!(
        pushed,
        "the receiver's push did not reach the analyzer\n{}\n{}",
        receiver.output_tail(),
        analyzer.output_tail()
    );

    // The sidecar's probes, on the port they name, answer as the kubelet wants.
    let plain = HttpClient::new();
    for (probe, status) in [
        ("startupProbe", 200),
        ("readinessProbe", 200),
        ("livenessProbe", 200),
    ] {
        let path = sidecar[probe]["httpGet"]["path"]
            .as_str()
            .unwrap_or_else(|| panic!("the receiver sidecar has no {probe}.httpGet.path"));
        let url = format!("http://{telemetry}{path}");
        assert_eq!(
            plain.get(&url).map(|(status, _)| status),
            Ok(status),
            "{probe} {url}\n{}",
            receiver.output_tail()
        );
    }

    let receiver_exit = receiver.stop();
    let analyzer_exit = analyzer.stop();
    assert!(
        receiver_exit.is_some_and(|s| s.success()),
        "receiver exit on SIGTERM: {receiver_exit:?}\n{}",
        receiver.output_tail()
    );
    assert!(
        analyzer_exit.is_some_and(|s| s.success()),
        "analyzer exit on SIGTERM: {analyzer_exit:?}\n{}",
        analyzer.output_tail()
    );
}

/// The instructions of a Dockerfile, continuation lines joined.
fn dockerfile_instructions(text: &str) -> Vec<String> {
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        current.push_str(trimmed.trim_end_matches('\\'));
        current.push(' ');
        if !trimmed.ends_with('\\') {
            instructions.push(current.trim().to_owned());
            current.clear();
        }
    }
    instructions
}

#[test]
fn dockerfile_builds_the_binary_and_exposes_the_ports_the_manifests_use() {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join("Dockerfile"))
        .unwrap_or_else(|e| panic!("cannot read Dockerfile: {e}"));
    let instructions = dockerfile_instructions(&text);
    let with = |keyword: &str| -> Vec<&String> {
        instructions
            .iter()
            .filter(|i| i.starts_with(&format!("{keyword} ")))
            .collect()
    };
    let stages = with("FROM");
    assert_eq!(stages.len(), 2, "a build and a runtime stage: {stages:?}");
    // The builder's Rust is at least the workspace's rust-version.
    let builder = stages[0].split_whitespace().nth(1).unwrap_or("");
    let rust = builder
        .strip_prefix("rust:")
        .and_then(|tag| tag.split('-').next())
        .unwrap_or_else(|| panic!("builder is not a rust image: {builder}"));
    let cargo_toml = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("cannot read Cargo.toml: {e}"));
    let minimum = cargo_toml
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| panic!("no rust-version in Cargo.toml"));
    let version = |v: &str| -> Vec<u32> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    assert!(
        version(rust) >= version(&minimum),
        "rust:{rust} < rust-version {minimum}"
    );
    assert!(
        stages[1].contains("bookworm"),
        "runtime on the builder's Debian: {stages:?}"
    );
    assert!(
        with("RUN")
            .iter()
            .any(|r| r.contains("cargo build --release --locked")),
        "no locked release build"
    );
    // Runs as the non-root user the manifests expect.
    let user = with("USER");
    assert_eq!(user.len(), 1);
    assert!(user[0].contains("10001"), "{user:?}");
    let entrypoint = with("ENTRYPOINT");
    assert_eq!(entrypoint.len(), 1);
    let binary = entrypoint[0]
        .split('"')
        .nth(1)
        .unwrap_or_else(|| panic!("ENTRYPOINT is not exec form: {}", entrypoint[0]));
    assert!(
        with("COPY")
            .iter()
            .any(|c| c.contains("--from=build") && c.ends_with(binary)),
        "ENTRYPOINT {binary} is not the binary copied from the build stage"
    );
    let exposed: Vec<u16> = with("EXPOSE")
        .iter()
        .flat_map(|e| e.split_whitespace().skip(1).filter_map(|p| p.parse().ok()))
        .collect();
    for port in [4317, 4318, 4319, 8080] {
        assert!(
            exposed.contains(&port),
            "port {port} not exposed: {exposed:?}"
        );
    }
    // Every container running the otel-parity image runs as that user.
    for deployment in kubernetes_objects()
        .iter()
        .filter(|o| str_of(o, "kind") == "Deployment")
    {
        let pod_user =
            deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"].as_u64();
        for container in containers(deployment) {
            if str_of(&container, "image").contains("otel-parity") {
                let user = container["securityContext"]["runAsUser"]
                    .as_u64()
                    .or(pod_user);
                assert_eq!(user, Some(10001), "{}", str_of(&container, "name"));
            }
        }
    }
    // cargo refuses a manifest whose targets are missing: the build context
    // keeps the sources, the lock file and the bench Cargo.toml names.
    let ignored = std::fs::read_to_string(root.join(".dockerignore"))
        .unwrap_or_else(|e| panic!("cannot read .dockerignore: {e}"));
    let patterns: Vec<&str> = ignored
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "proto",
        "receiver",
        "analyzer",
        "benches",
    ] {
        assert!(
            !patterns
                .iter()
                .any(|p| p.trim_matches('/') == needed || *p == "*"),
            ".dockerignore excludes {needed}"
        );
    }
    assert!(
        patterns.contains(&"target"),
        ".dockerignore keeps target/ out of the context"
    );
}
