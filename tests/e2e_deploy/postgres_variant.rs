//! The PostgreSQL-backed variant (config/kubernetes/postgres/): two
//! stateless replicas with the database URL from a Secret and no volume;
//! started with the shipped config against a real PostgreSQL, both replicas
//! migrate the same database and a push taken by one is reported by the
//! other.

use std::time::Duration;

use otel_parity_testkit::e2e::{HttpClient, ScratchDir, poll_until};
use otel_parity_testkit::postgres::PostgresCluster;
use otel_parity_testkit::raw::http::http_request;
use otel_parity_testkit::shop::Shop;
use prost::Message;
use serde_yaml_ng::Value;

use crate::manifests::{
    containers, documents, kubernetes_objects, object, receiver_sidecar, str_of, yaml_files,
};
use crate::shipped::{
    MountedSecrets, ShippedReceiver, analyzer_config, start_analyzer, start_receiver,
};

fn postgres_objects() -> Vec<Value> {
    yaml_files("kubernetes/postgres")
        .iter()
        .flat_map(|path| documents(path))
        .collect()
}

#[test]
fn postgres_variant_runs_stateless_replicas_from_a_secret() {
    let objects = postgres_objects();
    let deployment = object(&objects, "Deployment", "otel-parity-analyzer");
    let replicas = deployment["spec"]["replicas"].as_u64().unwrap_or(0);
    assert!(replicas >= 2, "{replicas} replicas");
    assert_eq!(
        str_of(&deployment["spec"]["strategy"], "type"),
        "RollingUpdate"
    );
    assert!(
        !objects
            .iter()
            .any(|o| str_of(o, "kind") == "PersistentVolumeClaim"),
        "replicas on PostgreSQL need no volume"
    );
    let [analyzer] = containers(deployment)
        .try_into()
        .unwrap_or_else(|c: Vec<Value>| panic!("{} containers", c.len()));
    let store = analyzer["env"]
        .as_sequence()
        .into_iter()
        .flatten()
        .find(|v| str_of(v, "name") == "OTEL_PARITY_STORE")
        .unwrap_or_else(|| panic!("no OTEL_PARITY_STORE in the analyzer's env"));
    let secret = &store["valueFrom"]["secretKeyRef"];
    assert_eq!(
        (str_of(secret, "name"), str_of(secret, "key")),
        ("otel-parity-postgres", "url")
    );
    let budget = object(&objects, "PodDisruptionBudget", "otel-parity-analyzer");
    assert_eq!(budget["spec"]["minAvailable"].as_u64(), Some(1));
    // The same Service as the one-replica variant, so receivers need no change.
    let single = kubernetes_objects();
    assert_eq!(
        object(&objects, "Service", "otel-parity-analyzer")["spec"]["ports"],
        object(&single, "Service", "otel-parity-analyzer")["spec"]["ports"]
    );
    let config_map = object(&objects, "ConfigMap", "otel-parity-analyzer");
    let config: Value = serde_yaml_ng::from_str(str_of(&config_map["data"], "analyzer.yaml"))
        .unwrap_or_else(|e| panic!("analyzer config is not YAML: {e}"));
    assert_eq!(str_of(&config, "store"), "${env:OTEL_PARITY_STORE}");
}

#[test]
fn two_replicas_from_the_shipped_config_share_one_database() {
    let objects = postgres_objects();
    let dir = ScratchDir::new("deploy-postgres");
    let cluster = PostgresCluster::start(dir.path())
        .unwrap_or_else(|e| panic!("{e} (scripts/test installs the Debian package postgresql)"));
    let url = cluster
        .create_database("otel_parity")
        .unwrap_or_else(|e| panic!("{e}"));
    let secrets = MountedSecrets::new(dir.path());
    let config_map = object(&objects, "ConfigMap", "otel-parity-analyzer");
    let config = analyzer_config(config_map, &secrets, dir.path());
    let https = HttpClient::new().trusting(&secrets.ca.cert_pem());
    let env = [("OTEL_PARITY_STORE", url.as_str())];
    let mut first = start_analyzer(&config, dir.path(), "replica-1", &env, &https);
    let mut second = start_analyzer(&config, dir.path(), "replica-2", &env, &https);

    // A receiver pushes to the first replica only; the second reports it.
    let (_, sidecar) = receiver_sidecar(&kubernetes_objects());
    let ShippedReceiver {
        process: mut receiver,
        otlp_http,
        ..
    } = start_receiver(&sidecar, &secrets, first.push, dir.path());
    let body = Shop::prod().traces_request(3, 1).encode_to_vec();
    let token = format!("Bearer {}", MountedSecrets::token("otlp"));
    let accepted = http_request(
        otlp_http,
        "POST",
        "/v1/traces",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Authorization", &token),
        ],
        &body,
    );
    assert_eq!(accepted.status, 200, "{}", accepted.describe());
    let api = https.with_token(&MountedSecrets::token("api"));
    let environments = |port: u16| {
        api.get(&format!("https://localhost:{port}/api/v1/environments"))
            .ok()
            .filter(|(status, _)| *status == 200)
            .map(|(_, body)| body)
            .unwrap_or_default()
    };
    let shared = poll_until(Duration::from_secs(30), Duration::from_millis(250), || {
        let seen = environments(second.http.port());
        seen.contains("\"staging\"") && seen == environments(first.http.port())
    });
    assert!(
        shared,
        "the second replica does not report the first one's push: {} vs {}\n{}",
        environments(second.http.port()),
        environments(first.http.port()),
        receiver.output_tail()
    );
    for (name, process) in [
        ("receiver", &mut receiver),
        ("replica 1", &mut first.process),
        ("replica 2", &mut second.process),
    ] {
        let exit = process.stop();
        assert!(exit.is_some_and(|s| s.success()), "{name}: {exit:?}");
    }
}
