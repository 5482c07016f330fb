//! Port consistency of the deployment files: the Collector configs export to
//! the port the receiver really listens on, and the receiver pushes to the
//! analyzer Service's real port.

use std::path::Path;

use otel_parity_testkit::e2e::workspace_root;
use serde_yaml_ng::Value;

use crate::manifests::{
    args, containers, documents, flag, kubernetes_objects, object, receiver_sidecar, str_of,
};

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

#[test]
fn receiver_probes_and_telemetry_port_line_up_and_stay_clear_of_the_collectors() {
    let objects = kubernetes_objects();
    let (deployment, receiver) = receiver_sidecar(&objects);
    let telemetry = flag(&args(&receiver), "--telemetry")
        .unwrap_or_else(|| panic!("the receiver sidecar has no --telemetry"));
    let telemetry_port = port_of(&telemetry);
    // The Collector's own telemetry (8888) and health_check (13133) share the pod.
    assert!(
        ![8888, 13133].contains(&telemetry_port),
        "--telemetry {telemetry} clashes with the Collector"
    );
    let named_port = |container: &Value, name: &str| -> Option<u16> {
        container["ports"]
            .as_sequence()
            .into_iter()
            .flatten()
            .find(|p| str_of(p, "name") == name)
            .and_then(|p| p["containerPort"].as_u64())
            .and_then(|p| u16::try_from(p).ok())
    };
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        let get = &receiver[probe]["httpGet"];
        let port = match &get["port"] {
            Value::String(name) => named_port(&receiver, name)
                .unwrap_or_else(|| panic!("{probe} names port {name}, which the sidecar lacks")),
            Value::Number(number) => number
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(0),
            other => panic!("{probe}.httpGet.port is {other:?}"),
        };
        assert_eq!(
            port, telemetry_port,
            "{probe} probes another port than --telemetry"
        );
    }
    assert_eq!(
        str_of(&receiver["readinessProbe"]["httpGet"], "path"),
        "/readyz"
    );
    assert_eq!(
        str_of(&receiver["livenessProbe"]["httpGet"], "path"),
        "/healthz"
    );
    // No other container of the pod listens there.
    for container in containers(&deployment) {
        if str_of(&container, "name") == str_of(&receiver, "name") {
            continue;
        }
        for port in container["ports"].as_sequence().into_iter().flatten() {
            assert_ne!(
                port["containerPort"].as_u64(),
                Some(u64::from(telemetry_port)),
                "{} also uses the receiver's telemetry port",
                str_of(&container, "name")
            );
        }
    }
}
