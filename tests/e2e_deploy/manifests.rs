//! Loading the deployment files: every Kubernetes and Collector YAML document
//! parses, and the helpers the other deployment checks use to find objects,
//! containers and their arguments in config/kubernetes/.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml_ng::Value;

use otel_parity_testkit::e2e::workspace_root;

/// `*.yaml` files of a directory under config/, sorted.
pub(crate) fn yaml_files(dir: &str) -> Vec<PathBuf> {
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
pub(crate) fn documents(path: &Path) -> Vec<Value> {
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
pub(crate) fn kubernetes_objects() -> Vec<Value> {
    yaml_files("kubernetes")
        .iter()
        .flat_map(|path| documents(path))
        .collect()
}

pub(crate) fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("")
}

pub(crate) fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| str_of(o, "kind") == kind && str_of(&o["metadata"], "name") == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in config/kubernetes/"))
}

/// Containers and init containers (native sidecars) of a pod template.
pub(crate) fn containers(deployment: &Value) -> Vec<Value> {
    let spec = &deployment["spec"]["template"]["spec"];
    ["initContainers", "containers"]
        .iter()
        .flat_map(|key| spec[*key].as_sequence().cloned().unwrap_or_default())
        .collect()
}

pub(crate) fn args(container: &Value) -> Vec<String> {
    container["args"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect()
}

/// The value of `--flag` in `args` (`--flag value` or `--flag=value`).
pub(crate) fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(i, arg)| {
        if arg == name {
            args.get(i + 1).cloned()
        } else {
            arg.strip_prefix(&format!("{name}=")).map(str::to_owned)
        }
    })
}

/// The app Deployment with the receiver sidecar, and that sidecar.
pub(crate) fn receiver_sidecar(objects: &[Value]) -> (Value, Value) {
    for deployment in objects.iter().filter(|o| str_of(o, "kind") == "Deployment") {
        for container in containers(deployment) {
            if args(&container).first().map(String::as_str) == Some("receive") {
                return (deployment.clone(), container);
            }
        }
    }
    panic!("no Deployment runs `otel-parity receive` in config/kubernetes/")
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
