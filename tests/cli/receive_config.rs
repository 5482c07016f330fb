//! `otel-parity receive` and its config: errors that stop it at startup with one line naming
//! the culprit, and `${env:…}` expansion whose values reach the environment and the limits.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use otel_parity_testkit::e2e::{Expectations, ReceiverProcess, ScratchDir, free_port, json_at};
use otel_parity_testkit::raw::grpc::{grpc_call, grpc_channel, runtime};
use otel_parity_testkit::raw::http::{PROTOBUF, http_request};
use prost::Message;
use serde_json::json;
use tonic::Code;

use crate::expect_snapshot::expect_operations;
use crate::otlp_requests::{checkout_traces_of_at_least, operation_of, shop_traces};
use crate::{Run, arg};

const TRACES_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Checks a `receive` that must not start: exit `code`, and for exit 1 exactly one
/// `otel-parity: error: …` line holding every `needle`.
fn expect_startup_failure(
    failures: &mut Vec<String>,
    what: &str,
    args: &[&str],
    code: i32,
    needles: &[&str],
) {
    let run = Run::new(args);
    let stderr = run.stderr();
    let mut wrong = Vec::new();
    if run.code() != Some(code) {
        wrong.push(format!("exit code {:?}, expected {code}", run.code()));
    }
    let lines: Vec<&str> = stderr.lines().collect();
    if code == 1 && (lines.len() != 1 || !lines[0].starts_with("otel-parity: error: ")) {
        wrong.push("stderr is not one `otel-parity: error: …` line".to_owned());
    }
    for needle in needles {
        if !stderr.contains(needle) {
            wrong.push(format!("stderr does not contain {needle:?}"));
        }
    }
    if !wrong.is_empty() {
        failures.push(format!(
            "{what}: {}\n    stderr: {stderr}",
            wrong.join("; ")
        ));
    }
}

fn write_config(dir: &ScratchDir, name: &str, yaml: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, yaml).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// `receive --config CONFIG` on ephemeral loopback ports, so that a receiver that wrongly
/// starts takes nobody's port (and is killed at the time limit).
fn receive_with_config(config: &Path) -> Vec<&str> {
    vec![
        "receive",
        "--config",
        arg(config),
        "--otlp-grpc",
        "127.0.0.1:0",
        "--otlp-http",
        "127.0.0.1:0",
    ]
}

#[test]
fn receive_config_unknown_key_fails_naming_it() {
    let dir = ScratchDir::new("cli-config-errors");
    let mut failures = Vec::new();

    let typo = write_config(&dir, "typo.yaml", "limits:\n  max_servics: 3\n");
    expect_startup_failure(
        &mut failures,
        "unknown key",
        &receive_with_config(&typo),
        1,
        &["max_servics", arg(&typo)],
    );
    let wrong_type = write_config(&dir, "type.yaml", "limits:\n  max_services: many\n");
    expect_startup_failure(
        &mut failures,
        "wrong type",
        &receive_with_config(&wrong_type),
        1,
        &["limits.max_services", arg(&wrong_type)],
    );
    let missing = dir.path().join("missing.yaml");
    expect_startup_failure(
        &mut failures,
        "no config file",
        &receive_with_config(&missing),
        1,
        &[arg(&missing)],
    );
    let not_yaml = write_config(&dir, "broken.yaml", "limits: [max_services\notlp: {\n");
    expect_startup_failure(
        &mut failures,
        "invalid YAML",
        &receive_with_config(&not_yaml),
        1,
        &[arg(&not_yaml)],
    );
    expect_startup_failure(
        &mut failures,
        "bad gRPC address",
        &[
            "receive",
            "--otlp-grpc",
            "not-an-address",
            "--otlp-http",
            "127.0.0.1:0",
        ],
        1,
        &["not-an-address"],
    );

    // Ports already in use, by a listener of the test's own.
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
    let taken_addr = taken
        .local_addr()
        .unwrap_or_else(|e| panic!("bound listener has no address: {e}"))
        .to_string();
    let free = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port())).to_string();
    expect_startup_failure(
        &mut failures,
        "gRPC port in use",
        &["receive", "--otlp-grpc", &taken_addr, "--otlp-http", &free],
        1,
        &[&taken_addr],
    );
    expect_startup_failure(
        &mut failures,
        "HTTP port in use",
        &[
            "receive",
            "--otlp-grpc",
            "127.0.0.1:0",
            "--otlp-http",
            &taken_addr,
        ],
        1,
        &[&taken_addr],
    );
    // A flag value clap cannot parse is a usage error: exit 2.
    expect_startup_failure(
        &mut failures,
        "bad --snapshot-interval",
        &["receive", "--snapshot-interval", "soon"],
        2,
        &["--snapshot-interval"],
    );
    drop(taken);

    assert!(
        failures.is_empty(),
        "{} case(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn receive_config_env_expansion_and_limits_apply() {
    let dir = ScratchDir::new("cli-config-env");
    // PARITY_MAX_MIB is not set: its default, 1 MiB, applies.
    let config = write_config(
        &dir,
        "receiver.yaml",
        "environment: ${env:PARITY_ENV}\n\
         instance_id: receiver-${env:PARITY_ENV}-1\n\
         otlp:\n  protocols:\n    grpc:\n      max_recv_msg_size_mib: ${env:PARITY_MAX_MIB:-1}\n\
         limits:\n  max_services: ${env:PARITY_MAX_SERVICES}\n",
    );
    let mut receiver = ReceiverProcess::start_with(
        &["--config", arg(&config)],
        &[("PARITY_ENV", "qa"), ("PARITY_MAX_SERVICES", "2")],
        "1s",
    );

    // Three services of a `production` resource: the configured environment wins, and the third
    // service goes over `max_services`.
    let services = [("frontend", 4), ("checkout", 3), ("payment", 2)];
    let body = shop_traces(1, &services);
    let response = http_request(
        receiver.http_addr(),
        "POST",
        "/v1/traces",
        &[("Content-Type", PROTOBUF)],
        &body,
    );
    assert_eq!(response.status, 200, "{}", response.describe());

    // Over gRPC, 1 MiB is the limit: a 1.5 MiB request is refused, a 0.9 MiB one accepted.
    let (over, _) = checkout_traces_of_at_least(2, 3 << 19);
    let (under, under_spans) = checkout_traces_of_at_least(3, 900 << 10);
    let endpoint = receiver.grpc_endpoint();
    let (over_result, under_result) = runtime().block_on(async {
        let channel = grpc_channel(&endpoint).await;
        (
            grpc_call(&channel, TRACES_EXPORT, over, false).await,
            grpc_call(&channel, TRACES_EXPORT, under, false).await,
        )
    });
    let mut expect = Expectations::new();
    match over_result {
        Err(status) => expect.check(
            status.code() == Code::ResourceExhausted,
            "1.5 MiB gRPC export with max_recv_msg_size_mib ${env:PARITY_MAX_MIB:-1}",
            format!(
                "expected RESOURCE_EXHAUSTED, got {:?} {:?}",
                status.code(),
                status.message()
            ),
            None,
        ),
        Ok(_) => expect.fail("1.5 MiB gRPC export", "accepted over a 1 MiB limit", None),
    }
    match under_result.map(|body| ExportTraceServiceResponse::decode(&*body)) {
        Ok(Ok(response)) => expect.check(
            response
                .partial_success
                .as_ref()
                .is_none_or(|p| p.rejected_spans == 0),
            "0.9 MiB gRPC export",
            format!("spans rejected: {response:?}"),
            None,
        ),
        other => expect.fail("0.9 MiB gRPC export", format!("{other:?}"), None),
    }

    let status = receiver.stop();
    assert!(
        status.success(),
        "receiver exited {status}\n{}",
        receiver.stderr_tail()
    );
    let snapshot = receiver
        .read_snapshot()
        .unwrap_or_else(|| panic!("no snapshot after SIGTERM\n{}", receiver.stderr_tail()));
    expect.str_eq(
        "snapshot",
        &snapshot,
        &["receiverInstance"],
        "receiver-qa-1",
    );
    expect.keys_eq("snapshot", &snapshot, &["environments"], &["qa"]);
    expect.keys_eq(
        "snapshot",
        &snapshot,
        &["environments", "qa", "services"],
        &["shop/frontend", "shop/checkout"],
    );
    // The third service's spans are counted in the overflow bucket, not fingerprinted.
    expect.u64_eq(
        "snapshot",
        &snapshot,
        &["environments", "qa", "overflow", "services"],
        2,
    );
    expect_operations(
        &mut expect,
        &snapshot,
        "qa",
        "shop/checkout",
        &[(
            operation_of("checkout"),
            "SPAN_KIND_SERVER",
            3 + under_spans,
            0,
        )],
    );
    expect_operations(
        &mut expect,
        &snapshot,
        "qa",
        "shop/frontend",
        &[(operation_of("frontend"), "SPAN_KIND_SERVER", 4, 0)],
    );
    let received = json_at(&snapshot, &["received", "traces"])
        .cloned()
        .unwrap_or(json!({}));
    expect.u64_eq("received.traces", &received, &["requests"], 2);
    expect.u64_eq("received.traces", &received, &["rejectedRequests"], 1);
    expect.u64_eq(
        "received.traces",
        &received,
        &["items"],
        4 + 3 + 2 + under_spans,
    );
    expect.finish("config with ${env:…}", &receiver.stderr_tail());
}
