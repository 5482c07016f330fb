//! Shared helpers for the end-to-end tests: the Python virtualenv with the OpenTelemetry SDK,
//! free loopback ports, the `otel-parity` binary as a child process, and reading and checking
//! the snapshot JSON it writes (the proto3 JSON mapping of `parity.v1.Snapshot`).
//!
//! Each test file includes this with `mod support;`; not every file uses every helper.
#![allow(dead_code)]

use std::fmt::{Display, Write as _};
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// How long `pip install` may take before the venv build is abandoned.
const PIP_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a process waits for another one that is building the venv.
const VENV_LOCK_TIMEOUT: Duration = Duration::from_secs(900);
/// A venv lock older than this is taken to belong to a process that died mid-build.
const VENV_LOCK_STALE_AFTER: Duration = Duration::from_secs(1800);
/// How long a Python app run by `run_python` may take.
const PYTHON_TIMEOUT: Duration = Duration::from_secs(180);
/// How long the receiver may take to listen on both ports.
const RECEIVER_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the receiver may take to exit after SIGTERM (it writes a final snapshot first).
const RECEIVER_STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// Lines of a child's stderr shown when a test fails.
const STDERR_TAIL_LINES: usize = 200;

/// The workspace root: where Cargo.toml, tests/ and target/ are.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Path of an app under tests/apps/, e.g. `app_path("shop.py")`.
pub fn app_path(name: &str) -> PathBuf {
    workspace_root().join("tests").join("apps").join(name)
}

/// Nanoseconds since the Unix epoch, the unit of the snapshot's window timestamps.
pub fn unix_nanos_now() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_else(|e| panic!("system clock before 1970: {e}"));
    u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX)
}

// ---------------------------------------------------------------------------------------------
// Scratch directories and child processes with time limits
// ---------------------------------------------------------------------------------------------

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

fn create_file(path: &Path) -> File {
    File::create(path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()))
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
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

// ---------------------------------------------------------------------------------------------
// The Python virtualenv
// ---------------------------------------------------------------------------------------------

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

fn assert_success(output: &Output, what: &str) {
    if !output.status.success() {
        panic!(
            "{what} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
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

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

/// A loopback port that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("bound listener has no address: {e}"))
        .port()
}

/// Whether something accepts TCP connections at `addr` right now.
pub fn port_accepts(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Polls `addr` until it accepts TCP connections; false if it did not within `timeout`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if port_accepts(addr) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// The receiver under test
// ---------------------------------------------------------------------------------------------

/// `otel-parity receive` running as a child process on free loopback ports, writing its
/// snapshot every second into a scratch directory, its stderr captured to a file there.
///
/// Dropping it kills the process; if the test is panicking, its stderr is printed first.
pub struct ReceiverProcess {
    child: Child,
    exit: Option<ExitStatus>,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    snapshot_path: PathBuf,
    stderr_path: PathBuf,
    args: Vec<String>,
    scratch: ScratchDir,
}

impl ReceiverProcess {
    /// Starts `otel-parity receive --otlp-grpc … --otlp-http … --snapshot … --snapshot-interval
    /// 1s` followed by `extra_args`, and waits until both OTLP ports accept connections. Retries
    /// with new ports when the process exits before it is ready (a port taken meanwhile).
    pub fn start(extra_args: &[&str]) -> Self {
        const ATTEMPTS: usize = 3;
        let mut last_failure = String::new();
        for _ in 0..ATTEMPTS {
            match Self::try_start(extra_args) {
                Ok(receiver) => return receiver,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("the receiver did not start in {ATTEMPTS} attempts; last:\n{last_failure}");
    }

    fn try_start(extra_args: &[&str]) -> Result<Self, String> {
        let scratch = ScratchDir::new("receiver");
        let grpc_port = free_port();
        let http_port = std::iter::repeat_with(free_port)
            .find(|port| *port != grpc_port)
            .unwrap_or_else(|| unreachable!("repeat_with never ends"));
        let grpc_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, grpc_port));
        let http_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, http_port));
        let snapshot_path = scratch.path().join("snapshot.json");
        let stderr_path = scratch.path().join("receiver.stderr");
        let stdout_path = scratch.path().join("receiver.stdout");
        let mut args = vec![
            "receive".to_owned(),
            "--otlp-grpc".to_owned(),
            grpc_addr.to_string(),
            "--otlp-http".to_owned(),
            http_addr.to_string(),
            "--snapshot".to_owned(),
            snapshot_path.display().to_string(),
            "--snapshot-interval".to_owned(),
            "1s".to_owned(),
        ];
        args.extend(extra_args.iter().map(|arg| (*arg).to_owned()));
        let child = Command::new(env!("CARGO_BIN_EXE_otel-parity"))
            .args(&args)
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(create_file(&stdout_path))
            .stderr(create_file(&stderr_path))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start otel-parity {args:?}: {e}"));
        let mut receiver = Self {
            child,
            exit: None,
            grpc_addr,
            http_addr,
            snapshot_path,
            stderr_path,
            args,
            scratch,
        };
        let deadline = Instant::now() + RECEIVER_START_TIMEOUT;
        loop {
            if port_accepts(grpc_addr) && port_accepts(http_addr) {
                return Ok(receiver);
            }
            if let Some(status) = receiver.poll_exit() {
                return Err(format!(
                    "otel-parity {:?} exited before listening ({status})\n{}",
                    receiver.args,
                    receiver.stderr_tail()
                ));
            }
            if Instant::now() >= deadline {
                // Dropping `receiver` while panicking prints its stderr.
                panic!(
                    "otel-parity {:?} did not accept connections on {grpc_addr} and {http_addr} \
                     within {RECEIVER_START_TIMEOUT:?}",
                    receiver.args
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The OTLP/gRPC endpoint as SDK exporters take it: `http://127.0.0.1:PORT`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// The OTLP/HTTP base URL (without `/v1/…`): `http://127.0.0.1:PORT`.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The OTLP/gRPC listen address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The OTLP/HTTP listen address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Where the receiver writes its snapshot.
    pub fn snapshot_path(&self) -> &Path {
        &self.snapshot_path
    }

    /// Everything the receiver has written to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// The end of the receiver's stderr, headed by its command line, for failure messages.
    pub fn stderr_tail(&self) -> String {
        format!(
            "--- otel-parity {} stderr ({}) ---\n{}",
            self.args.join(" "),
            self.stderr_path.display(),
            tail(&self.stderr(), STDERR_TAIL_LINES)
        )
    }

    /// The snapshot file's text as last written, or `None` before the first write.
    pub fn read_snapshot_text(&self) -> Option<String> {
        match fs::read_to_string(&self.snapshot_path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => panic!("cannot read {}: {e}", self.snapshot_path.display()),
        }
    }

    /// The snapshot as last written, or `None` before the first write. The receiver writes
    /// atomically, so a file that is not valid JSON is a bug and panics.
    pub fn read_snapshot(&self) -> Option<Value> {
        let text = self.read_snapshot_text()?;
        match serde_json::from_str(&text) {
            Ok(value) => Some(value),
            Err(e) => panic!(
                "snapshot {} is not valid JSON ({e}); snapshots must be written atomically\n\
                 --- first 2000 characters ---\n{}",
                self.snapshot_path.display(),
                text.chars().take(2000).collect::<String>()
            ),
        }
    }

    /// Polls the periodic snapshot until `ready` accepts it and returns it, or returns `None`
    /// after `timeout` (the caller decides whether that fails the test).
    pub fn wait_for_snapshot(
        &mut self,
        timeout: Duration,
        ready: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(snapshot) = self.read_snapshot().filter(|s| ready(s)) {
                return Some(snapshot);
            }
            if Instant::now() >= deadline || self.poll_exit().is_some() {
                return None;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and waits for the process to exit; it should write a final snapshot and
    /// exit on its own. Panics (after SIGKILL) if it is still running after a bounded wait.
    pub fn stop(&mut self) -> ExitStatus {
        if let Some(status) = self.poll_exit() {
            return status;
        }
        let pid = self.child.id().to_string();
        // kill fails only if the process exited in between, which the wait below sees.
        let _ = run_with_timeout(
            Command::new("kill").args(["-TERM", &pid]),
            Duration::from_secs(10),
            "kill -TERM",
        );
        match wait_bounded(&mut self.child, RECEIVER_STOP_TIMEOUT) {
            Some(status) => {
                self.exit = Some(status);
                status
            }
            None => {
                let _ = self.child.kill();
                let status = self.child.wait().ok();
                self.exit = status;
                panic!(
                    "otel-parity did not exit within {RECEIVER_STOP_TIMEOUT:?} of SIGTERM; killed"
                );
            }
        }
    }

    /// The exit status if the process has exited.
    fn poll_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }
}

impl Drop for ReceiverProcess {
    fn drop(&mut self) {
        if self.poll_exit().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if thread::panicking() {
            eprintln!("{}", self.stderr_tail());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading proto3 JSON
// ---------------------------------------------------------------------------------------------

/// Follows `path` from `value`: object keys, or decimal indexes into arrays.
pub fn json_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |current, segment| match current {
            Value::Object(map) => map.get(*segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

/// A proto3-JSON uint64: a decimal string; absent (the zero value is omitted) means 0.
pub fn proto_u64(value: Option<&Value>) -> Result<u64, String> {
    match value {
        None => Ok(0),
        Some(Value::String(text)) => text
            .parse()
            .map_err(|e| format!("{text:?} is not a decimal uint64: {e}")),
        Some(other) => Err(format!(
            "{other} is not a uint64 in proto3 JSON (a decimal string such as \"12\")"
        )),
    }
}

/// A proto3-JSON double: a number (or "NaN"/"Infinity" strings); absent means 0.
pub fn proto_f64(value: Option<&Value>) -> Result<f64, String> {
    match value {
        None => Ok(0.0),
        Some(Value::Number(number)) => number
            .as_f64()
            .ok_or_else(|| format!("{number} is not a double")),
        Some(Value::String(text)) => text
            .parse()
            .map_err(|e| format!("{text:?} is not a double: {e}")),
        Some(other) => Err(format!("{other} is not a double in proto3 JSON")),
    }
}

/// The keys of the object at `value` (a map in proto3 JSON); an absent map has none.
pub fn object_keys(value: Option<&Value>) -> Result<Vec<String>, String> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Object(map)) => Ok(map.keys().cloned().collect()),
        Some(other) => Err(format!("{} is not an object", excerpt(other, 200))),
    }
}

/// The objects in `json` (valid JSON text) with their paths and keys in written order; a
/// parsed `Value` cannot tell the order, which the snapshot contract fixes for maps.
pub fn object_key_orders(json: &str) -> Vec<(Vec<String>, Vec<String>)> {
    enum Frame {
        Object {
            path: Vec<String>,
            keys: Vec<String>,
            expecting_key: bool,
        },
        Array {
            path: Vec<String>,
            index: usize,
        },
    }
    let child_path = |stack: &[Frame]| -> Vec<String> {
        match stack.last() {
            None => Vec::new(),
            Some(Frame::Object { path, keys, .. }) => {
                let mut path = path.clone();
                path.push(keys.last().cloned().unwrap_or_default());
                path
            }
            Some(Frame::Array { path, index }) => {
                let mut path = path.clone();
                path.push(index.to_string());
                path
            }
        }
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut objects = Vec::new();
    let mut chars = json.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                text.push('\\');
                                text.push(escaped);
                            }
                        }
                        c => text.push(c),
                    }
                }
                if let Some(Frame::Object {
                    keys,
                    expecting_key,
                    ..
                }) = stack.last_mut()
                    && *expecting_key
                {
                    keys.push(text);
                    *expecting_key = false;
                }
            }
            '{' => {
                let path = child_path(&stack);
                stack.push(Frame::Object {
                    path,
                    keys: Vec::new(),
                    expecting_key: true,
                });
            }
            '[' => {
                let path = child_path(&stack);
                stack.push(Frame::Array { path, index: 0 });
            }
            '}' | ']' => {
                if let Some(Frame::Object { path, keys, .. }) = stack.pop() {
                    objects.push((path, keys));
                }
            }
            ',' => match stack.last_mut() {
                Some(Frame::Object { expecting_key, .. }) => *expecting_key = true,
                Some(Frame::Array { index, .. }) => *index += 1,
                None => {}
            },
            _ => {}
        }
    }
    objects
}

/// Whether the object at `path` in a snapshot is a proto map (written sorted by key) rather
/// than a message (written in field order), per parity/v1/fingerprint.proto.
pub fn is_snapshot_map(path: &[String]) -> bool {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    let n = p.len();
    let ends = |suffix: &[&str]| {
        n >= suffix.len()
            && p[n - suffix.len()..]
                .iter()
                .zip(suffix)
                .all(|(found, wanted)| *wanted == "*" || found == wanted)
    };
    matches!(
        p.as_slice(),
        ["environments"] | ["received"] | ["environments", _, "services"]
    ) || ends(&["services", "*", "metrics"])
        || ends(&["resource", "attributeKeys"])
        || ends(&["resource", "allowedValues"])
        || ends(&["resource", "scopes"])
        || ends(&["allowedValues", "*", "values"])
        || ends(&["scopes", "*", "versions"])
        || ["types", "units", "temporalities", "attributeKeys"]
            .iter()
            .any(|field| ends(&["services", "*", "metrics", "*", field]))
        || ["attributeKeys", "eventNames"]
            .iter()
            .any(|field| ends(&["spanOperations", "*", field]))
        || ["severities", "attributeKeys", "eventNames", "bodyKinds"]
            .iter()
            .any(|field| ends(&["logs", field]))
}

/// The maps of a snapshot (raw JSON text) whose keys are not written sorted, described.
pub fn unsorted_snapshot_maps(json: &str) -> Vec<String> {
    object_key_orders(json)
        .into_iter()
        .filter(|(path, keys)| is_snapshot_map(path) && !keys.is_sorted())
        .map(|(path, keys)| format!("{}: keys written as {keys:?}", path.join(".")))
        .collect()
}

/// `value` pretty-printed and cut to about `max` characters.
pub fn excerpt(value: &Value, max: usize) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("<{e}>"));
    if text.chars().count() <= max {
        text
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}\n[… cut at {max} characters …]")
    }
}

/// Where a failed expectation looked: a label for the JSON object and a path inside it.
fn place(subject: &str, path: &[&str]) -> String {
    if path.is_empty() {
        subject.to_owned()
    } else {
        format!("{subject} → {}", path.join("."))
    }
}

/// Collects failed expectations about snapshot JSON, so that one run reports all of them,
/// each with the JSON object it was read from.
#[derive(Default)]
pub struct Expectations {
    failures: Vec<String>,
}

/// How much of the JSON object behind a failure is printed.
const CONTEXT_CHARS: usize = 3000;

impl Expectations {
    /// No failures yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a failure about `subject`, showing `context` (the JSON it came from) if any.
    pub fn fail(&mut self, subject: &str, message: impl Display, context: Option<&Value>) {
        let mut text = format!("{subject}: {message}");
        if let Some(context) = context {
            let _ = write!(
                text,
                "\n    in: {}",
                excerpt(context, CONTEXT_CHARS).replace('\n', "\n        ")
            );
        }
        self.failures.push(text);
    }

    /// Records a failure unless `ok`.
    pub fn check(
        &mut self,
        ok: bool,
        subject: &str,
        message: impl Display,
        context: Option<&Value>,
    ) {
        if !ok {
            self.fail(subject, message, context);
        }
    }

    /// The uint64 at `path` in `base` equals `expected` (absent counts as 0).
    pub fn u64_eq(&mut self, subject: &str, base: &Value, path: &[&str], expected: u64) {
        match proto_u64(json_at(base, path)) {
            Ok(found) if found == expected => {}
            Ok(found) => self.fail(
                &place(subject, path),
                format!("expected {expected}, found {found}"),
                Some(base),
            ),
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// The uint64 at `path` in `base` is at least `minimum`.
    pub fn u64_at_least(&mut self, subject: &str, base: &Value, path: &[&str], minimum: u64) {
        match proto_u64(json_at(base, path)) {
            Ok(found) if found >= minimum => {}
            Ok(found) => self.fail(
                &place(subject, path),
                format!("expected at least {minimum}, found {found}"),
                Some(base),
            ),
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// The double at `path` in `base` is within `tolerance` of `expected`.
    pub fn f64_near(
        &mut self,
        subject: &str,
        base: &Value,
        path: &[&str],
        expected: f64,
        tolerance: f64,
    ) {
        match proto_f64(json_at(base, path)) {
            Ok(found) if (found - expected).abs() <= tolerance => {}
            Ok(found) => self.fail(
                &place(subject, path),
                format!("expected {expected} ± {tolerance}, found {found}"),
                Some(base),
            ),
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// The string at `path` in `base` equals `expected`.
    pub fn str_eq(&mut self, subject: &str, base: &Value, path: &[&str], expected: &str) {
        let found = json_at(base, path);
        if found.and_then(Value::as_str) != Some(expected) {
            let found = found.map_or_else(|| "nothing".to_owned(), Value::to_string);
            self.fail(
                &place(subject, path),
                format!("expected {expected:?}, found {found}"),
                Some(base),
            );
        }
    }

    /// The map at `path` in `base` has exactly the keys `expected` (an absent map has none).
    pub fn keys_eq(&mut self, subject: &str, base: &Value, path: &[&str], expected: &[&str]) {
        match object_keys(json_at(base, path)) {
            Ok(mut found) => {
                let mut expected: Vec<String> = expected.iter().map(|k| (*k).to_owned()).collect();
                found.sort();
                expected.sort();
                if found != expected {
                    self.fail(
                        &place(subject, path),
                        format!("expected keys {expected:?}, found {found:?}"),
                        Some(base),
                    );
                }
            }
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// The map at `path` in `base` has at least the keys `expected`.
    pub fn keys_include(&mut self, subject: &str, base: &Value, path: &[&str], expected: &[&str]) {
        match object_keys(json_at(base, path)) {
            Ok(found) => {
                let missing: Vec<&str> = expected
                    .iter()
                    .copied()
                    .filter(|key| !found.iter().any(|f| f == key))
                    .collect();
                if !missing.is_empty() {
                    self.fail(
                        &place(subject, path),
                        format!("missing keys {missing:?}; found {found:?}"),
                        Some(base),
                    );
                }
            }
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// The `map<string, uint64>` at `path` in `base` is exactly `expected`.
    pub fn u64_map_eq(
        &mut self,
        subject: &str,
        base: &Value,
        path: &[&str],
        expected: &[(&str, u64)],
    ) {
        let found = json_at(base, path);
        let parsed: Result<Vec<(String, u64)>, String> = match found {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(key, count)| proto_u64(Some(count)).map(|count| (key.clone(), count)))
                .collect(),
            Some(other) => Err(format!("{} is not a map", excerpt(other, 200))),
        };
        match parsed {
            Ok(mut found) => {
                let mut expected: Vec<(String, u64)> = expected
                    .iter()
                    .map(|(key, count)| ((*key).to_owned(), *count))
                    .collect();
                found.sort();
                expected.sort();
                if found != expected {
                    self.fail(
                        &place(subject, path),
                        format!("expected {expected:?}, found {found:?}"),
                        Some(base),
                    );
                }
            }
            Err(e) => self.fail(&place(subject, path), e, Some(base)),
        }
    }

    /// Whether every expectation so far held.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// Panics with every failure, followed by `diagnostics` (e.g. the receiver's stderr), if
    /// any expectation failed.
    pub fn finish(self, what: &str, diagnostics: &str) {
        if self.failures.is_empty() {
            return;
        }
        let mut report = format!("{what}: {} expectation(s) failed\n", self.failures.len());
        for (i, failure) in self.failures.iter().enumerate() {
            let _ = writeln!(report, "\n{}. {failure}", i + 1);
        }
        let _ = write!(report, "\n{diagnostics}");
        panic!("{report}");
    }
}
