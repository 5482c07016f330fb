//! The deployment files: every Kubernetes and Collector YAML document parses;
//! the Collector configs export to the port the receiver really listens on;
//! the receiver pushes to the analyzer Service's real port; the shipped
//! analyzer config and receiver arguments start the real binary; and the
//! Dockerfile builds and exposes what the manifests run.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::processes::{Running, http_get, loopback};
use crate::support::{ScratchDir, port_accepts, workspace_root};

/// How long a binary may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// `*.yaml` files of a directory under config/, sorted.
fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let dir = workspace_root().join("config").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no YAML in {}", dir.display());
    files
}

/// Every document of a (multi-document) YAML file.
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml_ng::Deserializer::from_str(&text)
        .enumerate()
        .map(|(index, document)| {
            Value::deserialize(document)
                .unwrap_or_else(|e| panic!("{} document {index} is not YAML: {e}", path.display()))
        })
        .filter(|document| !document.is_null())
        .collect()
}

/// Every Kubernetes object of config/kubernetes/.
fn kubernetes_objects() -> Vec<Value> {
    yaml_files("kubernetes")
        .iter()
        .flat_map(|path| documents(path))
        .collect()
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("")
}

fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| str_of(o, "kind") == kind && str_of(&o["metadata"], "name") == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in config/kubernetes/"))
}

/// Containers and init containers (native sidecars) of a pod template.
fn containers(deployment: &Value) -> Vec<Value> {
    let spec = &deployment["spec"]["template"]["spec"];
    ["initContainers", "containers"]
        .iter()
        .flat_map(|key| spec[*key].as_sequence().cloned().unwrap_or_default())
        .collect()
}

fn args(container: &Value) -> Vec<String> {
    container["args"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect()
}

/// The value of `--flag` in `args` (`--flag value` or `--flag=value`).
fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(i, arg)| {
        if arg == name {
            args.get(i + 1).cloned()
        } else {
            arg.strip_prefix(&format!("{name}=")).map(str::to_owned)
        }
    })
}

/// The port of `host:port`, `scheme://host:port` or `scheme://host:port/…`.
fn port_of(endpoint: &str) -> u16 {
    let without_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let authority = without_scheme.split('/').next().unwrap_or("");
    authority
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {endpoint:?}"))
}

fn host_of(endpoint: &str) -> &str {
    let without_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let authority = without_scheme.split('/').next().unwrap_or("");
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
}

/// The app Deployment with the receiver sidecar, and that sidecar.
fn receiver_sidecar(objects: &[Value]) -> (Value, Value) {
    for deployment in objects.iter().filter(|o| str_of(o, "kind") == "Deployment") {
        for container in containers(deployment) {
            if args(&container).first().map(String::as_str) == Some("receive") {
                return (deployment.clone(), container);
            }
        }
    }
    panic!("no Deployment runs `otel-parity receive` in config/kubernetes/")
}

/// The Collector container of the receiver's pod and its config, read from
/// the ConfigMap its `--config` file is mounted from.
fn collector_config(objects: &[Value], deployment: &Value) -> Value {
    let collector = containers(deployment)
        .into_iter()
        .find(|c| str_of(c, "image").contains("opentelemetry-collector"))
        .unwrap_or_else(|| panic!("no Collector container beside the receiver"));
    let config_path = flag(&args(&collector), "--config")
        .unwrap_or_else(|| panic!("the Collector has no --config"));
    let mount = collector["volumeMounts"]
        .as_sequence()
        .into_iter()
        .flatten()
        .find(|m| config_path.starts_with(&format!("{}/", str_of(m, "mountPath"))))
        .unwrap_or_else(|| panic!("{config_path} is not on a mounted volume"));
    let key = &config_path[str_of(mount, "mountPath").len() + 1..];
    let volume = deployment["spec"]["template"]["spec"]["volumes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .find(|v| str_of(v, "name") == str_of(mount, "name"))
        .unwrap_or_else(|| panic!("no volume {}", str_of(mount, "name")));
    let config_map = object(objects, "ConfigMap", str_of(&volume["configMap"], "name"));
    let text = str_of(&config_map["data"], key);
    serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("Collector config is not YAML: {e}"))
}

/// The `otel-parity receive` command in a Collector config's comments
/// (lines continued with `\`), as arguments.
fn documented_receive_command(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut command = String::new();
    let mut inside = false;
    for line in text.lines() {
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            if inside {
                break;
            }
            continue;
        };
        let comment = comment.trim();
        if comment.starts_with("otel-parity receive") {
            inside = true;
        }
        if inside {
            let continued = comment.ends_with('\\');
            command.push_str(comment.trim_end_matches('\\'));
            command.push(' ');
            if !continued {
                break;
            }
        }
    }
    assert!(
        !command.is_empty(),
        "{}: no `otel-parity receive` command in its comments",
        path.display()
    );
    command.split_whitespace().map(str::to_owned).collect()
}

/// Ports the Collector's own receivers listen on.
fn collector_listen_ports(config: &Value) -> Vec<u16> {
    let mut ports = Vec::new();
    for receiver in config["receivers"].as_mapping().into_iter().flatten() {
        for protocol in receiver.1["protocols"].as_mapping().into_iter().flatten() {
            if let Some(endpoint) = protocol.1["endpoint"].as_str() {
                ports.push(port_of(endpoint));
            }
        }
    }
    ports
}

/// Checks one Collector config against the receiver's listen addresses.
fn assert_exports_to_receiver(place: &str, config: &Value, grpc: &str, http: &str) {
    let exporter = &config["exporters"]["otlp/parity"];
    let endpoint = exporter["endpoint"]
        .as_str()
        .unwrap_or_else(|| panic!("{place}: no exporters.otlp/parity.endpoint"));
    assert_eq!(
        port_of(endpoint),
        port_of(grpc),
        "{place}: otlp/parity exports to {endpoint}, the receiver listens for OTLP/gRPC on {grpc}"
    );
    assert!(
        ["127.0.0.1", "localhost"].contains(&host_of(endpoint))
            && ["127.0.0.1", "localhost"].contains(&host_of(grpc)),
        "{place}: receiver and Collector share the pod or host: {endpoint} vs {grpc}"
    );
    assert_eq!(exporter["tls"]["insecure"].as_bool(), Some(true), "{place}");
    let own = collector_listen_ports(config);
    for receiver_port in [port_of(grpc), port_of(http)] {
        assert!(
            !own.contains(&receiver_port),
            "{place}: receiver port {receiver_port} clashes with the Collector's {own:?}"
        );
    }
    for (signal, pipeline) in config["service"]["pipelines"]
        .as_mapping()
        .into_iter()
        .flatten()
    {
        let exporters: Vec<&str> = pipeline["exporters"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            exporters.contains(&"otlp/parity"),
            "{place}: pipeline {signal:?} does not export to otlp/parity"
        );
    }
}

#[test]
fn every_kubernetes_and_collector_yaml_document_parses() {
    let mut documents_seen = 0;
    for path in yaml_files("kubernetes") {
        for document in documents(&path) {
            documents_seen += 1;
            let kind = str_of(&document, "kind");
            assert!(
                !str_of(&document, "apiVersion").is_empty() && !kind.is_empty(),
                "{}: a document without apiVersion or kind",
                path.display()
            );
            if kind != "Kustomization" {
                assert!(
                    !str_of(&document["metadata"], "name").is_empty(),
                    "{}: a {kind} without a name",
                    path.display()
                );
            }
            // Config files embedded in ConfigMaps are YAML too.
            for (key, text) in document["data"].as_mapping().into_iter().flatten() {
                let key = key.as_str().unwrap_or("");
                if key.ends_with(".yaml") {
                    let text = text.as_str().unwrap_or("");
                    if let Err(e) = serde_yaml_ng::from_str::<Value>(text) {
                        panic!("{}: {kind} data {key} is not YAML: {e}", path.display());
                    }
                }
            }
        }
    }
    assert!(
        documents_seen >= 6,
        "only {documents_seen} Kubernetes documents"
    );
    for path in yaml_files("otelcol") {
        let documents = documents(&path);
        assert_eq!(documents.len(), 1, "{}", path.display());
        assert!(
            documents[0]["service"]["pipelines"].is_mapping(),
            "{}: no service.pipelines",
            path.display()
        );
    }
}

#[test]
fn collector_configs_export_to_the_receivers_real_grpc_port() {
    let objects = kubernetes_objects();
    let (deployment, receiver) = receiver_sidecar(&objects);
    let receiver_args = args(&receiver);
    let grpc = flag(&receiver_args, "--otlp-grpc").unwrap_or_else(|| panic!("no --otlp-grpc"));
    let http = flag(&receiver_args, "--otlp-http").unwrap_or_else(|| panic!("no --otlp-http"));
    let in_pod = collector_config(&objects, &deployment);
    assert_exports_to_receiver("config/kubernetes collector", &in_pod, &grpc, &http);

    let sidecar_path = workspace_root()
        .join("config")
        .join("otelcol")
        .join("sidecar.yaml");
    let sidecar = documents(&sidecar_path).remove(0);
    let documented = documented_receive_command(&sidecar_path);
    let documented_grpc = flag(&documented, "--otlp-grpc")
        .unwrap_or_else(|| panic!("sidecar.yaml's command has no --otlp-grpc: {documented:?}"));
    let documented_http = flag(&documented, "--otlp-http")
        .unwrap_or_else(|| panic!("sidecar.yaml's command has no --otlp-http: {documented:?}"));
    assert_exports_to_receiver(
        "config/otelcol/sidecar.yaml",
        &sidecar,
        &documented_grpc,
        &documented_http,
    );
    // The pod runs the pipeline the repository documents.
    assert_eq!(
        in_pod["exporters"]["otlp/parity"], sidecar["exporters"]["otlp/parity"],
        "the ConfigMap's otlp/parity exporter differs from config/otelcol/sidecar.yaml's"
    );
    assert_eq!(
        in_pod["service"], sidecar["service"],
        "the ConfigMap's pipelines differ from config/otelcol/sidecar.yaml's"
    );
}

#[test]
fn receiver_pushes_to_the_analyzer_service_and_its_ports_line_up() {
    let objects = kubernetes_objects();
    let (_, receiver) = receiver_sidecar(&objects);
    let analyzer_url = flag(&args(&receiver), "--analyzer")
        .unwrap_or_else(|| panic!("the receiver does not push (no --analyzer)"));
    let service = object(&objects, "Service", host_of(&analyzer_url));
    let deployment = object(&objects, "Deployment", "otel-parity-analyzer");
    let analyzer = containers(deployment)
        .into_iter()
        .find(|c| args(c).first().map(String::as_str) == Some("analyze"))
        .unwrap_or_else(|| panic!("the analyzer Deployment does not run `analyze`"));
    let container_port = |name: &str| -> u16 {
        analyzer["ports"]
            .as_sequence()
            .into_iter()
            .flatten()
            .find(|p| str_of(p, "name") == name)
            .and_then(|p| p["containerPort"].as_u64())
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("the analyzer has no container port {name}"))
    };
    // Service port → target port (by name) → container port.
    let service_port = |port: u16| -> u16 {
        let entry = service["spec"]["ports"]
            .as_sequence()
            .into_iter()
            .flatten()
            .find(|p| p["port"].as_u64() == Some(u64::from(port)))
            .unwrap_or_else(|| panic!("Service {} has no port {port}", host_of(&analyzer_url)));
        match &entry["targetPort"] {
            Value::String(name) => container_port(name),
            Value::Number(number) => number
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(0),
            _ => port,
        }
    };
    // The analyzer config the Deployment mounts.
    let config_path = flag(&args(&analyzer), "--config").unwrap_or_else(|| panic!("no --config"));
    let config_map = object(&objects, "ConfigMap", "otel-parity-analyzer");
    let key = Path::new(&config_path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let config: Value = serde_yaml_ng::from_str(str_of(&config_map["data"], key))
        .unwrap_or_else(|e| panic!("analyzer config is not YAML: {e}"));

    assert_eq!(
        service_port(port_of(&analyzer_url)),
        port_of(str_of(&config, "push_listen")),
        "the receiver pushes to {analyzer_url}, the analyzer listens on push_listen {}",
        str_of(&config, "push_listen")
    );
    assert_eq!(container_port("grpc-push"), 4319);
    assert_eq!(port_of(str_of(&config, "listen")), container_port("http"));
    assert_eq!(service_port(8080), container_port("http"));
    let annotations = &deployment["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(
        str_of(annotations, "prometheus.io/port")
            .parse::<u16>()
            .ok(),
        Some(container_port("http")),
        "Prometheus scrapes the HTTP port"
    );
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(
            str_of(&analyzer[probe]["httpGet"], "port"),
            "http",
            "{probe}"
        );
    }
    // The data directory is the mounted volume.
    let data_dir = str_of(&config, "data_dir");
    assert!(
        analyzer["volumeMounts"]
            .as_sequence()
            .into_iter()
            .flatten()
            .any(|m| str_of(m, "mountPath") == data_dir),
        "data_dir {data_dir} is not a mounted volume"
    );
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
    let config_path = dir.path().join("analyzer.yaml");
    let config_text =
        serde_yaml_ng::to_string(&config).unwrap_or_else(|e| panic!("cannot write config: {e}"));
    std::fs::write(&config_path, config_text)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));

    let (http, push) = (loopback(), loopback());
    let mut analyzer = Running::spawn(
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
    let mut receiver = Running::spawn(
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
        receiver.log_tail()
    );
    assert!(
        analyzer_exit.is_some_and(|s| s.success()),
        "analyzer exit on SIGTERM: {analyzer_exit:?}\n{}",
        analyzer.log_tail()
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
