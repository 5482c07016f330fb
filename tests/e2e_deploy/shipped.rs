//! Running what the manifests ship: the Secrets they mount, made for the
//! test (one CA, the analyzer's server certificate, the receiver's client
//! certificate, a token per token file), the analyzer started from a shipped
//! ConfigMap, and the receiver sidecar started from its shipped arguments.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use otel_parity_testkit::e2e::{ChildProcess, HttpClient, port_accepts};
use otel_parity_testkit::tls::{CertifiedKey, TestCa};
use serde_yaml_ng::Value;

use crate::manifests::{args, str_of};
use crate::processes::{loopback, spawn};

/// How long a binary may take to listen.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The files the manifests mount from Secrets under `/etc/otel-parity/`, made
/// in a scratch directory: one CA for every certificate, the analyzer's
/// server certificate (`tls/`), the receiver's client certificate
/// (`client/`), and a token per token file (`tokens/<name>`).
pub(crate) struct MountedSecrets {
    dir: PathBuf,
    pub(crate) ca: TestCa,
    server: CertifiedKey,
    client: CertifiedKey,
}

impl MountedSecrets {
    pub(crate) fn new(dir: &Path) -> Self {
        let ca = TestCa::new("deploy test CA");
        MountedSecrets {
            dir: dir.join("secrets"),
            server: ca.server("otel-parity-analyzer"),
            client: ca.client("receiver-staging"),
            ca,
        }
    }

    /// The test's file for a path the manifests mount, written on first use.
    pub(crate) fn file(&self, mounted: &str) -> String {
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
    pub(crate) fn token(name: &str) -> String {
        format!("deploy-test-{name}-token")
    }

    /// Whether `value` is a path the manifests mount from a Secret.
    pub(crate) fn is_secret_path(value: &str) -> bool {
        ["tls", "client-ca", "tokens", "analyzer-ca", "client"]
            .iter()
            .any(|dir| value.starts_with(&format!("/etc/otel-parity/{dir}/")))
    }

    /// Replaces every Secret path among the strings of `value`.
    pub(crate) fn rewrite(&self, value: &mut Value) {
        match value {
            Value::String(text) if Self::is_secret_path(text) => *text = self.file(text),
            Value::Mapping(mapping) => mapping.values_mut().for_each(|v| self.rewrite(v)),
            Value::Sequence(items) => items.iter_mut().for_each(|v| self.rewrite(v)),
            _ => {}
        }
    }
}

/// A container's environment variables, for `$(VAR)` in its arguments.
pub(crate) fn expand_env(container: &Value, arg: &str) -> String {
    let mut out = arg.to_owned();
    for variable in container["env"].as_sequence().into_iter().flatten() {
        out = out.replace(
            &format!("$({})", str_of(variable, "name")),
            str_of(variable, "value"),
        );
    }
    out
}

/// The analyzer config of a shipped ConfigMap, its mounted files (accepted
/// differences, Secrets) moved into `dir`, written to `dir/analyzer.yaml`.
pub(crate) fn analyzer_config(config_map: &Value, secrets: &MountedSecrets, dir: &Path) -> PathBuf {
    let accepted = dir.join("accepted-differences.yaml");
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
    let config_path = dir.join("analyzer.yaml");
    let config_text =
        serde_yaml_ng::to_string(&config).unwrap_or_else(|e| panic!("cannot write config: {e}"));
    std::fs::write(&config_path, config_text)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));
    config_path
}

/// A running analyzer started from a shipped config.
pub(crate) struct ShippedAnalyzer {
    pub(crate) process: ChildProcess,
    pub(crate) http: SocketAddr,
    pub(crate) push: SocketAddr,
}

/// Starts `otel-parity analyze --config config` on free ports with `env`,
/// its data under `dir/name`, and waits for `/readyz` over TLS.
pub(crate) fn start_analyzer(
    config: &Path,
    dir: &Path,
    name: &str,
    env: &[(&str, &str)],
    https: &HttpClient,
) -> ShippedAnalyzer {
    let (http, push) = (loopback(), loopback());
    let mut command = Command::new(env!("CARGO_BIN_EXE_otel-parity"));
    command
        .arg("analyze")
        .arg("--config")
        .arg(config)
        .args(["--listen", &http.to_string()])
        .args(["--push-listen", &push.to_string()])
        .arg("--data-dir")
        .arg(dir.join(name));
    for (key, value) in env {
        command.env(key, value);
    }
    let mut process = spawn(
        &format!("otel-parity analyze ({name})"),
        &mut command,
        &dir.join(format!("{name}.log")),
    );
    let readyz = format!("https://localhost:{}/readyz", http.port());
    process.wait_until(START_TIMEOUT, "ready (/readyz over TLS)", || {
        https.get(&readyz).is_ok_and(|(status, _)| status == 200)
    });
    ShippedAnalyzer {
        process,
        http,
        push,
    }
}

/// A running receiver started from the shipped sidecar's arguments.
pub(crate) struct ShippedReceiver {
    pub(crate) process: ChildProcess,
    pub(crate) otlp_http: SocketAddr,
    pub(crate) telemetry: SocketAddr,
}

/// Starts the receiver sidecar with its shipped arguments, its loopback
/// ports moved to free ones, its state under `dir/receiver-state` and the
/// analyzer Service to `analyzer_push`; its output goes to
/// `dir/receiver.log`.
pub(crate) fn start_receiver(
    sidecar: &Value,
    secrets: &MountedSecrets,
    analyzer_push: SocketAddr,
    dir: &Path,
) -> ShippedReceiver {
    let (grpc, otlp_http, telemetry): (SocketAddr, SocketAddr, SocketAddr) =
        (loopback(), loopback(), loopback());
    let mut receiver_args: Vec<String> = args(sidecar)
        .iter()
        .map(|arg| expand_env(sidecar, arg))
        .map(|arg| match MountedSecrets::is_secret_path(&arg) {
            true => secrets.file(&arg),
            false => arg,
        })
        .collect();
    for (name, value) in [
        ("--otlp-grpc", grpc.to_string()),
        ("--otlp-http", otlp_http.to_string()),
        (
            "--analyzer",
            format!("https://localhost:{}", analyzer_push.port()),
        ),
        ("--push-interval", "500ms".to_owned()),
        ("--telemetry", telemetry.to_string()),
        (
            "--state-dir",
            dir.join("receiver-state").display().to_string(),
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
        &dir.join("receiver.log"),
    );
    receiver.wait_until(START_TIMEOUT, "listening on both OTLP ports", || {
        port_accepts(grpc) && port_accepts(otlp_http)
    });
    ShippedReceiver {
        process: receiver,
        otlp_http,
        telemetry,
    }
}
