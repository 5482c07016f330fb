//! Headless Chromium (Debian package `chromium`) from the command line, no driver: `--dump-dom`
//! prints the DOM once the page's scripts are done (`--virtual-time-budget` lets its fetches
//! finish first) and `--screenshot` writes a PNG. Each run gets a fresh profile and no network
//! beyond the URL it is given.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use otel_parity_testkit::e2e::{ScratchDir, run_with_timeout};

/// Flags for every run: headless, no GPU, no sandbox (CI runs as root), and nothing that
/// reaches out to the network on its own.
pub const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

/// For `--dump-dom` runs: lets the page's fetches finish before the DOM is printed.
const VIRTUAL_TIME_BUDGET: &str = "--virtual-time-budget=10000";

/// How long one Chromium run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(45);

/// A page as Chromium left it.
pub struct Rendered {
    /// The serialized DOM after the scripts ran.
    pub dom: String,
    /// Console messages and uncaught errors Chromium logged for the page.
    pub console: Vec<String>,
}

/// The Chromium binary: `$CHROMIUM`, else `chromium` on the PATH.
pub struct Chromium {
    program: PathBuf,
}

impl Chromium {
    /// Finds Chromium; panics with how to install it when it is missing.
    pub fn find() -> Chromium {
        let program =
            PathBuf::from(std::env::var_os("CHROMIUM").unwrap_or_else(|| "chromium".into()));
        match Command::new(&program).arg("--version").output() {
            Ok(output) if output.status.success() => Chromium { program },
            Ok(output) => panic!(
                "{} --version failed: {}",
                program.display(),
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(e) => panic!(
                "Chromium not found ({}: {e}): install the Debian package `chromium` \
                 (scripts/test does), or set CHROMIUM to its path",
                program.display()
            ),
        }
    }

    /// The Chromium binary, for drivers that start it themselves.
    pub fn program(&self) -> &Path {
        &self.program
    }

    fn command(&self, profile: &ScratchDir) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(FLAGS)
            .arg(VIRTUAL_TIME_BUDGET)
            .arg(format!("--user-data-dir={}", profile.path().display()));
        command
    }

    /// Loads `url`, runs its scripts, and returns the DOM and what the page logged.
    pub fn dump_dom(&self, url: &str) -> Rendered {
        let profile = ScratchDir::new("chromium");
        let output = run_with_timeout(
            self.command(&profile)
                .args(["--enable-logging=stderr", "--v=0", "--dump-dom", url]),
            RUN_TIMEOUT,
            "chromium --dump-dom",
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "chromium --dump-dom {url} failed ({}):\n{stderr}",
            output.status
        );
        // Chromium logs every console message and uncaught error of the page as
        // `[…:INFO:CONSOLE(line)] "message", source: url (line)`.
        let console = stderr
            .lines()
            .filter(|line| line.contains(":CONSOLE") || line.contains("Uncaught"))
            .map(str::to_owned)
            .collect();
        Rendered {
            dom: String::from_utf8_lossy(&output.stdout).into_owned(),
            console,
        }
    }

    /// Loads `url` in a `width`×`height` window and writes a PNG of it to `path`.
    pub fn screenshot(&self, url: &str, path: &Path, (width, height): (u32, u32)) {
        let profile = ScratchDir::new("chromium");
        let _ = std::fs::remove_file(path);
        let output = run_with_timeout(
            self.command(&profile)
                .arg(format!("--window-size={width},{height}"))
                .arg(format!("--screenshot={}", path.display()))
                .arg(url),
            RUN_TIMEOUT,
            "chromium --screenshot",
        );
        assert!(
            output.status.success(),
            "chromium --screenshot {url} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Where screenshots go: `target/ui-screenshots/` (kept for people to look at).
pub fn screenshot_dir() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf);
    let dir = target.join("ui-screenshots");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// Panics unless `path` is a PNG of `width`×`height` with more than a blank page in it.
pub fn assert_screenshot(path: &Path, (width, height): (u32, u32)) {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    let dimension = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
    };
    // The IHDR chunk comes first: width and height at bytes 16 and 20.
    assert_eq!(
        (dimension(16), dimension(20)),
        (Some(width), Some(height)),
        "{} has the wrong size",
        path.display()
    );
    // A blank page of this size compresses to a few kilobytes; text, tables and charts do not.
    assert!(
        bytes.len() > 60_000,
        "{} is only {} bytes: is the page blank?",
        path.display(),
        bytes.len()
    );
}
