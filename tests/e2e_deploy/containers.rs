//! What the manifests' containers run: the shipped analyzer config and
//! receiver arguments start the real binary, and the Dockerfile builds that
//! binary and exposes the ports the manifests use.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use otel_parity_testkit::e2e::{ScratchDir, port_accepts, workspace_root};
use serde_yaml_ng::Value;

use crate::manifests::{args, containers, kubernetes_objects, object, receiver_sidecar, str_of};
use crate::processes::{http_get, loopback, spawn};

/// How long a binary may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

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
    let readyz = format!("http://{http}/readyz");
    analyzer.wait_until(START_TIMEOUT, "ready (/readyz)", || {
        http_get(&readyz).is_ok()
    });

    // The receiver sidecar's arguments, its loopback ports moved to free ones
    // and the analyzer Service to the analyzer above.
    let (_, sidecar) = receiver_sidecar(&objects);
    let (grpc, otlp_http): (SocketAddr, SocketAddr) = (loopback(), loopback());
    let mut receiver_args: Vec<String> = args(&sidecar)
        .iter()
        .map(|arg| expand_env(&sidecar, arg))
        .collect();
    for (name, value) in [
        ("--otlp-grpc", grpc.to_string()),
        ("--otlp-http", otlp_http.to_string()),
        ("--analyzer", format!("http://{push}")),
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
