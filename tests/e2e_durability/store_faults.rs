//! The store failing under a running analyzer: PostgreSQL restarting, the
//! SQLite file's disk filling up, the SQLite file on a read-only mount.
//! Pushes are refused as UNAVAILABLE
//! (receivers keep their windows and retry), `/readyz` says not ready, the
//! analyzer recovers by itself when the store does, and in the end the
//! store counts exactly what the receivers acknowledged.

use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use otel_parity_analyzer::store::StoreLocation;
use otel_parity_testkit::e2e::{
    AnalyzerProcess, AnalyzerSite, ReceiverProcess, ScratchDir, otel_parity_binary,
    run_with_timeout, unix_nanos_now,
};
use otel_parity_testkit::postgres::PostgresCluster;
use serde_json::Value;

use crate::exposition::sample;
use crate::sender::{Control, Phase, Sender, SenderReport};
use crate::stored::{difference, merged, open_store_at, tally_of};
use crate::wait_until;

const TIMEOUT: Duration = Duration::from_secs(30);

fn readyz(analyzer: &AnalyzerProcess) -> u16 {
    analyzer.get("/readyz").map_or(0, |(status, _)| status)
}

fn last_window_end(environments: &Value, env: &str) -> u64 {
    environments[env]["last_window_end_unix_nano"]
        .as_u64()
        .unwrap_or(0)
}

/// One receiver of `env` pushing every 200 ms to `analyzer`, fed by a sender.
fn traffic(
    env: &'static str,
    analyzer: &AnalyzerProcess,
) -> (ReceiverProcess, Sender, Arc<Control>) {
    let receiver = ReceiverProcess::start(&[
        "--environment",
        env,
        "--analyzer",
        &analyzer.push_url(),
        "--push-interval",
        "200ms",
    ]);
    let control = Arc::new(Control::default());
    let sender = Sender::start(
        env,
        receiver.grpc_endpoint(),
        receiver.http_endpoint(),
        Arc::clone(&control),
    );
    (receiver, sender, control)
}

/// Stops the sender and the receiver (which flushes its queue) and checks
/// that `location` counts exactly what was acknowledged.
fn finish(
    env: &str,
    mut receiver: ReceiverProcess,
    sender: Sender,
    analyzer: &AnalyzerProcess,
    location: &StoreLocation,
) -> SenderReport {
    let report = sender.stop();
    assert!(report.failures.is_empty(), "{env}: {:#?}", report.failures);
    let status = receiver.stop();
    assert!(
        status.success(),
        "receiver: {status}\n{}",
        receiver.stderr_tail()
    );
    let metrics = analyzer.metrics();
    assert_eq!(
        sample(&metrics, "otel_parity_pushes_total{result=\"invalid\"}"),
        0.0,
        "{metrics}"
    );
    let store = open_store_at(location);
    let stored = tally_of(&merged(&store, env));
    if let Some(diff) = difference(&stored, &report.accepted) {
        panic!("the store does not count exactly what the receiver acknowledged:\n{diff}");
    }
    report
}

#[test]
fn postgres_restarting_makes_pushes_retry_and_nothing_acknowledged_is_lost() {
    let scratch = ScratchDir::new("pg-restart");
    let cluster = PostgresCluster::start(scratch.path())
        .unwrap_or_else(|e| panic!("{e} (scripts/test installs the Debian package postgresql)"));
    let url = cluster
        .create_database("parity")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut site = AnalyzerSite::new(&scratch.path().join("data"));
    site.store = Some(url.clone());
    let analyzer = AnalyzerProcess::start_at(&site, 1);
    let (receiver, sender, control) = traffic("prod", &analyzer);
    assert!(wait_until(TIMEOUT, || {
        analyzer.environments()["prod"]["pushes"].as_u64() >= Some(3)
    }));

    control.set_phase(Phase::AnalyzerDown);
    cluster.kill().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        wait_until(TIMEOUT, || readyz(&analyzer) == 503),
        "/readyz stayed ready with the database down"
    );
    // Pushes fail as retryable while the database is away.
    assert!(wait_until(TIMEOUT, || {
        sample(
            &analyzer.metrics(),
            "otel_parity_pushes_total{result=\"error\"}",
        ) >= 2.0
    }));
    thread::sleep(Duration::from_millis(500));
    let restarted_at = unix_nanos_now();
    cluster.restart().unwrap_or_else(|e| panic!("{e}"));
    control.set_phase(Phase::After);
    assert!(
        wait_until(TIMEOUT, || readyz(&analyzer) == 200),
        "/readyz did not recover after the database came back"
    );
    assert!(
        wait_until(TIMEOUT, || {
            last_window_end(&analyzer.environments(), "prod") >= restarted_at
        }),
        "the receiver did not catch up: {}",
        analyzer.environments()
    );
    let report = finish(
        "prod",
        receiver,
        sender,
        &analyzer,
        &StoreLocation::Postgres(url),
    );
    assert!(
        report.acknowledged[Phase::AnalyzerDown as usize] > 0,
        "{:?}",
        report.acknowledged
    );
}

/// Whether this process may mount filesystems (root, with `mount` present).
fn can_mount() -> bool {
    Command::new("mount").arg("--version").output().is_ok()
        && std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
        })
}

/// A small tmpfs, unmounted on drop.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(path: std::path::PathBuf, size: &str) -> SmallDisk {
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{e}"));
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .unwrap_or_else(|e| panic!("mount: {e}"));
        assert!(
            status.success(),
            "mount tmpfs on {}: {status}",
            path.display()
        );
        SmallDisk(path)
    }
}

impl SmallDisk {
    /// Remounts the disk with `mode` (`ro` or `rw`).
    fn remount(&self, mode: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.0)
            .status()
            .unwrap_or_else(|e| panic!("mount: {e}"));
        assert!(
            status.success(),
            "remount {mode} {}: {status}",
            self.0.display()
        );
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn sqlite_disk_full_makes_pushes_retry_and_the_analyzer_recovers() {
    if !can_mount() {
        eprintln!("skipped: mounting a small tmpfs needs root (CI runs as root)");
        return;
    }
    let scratch = ScratchDir::new("disk-full");
    let disk = SmallDisk::mount(scratch.path().join("disk"), "3m");
    let site = AnalyzerSite::new(&disk.0.join("data"));
    let analyzer = AnalyzerProcess::start_at(&site, 1);
    let (receiver, sender, control) = traffic("prod", &analyzer);
    assert!(wait_until(TIMEOUT, || {
        analyzer.environments()["prod"]["pushes"].as_u64() >= Some(3)
    }));

    // Fill the disk: the next writes fail.
    control.set_phase(Phase::AnalyzerDown);
    let filler = disk.0.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 3 * 1024 * 1024]);
    assert!(
        wait_until(TIMEOUT, || readyz(&analyzer) == 503),
        "/readyz stayed ready with the disk full"
    );
    assert!(wait_until(TIMEOUT, || {
        sample(
            &analyzer.metrics(),
            "otel_parity_pushes_total{result=\"error\"}",
        ) >= 1.0
    }));
    thread::sleep(Duration::from_millis(500));

    // Space again: the same process takes pushes again.
    std::fs::remove_file(&filler).unwrap_or_else(|e| panic!("{e}"));
    let freed_at = unix_nanos_now();
    control.set_phase(Phase::After);
    assert!(
        wait_until(TIMEOUT, || readyz(&analyzer) == 200),
        "/readyz did not recover after the disk had space again"
    );
    assert!(
        wait_until(TIMEOUT, || {
            last_window_end(&analyzer.environments(), "prod") >= freed_at
        }),
        "the receiver did not catch up: {}",
        analyzer.environments()
    );
    let mut analyzer = analyzer;
    let report = {
        let report = finish(
            "prod",
            receiver,
            sender,
            &analyzer,
            &StoreLocation::Sqlite(site.store_path()),
        );
        analyzer.terminate();
        report
    };
    assert!(
        report.acknowledged[Phase::AnalyzerDown as usize] > 0,
        "{:?}",
        report.acknowledged
    );
    drop(disk);
}

#[test]
fn sqlite_file_on_a_read_only_mount_serves_reads_refuses_pushes_and_recovers() {
    if !can_mount() {
        eprintln!("skipped: mounting a small tmpfs needs root (CI runs as root)");
        return;
    }
    let scratch = ScratchDir::new("read-only");
    // The data directory is the mount: the analyzer's stderr files stay writable beside it.
    let disk = SmallDisk::mount(scratch.path().join("data"), "16m");
    let site = AnalyzerSite::new(&disk.0);
    let mut first = AnalyzerProcess::start_at(&site, 1);
    let (receiver, sender, control) = traffic("prod", &first);
    assert!(wait_until(TIMEOUT, || {
        first.environments()["prod"]["pushes"].as_u64() >= Some(3)
    }));

    // The analyzer dies and its file comes back read-only (the mount; a file
    // the analyzer's user may not write is the same to SQLite).
    control.set_phase(Phase::AnalyzerDown);
    first.kill_9();
    disk.remount("ro");
    let analyzer = AnalyzerProcess::start_unready_at(&site, 2);
    assert!(
        analyzer
            .get("/readyz")
            .is_ok_and(|(_, body)| body.contains("readonly database")),
        "{:?}",
        analyzer.get("/readyz")
    );
    // What is stored is served; pushes fail as retryable.
    assert!(
        analyzer.environments()["prod"]["pushes"].as_u64() >= Some(3),
        "{}",
        analyzer.environments()
    );
    assert!(wait_until(TIMEOUT, || {
        sample(
            &analyzer.metrics(),
            "otel_parity_pushes_total{result=\"error\"}",
        ) >= 2.0
    }));
    thread::sleep(Duration::from_millis(500));

    // Writable again: the same process takes pushes again.
    disk.remount("rw");
    let writable_at = unix_nanos_now();
    control.set_phase(Phase::After);
    assert!(
        wait_until(TIMEOUT, || readyz(&analyzer) == 200),
        "/readyz did not recover once the file was writable: {:?}",
        analyzer.get("/readyz")
    );
    assert!(
        wait_until(TIMEOUT, || {
            last_window_end(&analyzer.environments(), "prod") >= writable_at
        }),
        "the receiver did not catch up: {}",
        analyzer.environments()
    );
    let mut analyzer = analyzer;
    let report = finish(
        "prod",
        receiver,
        sender,
        &analyzer,
        &StoreLocation::Sqlite(site.store_path()),
    );
    analyzer.terminate();
    assert!(
        report.acknowledged[Phase::AnalyzerDown as usize] > 0,
        "{:?}",
        report.acknowledged
    );

    // Closed cleanly, the database has no -wal and -shm files, and SQLite
    // cannot create them on a read-only mount: the analyzer says so and exits.
    disk.remount("ro");
    let output = run_with_timeout(
        Command::new(otel_parity_binary())
            .args([
                "analyze",
                "--listen",
                "127.0.0.1:0",
                "--push-listen",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(&disk.0),
        TIMEOUT,
        "otel-parity analyze on a read-only mount",
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("otel-parity.db: unable to open database file")
            && stderr.contains("so the directory must be writable"),
        "{stderr}"
    );
    drop(disk);
}
