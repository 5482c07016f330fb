//! The Python virtualenv with the OpenTelemetry SDK, built once and shared across test
//! processes, and running the test apps with it.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use super::process::{assert_success, run_with_timeout};
use super::{app_path, workspace_root};

/// How long `pip install` may take before the venv build is abandoned.
const PIP_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a process waits for another one that is building the venv.
const VENV_LOCK_TIMEOUT: Duration = Duration::from_secs(900);
/// A venv lock older than this is taken to belong to a process that died mid-build.
const VENV_LOCK_STALE_AFTER: Duration = Duration::from_secs(1800);
/// How long a Python app run by `run_python` may take.
const PYTHON_TIMEOUT: Duration = Duration::from_secs(180);

/// Returns the python of a virtualenv at `<workspace>/target/e2e-venv` that has
/// tests/apps/requirements.txt installed, building it first if needed.
///
/// Built once per machine and reused while its `.complete` marker matches the requirements
/// (and the base interpreter); safe to call from many threads and test processes at once.
/// `OTEL_PARITY_E2E_PYTHON` names the base interpreter (default `python3`).
pub fn python_venv() -> PathBuf {
    static VENV_PYTHON: OnceLock<PathBuf> = OnceLock::new();
    VENV_PYTHON.get_or_init(build_or_reuse_venv).clone()
}

fn build_or_reuse_venv() -> PathBuf {
    let target = workspace_root().join("target");
    let venv = target.join("e2e-venv");
    let python = venv.join("bin").join("python");
    let marker = venv.join(".complete");
    let requirements = app_path("requirements.txt");
    let base_python =
        std::env::var("OTEL_PARITY_E2E_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let stamp = venv_stamp(&base_python, &requirements);
    let is_complete =
        || python.exists() && fs::read_to_string(&marker).is_ok_and(|found| found == stamp);

    if is_complete() {
        return python;
    }
    fs::create_dir_all(&target)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", target.display()));
    let _lock = VenvLock::acquire(&target.join("e2e-venv.lock"));
    // Another process may have finished the build while this one waited for the lock.
    if is_complete() {
        return python;
    }
    if venv.exists() {
        fs::remove_dir_all(&venv)
            .unwrap_or_else(|e| panic!("cannot remove stale venv {}: {e}", venv.display()));
    }
    eprintln!(
        "building the Python venv for end-to-end tests at {} …",
        venv.display()
    );
    let created = run_with_timeout(
        Command::new(&base_python).arg("-m").arg("venv").arg(&venv),
        Duration::from_secs(120),
        "python3 -m venv",
    );
    assert_success(
        &created,
        &format!("{base_python} -m venv {}", venv.display()),
    );
    let installed = run_with_timeout(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements)
            .env("PIP_NO_INPUT", "1"),
        PIP_TIMEOUT,
        "pip install",
    );
    assert_success(
        &installed,
        &format!("pip install -r {}", requirements.display()),
    );
    fs::write(&marker, &stamp).unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
    python
}

/// What the venv was built from: a hash of the requirements file and the base interpreter's
/// version, so that a change to either rebuilds it.
fn venv_stamp(base_python: &str, requirements: &Path) -> String {
    let contents = fs::read(requirements)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", requirements.display()));
    let version = run_with_timeout(
        Command::new(base_python).arg("--version"),
        Duration::from_secs(30),
        "python3 --version",
    );
    assert_success(&version, &format!("{base_python} --version"));
    let mut input = contents;
    input.extend_from_slice(&version.stdout);
    input.extend_from_slice(&version.stderr);
    format!("requirements+python fnv1a64 {:016x}\n", fnv1a64(&input))
}

/// FNV-1a, 64 bits: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An exclusive lock across processes: a file created with `create_new`, holding the owner's
/// pid, removed on drop. A lock whose owner is gone (or that is very old) is taken over.
struct VenvLock {
    path: PathBuf,
}

impl VenvLock {
    fn acquire(path: &Path) -> Self {
        let deadline = Instant::now() + VENV_LOCK_TIMEOUT;
        let mut announced = false;
        loop {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut file) => {
                    let _ = writeln!(file, "{}", std::process::id());
                    return Self {
                        path: path.to_owned(),
                    };
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if lock_is_stale(path) {
                        eprintln!("taking over stale venv lock {}", path.display());
                        let _ = fs::remove_file(path);
                        continue;
                    }
                    if Instant::now() >= deadline {
                        panic!(
                            "waited {VENV_LOCK_TIMEOUT:?} for {} (another test process building \
                             the venv); remove it if no such process runs",
                            path.display()
                        );
                    }
                    if !announced {
                        eprintln!(
                            "waiting for another process to build the venv ({}) …",
                            path.display()
                        );
                        announced = true;
                    }
                    thread::sleep(Duration::from_millis(250));
                }
                Err(e) => panic!("cannot create lock {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for VenvLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A lock is stale when the pid it names no longer runs (Linux: no /proc entry), or when it
/// is older than any build could take. A lock just created and not yet written is not stale.
fn lock_is_stale(path: &Path) -> bool {
    let owner_gone = fs::read_to_string(path)
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
        .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
    let too_old = fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age > VENV_LOCK_STALE_AFTER);
    owner_gone || too_old
}

/// Runs `script` with the venv's python and `args`, with `env` added to an environment from
/// which every inherited `OTEL_*` variable is removed (so the SDK sees only what the test
/// says). Panics with the script's stdout and stderr if it fails or outlives its time limit.
pub fn run_python(script: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let python = python_venv();
    let mut command = Command::new(&python);
    command.arg(script).args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("OTEL_") {
            command.env_remove(name);
        }
    }
    command
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    command.envs(env.iter().copied());
    let what = format!("python {} {}", script.display(), args.join(" "));
    let output = run_with_timeout(&mut command, PYTHON_TIMEOUT, &what);
    assert_success(&output, &what);
    output
}
