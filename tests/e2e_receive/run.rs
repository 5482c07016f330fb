//! One run of the shop against a real receiver, and what must hold of any run.

use std::time::Duration;

use otel_parity_testkit::e2e::{self, Expectations, ReceiverProcess, json_at, proto_u64};
use serde_json::Value;

use crate::shop::{ShopService, shop_services};

/// How long the periodic snapshot may take to show everything the shop sent.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(15);

/// What a test run produced: the shop's own summary, the snapshots and the receiver.
pub struct ShopRun {
    pub summary: Value,
    python_stderr: String,
    /// The first periodic snapshot that showed every span and log record, if one did in time.
    periodic_snapshot: Option<Value>,
    pub final_snapshot: Value,
    /// The same as written, for what a parsed `Value` loses: the order of map keys.
    final_snapshot_text: String,
    /// When SIGTERM was sent, Unix nanoseconds.
    stop_requested_unix_nano: u64,
    receiver_exit_ok: bool,
    receiver_exit: String,
    receiver: ReceiverProcess,
}

/// Starts the receiver with `receiver_args`, runs the shop against it and stops it.
pub fn run_shop(
    receiver_args: &[&str],
    protocol: &str,
    environment: &str,
    requests: u64,
) -> ShopRun {
    // Build (or find) the venv first: on a new machine that takes a while.
    e2e::python_venv();
    let mut receiver = ReceiverProcess::start(receiver_args);
    let requests_arg = requests.to_string();
    let output = e2e::run_python(
        &e2e::app_path("shop.py"),
        &[
            "--protocol",
            protocol,
            "--endpoint-grpc",
            &receiver.grpc_endpoint(),
            "--endpoint-http",
            &receiver.http_endpoint(),
            "--environment",
            environment,
            "--requests",
            &requests_arg,
        ],
        &[],
    );
    let python_stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "shop.py printed no JSON summary ({e})\n--- stdout ---\n{}\n--- stderr ---\n{python_stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    });

    let services = shop_services(requests);
    let spans: u64 = services.iter().map(|s| s.spans).sum();
    let logs: u64 = services.iter().map(ShopService::log_records).sum();
    let periodic_snapshot = receiver.wait_for_snapshot(SNAPSHOT_WAIT, |snapshot| {
        let items = |signal: &str| {
            proto_u64(json_at(snapshot, &["received", signal, "items"])).unwrap_or(0)
        };
        items("traces") >= spans && items("logs") >= logs
    });

    let stop_requested_unix_nano = e2e::unix_nanos_now();
    let exit = receiver.stop();
    let final_snapshot_text = receiver.read_snapshot_text().unwrap_or_else(|| {
        panic!(
            "no snapshot at {} after the receiver stopped ({exit})",
            receiver.snapshot_path().display()
        )
    });
    let final_snapshot = receiver.read_snapshot().unwrap_or(Value::Null);
    ShopRun {
        summary,
        python_stderr,
        periodic_snapshot,
        final_snapshot,
        final_snapshot_text,
        stop_requested_unix_nano,
        receiver_exit_ok: exit.success(),
        receiver_exit: exit.to_string(),
        receiver,
    }
}

impl ShopRun {
    /// The shop's summary and stderr, for a failure report (the receiver prints its own
    /// stderr when dropped during a panic).
    pub fn diagnostics(&self) -> String {
        format!(
            "--- shop.py summary ---\n{}\n--- shop.py stderr ---\n{}",
            e2e::excerpt(&self.summary, 6000),
            self.python_stderr
        )
    }

    /// What must hold of any run: the shop's exports all succeeded, the receiver stopped
    /// cleanly on SIGTERM and rewrote its snapshot then (maps sorted by key), and a periodic
    /// snapshot came first.
    pub fn expect_clean_run(&self, expect: &mut Expectations) {
        let services = json_at(&self.summary, &["services"])
            .cloned()
            .unwrap_or(Value::Null);
        for (name, service) in services.as_object().into_iter().flatten() {
            let failed = json_at(service, &["failed"]);
            expect.check(
                failed
                    .and_then(Value::as_object)
                    .is_none_or(|failed| failed.is_empty()),
                &format!("shop.py {name} exports"),
                "the receiver refused or failed some exports (see shop.py stderr)",
                failed,
            );
        }
        expect.check(
            self.receiver_exit_ok,
            "receiver exit after SIGTERM",
            format!("expected success, got {}", self.receiver_exit),
            None,
        );
        let window_end = proto_u64(json_at(&self.final_snapshot, &["windowEndUnixNano"]));
        expect.check(
            window_end
                .as_ref()
                .is_ok_and(|end| *end >= self.stop_requested_unix_nano),
            "final snapshot → windowEndUnixNano",
            format!(
                "expected a snapshot taken after SIGTERM (at or after {}), found {window_end:?}",
                self.stop_requested_unix_nano
            ),
            None,
        );
        let unsorted = e2e::unsorted_snapshot_maps(&self.final_snapshot_text);
        expect.check(
            unsorted.is_empty(),
            "final snapshot maps",
            format!(
                "{} map(s) not written sorted by key:\n      {}",
                unsorted.len(),
                unsorted.join("\n      ")
            ),
            None,
        );
        expect.check(
            self.periodic_snapshot.is_some(),
            "periodic snapshot",
            format!("no snapshot written every 1s showed all spans and log records within {SNAPSHOT_WAIT:?}"),
            self.receiver.read_snapshot().as_ref(),
        );
    }
}
