//! Scratch directories, child processes run to completion within a time limit, and stopping a
//! child the way its users would (SIGTERM, then SIGKILL).

use std::fmt::Write as _;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::unix_nanos_now;

/// A fresh directory under the system temp dir, removed on drop unless the test is failing
/// (then it is kept, and its path printed, for a post-mortem).
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `<tmp>/otel-parity-e2e-<label>-<pid>-<n>-<nanos>`.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "otel-parity-e2e-{label}-{}-{n}-{}",
            std::process::id(),
            unix_nanos_now()
        ));
        fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create scratch dir {}: {e}", path.display()));
        Self { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("kept for diagnosis: {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Runs `command` to completion with stdout and stderr captured (through files, so a chatty
/// child never blocks on a full pipe); kills it and panics when it outlives `timeout`.
pub fn run_with_timeout(command: &mut Command, timeout: Duration, what: &str) -> Output {
    let scratch = ScratchDir::new("run");
    let stdout_path = scratch.path().join("stdout");
    let stderr_path = scratch.path().join("stderr");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(create_file(&stdout_path))
        .stderr(create_file(&stderr_path))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what} ({command:?}): {e}"));
    let status = wait_bounded(&mut child, timeout);
    let stdout = fs::read(&stdout_path).unwrap_or_default();
    let stderr = fs::read(&stderr_path).unwrap_or_default();
    match status {
        Some(status) => Output {
            status,
            stdout,
            stderr,
        },
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} did not finish within {timeout:?} ({command:?})\n--- stdout ---\n{}\n--- stderr ---\n{}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            );
        }
    }
}

/// Sends SIGTERM to `child` and waits up to `timeout` for it to exit; SIGKILLs and reaps it when
/// it does not. The exit status, or `None` when it had to be killed.
pub(super) fn stop_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    // kill fails only if the process exited in between, which the wait below sees.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdin(Stdio::null())
        .status();
    if let Some(status) = wait_bounded(child, timeout) {
        return Some(status);
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Waits for `child` to exit, for at most `timeout`; `None` if it is still running.
fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() >= deadline => return None,
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("cannot wait for child {}: {e}", child.id()),
        }
    }
}

pub(super) fn create_file(path: &Path) -> File {
    File::create(path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()))
}

/// The last `lines` lines of `text`.
pub(super) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    let mut out = String::new();
    if start > 0 {
        let _ = writeln!(out, "[… {start} earlier lines …]");
    }
    for line in &all[start..] {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// Panics with the output of `what` unless it exited successfully.
pub(super) fn assert_success(output: &Output, what: &str) {
    if !output.status.success() {
        panic!(
            "{what} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
