//! What the manifests' containers run: the shipped analyzer config and
//! receiver arguments, with the Secrets they mount made for the test (CAs,
//! certificates, tokens), start the real binaries, and the receiver's push
//! reaches the analyzer over mTLS with its token; the Dockerfile builds that
//! binary and exposes the ports the manifests use.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use otel_parity_testkit::e2e::{HttpClient, ScratchDir, poll_until, port_accepts, workspace_root};
use otel_parity_testkit::raw::http::http_request;
use otel_parity_testkit::shop::Shop;
use otel_parity_testkit::tls::{CertifiedKey, TestCa};
use prost::Message;
use serde_yaml_ng::Value;

use crate::manifests::{args, containers, kubernetes_objects, object, receiver_sidecar, str_of};
use crate::processes::{loopback, spawn};

/// How long a binary may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The files the manifests mount from Secrets under `/etc/otel-parity/`, made
/// in a scratch directory: one CA for every certificate, the analyzer's
/// server certificate (`tls/`), the receiver's client certificate
/// (`client/`), and a token per token file (`tokens/<name>`).
struct MountedSecrets {
    dir: PathBuf,
    ca: TestCa,
    server: CertifiedKey,
    client: CertifiedKey,
}

impl MountedSecrets {
    fn new(dir: &Path) -> Self {
        let ca = TestCa::new("deploy test CA");
        MountedSecrets {
            dir: dir.join("secrets"),
            server: ca.server("otel-parity-analyzer"),
            client: ca.client("receiver-staging"),
            ca,
        }
    }

    /// The test's file for a path the manifests mount, written on first use.
    fn file(&self, mounted: &str) -> String {
        let path = Path::new(mounted);
        let name = |p: Option<&Path>| {
            p.and_then(Path::file_name)
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned()
        };
        let (directory, file) = (name(path.parent()), name(Some(path)));
        let text = match (directory.as_str(), file.as_str()) {
            (_, "ca.crt") => self.ca.cert_pem(),
            ("tls", "tls.crt") => self.server.cert_pem.clone(),
            ("tls", "tls.key") => self.server.key_pem.clone(),
            ("client", "tls.crt") => self.client.cert_pem.clone(),
            ("client", "tls.key") => self.client.key_pem.clone(),
            ("tokens", token) => format!("{}\n", Self::token(token)),
            _ => panic!("{mounted}: not a file of a mounted Secret this test knows"),
        };
        let local = self.dir.join(&directory).join(&file);
        std::fs::create_dir_all(self.dir.join(&directory))
            .unwrap_or_else(|e| panic!("cannot create the secrets directory: {e}"));
        std::fs::write(&local, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", local.display()));
        local.display().to_string()
    }

    /// The token the test puts in token file `name`: the receiver's push token
    /// file and the analyzer's push token file hold the same one.
    fn token(name: &str) -> String {
        format!("deploy-test-{name}-token")
    }

    /// Whether `value` is a path the manifests mount from a Secret.
    fn is_secret_path(value: &str) -> bool {
        ["tls", "client-ca", "tokens", "analyzer-ca", "client"]
            .iter()
            .any(|dir| value.starts_with(&format!("/etc/otel-parity/{dir}/")))
    }

    /// Replaces every Secret path among the strings of `value`.
    fn rewrite(&self, value: &mut Value) {
        match value {
            Value::String(text) if Self::is_secret_path(text) => *text = self.file(text),
            Value::Mapping(mapping) => mapping.values_mut().for_each(|v| self.rewrite(v)),
            Value::Sequence(items) => items.iter_mut().for_each(|v| self.rewrite(v)),
            _ => {}
        }
    }
}

/// A container's environment variables, for `$(VAR)` in its arguments.
fn expand_env(container: &Value, arg: &str) -> String {
    let mut out = arg.to_owned();
    for variable in container["env"].as_sequence().into_iter().flatten() {
        out = out.replace(
            &format!("$({})", str_of(variable, "name")),
            str_of(variable, "value"),
        );
    }
    out
}

#[test]
fn shipped_analyzer_config_and_receiver_arguments_start_the_real_binaries() {
    let objects = kubernetes_objects();
    let dir = ScratchDir::new("deploy-manifests");
    let config_map = object(&objects, "ConfigMap", "otel-parity-analyzer");
    // The mounted files, with the mount path moved to the scratch directory.
    let accepted = dir.path().join("accepted-differences.yaml");
    std::fs::write(
        &accepted,
        str_of(&config_map["data"], "accepted-differences.yaml"),
    )
    .unwrap_or_else(|e| panic!("cannot write {}: {e}", accepted.display()));
    let mut config: Value = serde_yaml_ng::from_str(str_of(&config_map["data"], "analyzer.yaml"))
        .unwrap_or_else(|e| panic!("analyzer config is not YAML: {e}"));
    assert_eq!(
        str_of(&config, "accepted_differences"),
        "/etc/otel-parity/accepted-differences.yaml"
    );
    config["accepted_differences"] = Value::from(accepted.display().to_string());
    let secrets = MountedSecrets::new(dir.path());
    secrets.rewrite(&mut config);
    for listener in ["push", "http"] {
        assert!(
            config[listener]["tls"]["cert_file"].as_str().is_some(),
            "the shipped analyzer config has no TLS on its {listener} listener"
        );
    }
    for set in ["push_token_file", "api_token_file", "metrics_token_file"] {
        assert!(
            config["auth"][set].as_str().is_some(),
            "the shipped analyzer config has no auth.{set}"
        );
    }
    let config_path = dir.path().join("analyzer.yaml");
    let config_text =
        serde_yaml_ng::to_string(&config).unwrap_or_else(|e| panic!("cannot write config: {e}"));
    std::fs::write(&config_path, config_text)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));

    let (http, push) = (loopback(), loopback());
    let mut analyzer = spawn(
        "otel-parity analyze",
        Command::new(env!("CARGO_BIN_EXE_otel-parity"))
            .arg("analyze")
            .arg("--config")
            .arg(&config_path)
            .args(["--listen", &http.to_string()])
            .args(["--push-listen", &push.to_string()])
            .arg("--data-dir")
            .arg(dir.path().join("data")),
        &dir.path().join("analyzer.log"),
    );
    let https = HttpClient::new().trusting(&secrets.ca.cert_pem());
    let readyz = format!("https://localhost:{}/readyz", http.port());
    analyzer.wait_until(START_TIMEOUT, "ready (/readyz over TLS)", || {
        https.get(&readyz).is_ok_and(|(status, _)| status == 200)
    });

    // The receiver sidecar's arguments, its loopback ports moved to free ones
    // and the analyzer Service to the analyzer above.
    let (_, sidecar) = receiver_sidecar(&objects);
    let (grpc, otlp_http, telemetry): (SocketAddr, SocketAddr, SocketAddr) =
        (loopback(), loopback(), loopback());
    let mut receiver_args: Vec<String> = args(&sidecar)
        .iter()
        .map(|arg| expand_env(&sidecar, arg))
        .map(|arg| match MountedSecrets::is_secret_path(&arg) {
            true => secrets.file(&arg),
            false => arg,
        })
        .collect();
    for (name, value) in [
        ("--otlp-grpc", grpc.to_string()),
        ("--otlp-http", otlp_http.to_string()),
        ("--analyzer", format!("https://localhost:{}", push.port())),
        ("--push-interval", "500ms".to_owned()),
        ("--telemetry", telemetry.to_string()),
        (
            "--state-dir",
            dir.path().join("state").display().to_string(),
        ),
    ] {
        let index = receiver_args
            .iter()
            .position(|a| a == name)
            .unwrap_or_else(|| {
                panic!("the receiver sidecar has no {name} (as a separate argument)")
            });
        receiver_args[index + 1] = value;
    }
    assert!(
        !receiver_args.iter().any(|a| a.contains("$(")),
        "unexpanded variable in {receiver_args:?}"
    );
    let mut receiver = spawn(
        "otel-parity receive",
        Command::new(env!("CARGO_BIN_EXE_otel-parity")).args(&receiver_args),
        &dir.path().join("receiver.log"),
    );
    receiver.wait_until(START_TIMEOUT, "listening on both OTLP ports", || {
        port_accepts(grpc) && port_accepts(otlp_http)
    });

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
