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
use crate::sender::{Control, Phase, Sender};
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
/// that `location` counts exactly what was acknowledged, some of it while
/// the store was away.
fn finish(
    env: &str,
    mut receiver: ReceiverProcess,
    sender: Sender,
    analyzer: &AnalyzerProcess,
    location: &StoreLocation,
) {
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
    assert!(
        report.acknowledged[Phase::AnalyzerDown as usize] > 0,
        "{:?}",
        report.acknowledged
    );
}

/// Waits until `analyzer` has stored `count` pushes of `env`.
fn wait_for_pushes(analyzer: &AnalyzerProcess, env: &str, count: u64) {
    assert!(
        wait_until(TIMEOUT, || {
            analyzer.environments()[env]["pushes"].as_u64() >= Some(count)
        }),
        "{env} did not reach {count} pushes: {}",
        analyzer.environments()
    );
}

/// Waits until `analyzer` has refused `count` pushes as retryable (store
/// errors), then lets the receiver hold windows for a little longer.
fn wait_for_refused_pushes(analyzer: &AnalyzerProcess, count: f64) {
    assert!(
        wait_until(TIMEOUT, || {
            sample(
                &analyzer.metrics(),
                "otel_parity_pushes_total{result=\"error\"}",
            ) >= count
        }),
        "pushes were not refused: {}",
        analyzer.metrics()
    );
    thread::sleep(Duration::from_millis(500));
}

/// The store is back: the analyzer must be ready again by itself, the
/// receiver of `env` must catch up to windows after now, and then the store
/// must count exactly what was acknowledged ([`finish`]).
fn recover_and_finish(
    env: &str,
    (receiver, sender, control): (ReceiverProcess, Sender, Arc<Control>),
    analyzer: &AnalyzerProcess,
    location: &StoreLocation,
) {
    let healed_at = unix_nanos_now();
    control.set_phase(Phase::After);
    assert!(
        wait_until(TIMEOUT, || readyz(analyzer) == 200),
        "/readyz did not recover with the store: {:?}",
        analyzer.get("/readyz")
    );
    assert!(
        wait_until(TIMEOUT, || {
            last_window_end(&analyzer.environments(), env) >= healed_at
        }),
        "the receiver did not catch up: {}",
        analyzer.environments()
    );
    finish(env, receiver, sender, analyzer, location);
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
    wait_for_pushes(&analyzer, "prod", 3);

    control.set_phase(Phase::AnalyzerDown);
    cluster.kill().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        wait_until(TIMEOUT, || readyz(&analyzer) == 503),
        "/readyz stayed ready with the database down"
    );
    // Pushes fail as retryable while the database is away.
    wait_for_refused_pushes(&analyzer, 2.0);
    cluster.restart().unwrap_or_else(|e| panic!("{e}"));
    recover_and_finish(
        "prod",
        (receiver, sender, control),
        &analyzer,
        &StoreLocation::Postgres(url),
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
    /// Mounts a tmpfs of `size` at `path`; `None` (the test is skipped, and
    /// says so) where this process may not mount.
    fn mount(path: std::path::PathBuf, size: &str) -> Option<SmallDisk> {
        if !can_mount() {
            eprintln!("skipped: mounting a small tmpfs needs root (CI runs as root)");
            return None;
        }
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
        Some(SmallDisk(path))
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
    let scratch = ScratchDir::new("disk-full");
    let Some(disk) = SmallDisk::mount(scratch.path().join("disk"), "3m") else {
        return;
    };
    let site = AnalyzerSite::new(&disk.0.join("data"));
    let analyzer = AnalyzerProcess::start_at(&site, 1);
    let (receiver, sender, control) = traffic("prod", &analyzer);
    wait_for_pushes(&analyzer, "prod", 3);

    // Fill the disk: the next writes fail.
    control.set_phase(Phase::AnalyzerDown);
    let filler = disk.0.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 3 * 1024 * 1024]);
    assert!(
        wait_until(TIMEOUT, || readyz(&analyzer) == 503),
        "/readyz stayed ready with the disk full"
    );
    wait_for_refused_pushes(&analyzer, 1.0);

    // Space again: the same process takes pushes again.
    std::fs::remove_file(&filler).unwrap_or_else(|e| panic!("{e}"));
    recover_and_finish(
        "prod",
        (receiver, sender, control),
        &analyzer,
        &StoreLocation::Sqlite(site.store_path()),
    );
    let mut analyzer = analyzer;
    analyzer.terminate();
    drop(disk);
}

#[test]
fn sqlite_file_on_a_read_only_mount_serves_reads_refuses_pushes_and_recovers() {
    let scratch = ScratchDir::new("read-only");
    // The data directory is the mount: the analyzer's stderr files stay writable beside it.
    let Some(disk) = SmallDisk::mount(scratch.path().join("data"), "16m") else {
        return;
    };
    let site = AnalyzerSite::new(&disk.0);
    let mut first = AnalyzerProcess::start_at(&site, 1);
    let (receiver, sender, control) = traffic("prod", &first);
    wait_for_pushes(&first, "prod", 3);

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
    wait_for_refused_pushes(&analyzer, 2.0);

    // Writable again: the same process takes pushes again.
    disk.remount("rw");
    recover_and_finish(
        "prod",
        (receiver, sender, control),
        &analyzer,
        &StoreLocation::Sqlite(site.store_path()),
    );
    let mut analyzer = analyzer;
    analyzer.terminate();

    // Closed cleanly, the database has no -wal and -shm files (the last
    // connection to close removes them: the analyzer's, or the store this
    // test opened to count), and SQLite cannot create them on a read-only
    // mount: the analyzer says so and exits.
    let beside = |suffix: &str| {
        let mut path = site.store_path().into_os_string();
        path.push(suffix);
        std::path::PathBuf::from(path)
    };
    assert!(
        wait_until(TIMEOUT, || !beside("-wal").exists()
            && !beside("-shm").exists()),
        "the -wal and -shm files stayed after every connection closed"
    );
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
