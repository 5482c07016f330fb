//! A long-running child process of a test (the binary under test, Prometheus, …): its output
//! in files, waited on until it is ready, stopped the way its users would stop it, and never
//! left behind: dropping it stops it, printing the end of its output if the test is failing.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::process::{create_file, stop_child, tail};

/// Lines of a child's output shown when a test fails.
const TAIL_LINES: usize = 200;
/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(50);

/// Where a child's output goes.
#[derive(Debug, Clone, Copy)]
pub enum ChildOutput<'a> {
    /// stdout and stderr into one log file.
    Log(&'a Path),
    /// stderr into a file; stdout discarded.
    Stderr(&'a Path),
    /// stdout and stderr into files of their own.
    Separate {
        /// The stdout file.
        stdout: &'a Path,
        /// The stderr file.
        stderr: &'a Path,
    },
}

/// What dropping a [`ChildProcess`] that still runs does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnDrop {
    /// SIGKILL at once.
    Kill,
    /// SIGTERM, then SIGKILL after the stop timeout.
    Stop,
}

/// A child process started by a test, killed when dropped (or stopped, see
/// [`ChildProcess::stopped_on_drop`]); if the test is failing, the end of its output is printed
/// first.
pub struct ChildProcess {
    name: String,
    child: Child,
    exit: Option<ExitStatus>,
    stdout: Option<PathBuf>,
    stderr: PathBuf,
    stop_timeout: Duration,
    on_drop: OnDrop,
}

impl ChildProcess {
    /// Starts `command`, called `name` in messages, with stdin closed and its output going to
    /// `output`. It may take 20 s to exit after SIGTERM (see [`ChildProcess::stop_timeout`]).
    pub fn spawn(name: &str, command: &mut Command, output: ChildOutput<'_>) -> Self {
        let (stdout, stderr, stdout_path, stderr_path) = match output {
            ChildOutput::Log(log) => {
                let file = create_file(log);
                let shared = file
                    .try_clone()
                    .unwrap_or_else(|e| panic!("cannot share {}: {e}", log.display()));
                (Stdio::from(file), Stdio::from(shared), None, log)
            }
            ChildOutput::Stderr(stderr) => {
                let file: File = create_file(stderr);
                (Stdio::null(), Stdio::from(file), None, stderr)
            }
            ChildOutput::Separate { stdout, stderr } => (
                Stdio::from(create_file(stdout)),
                Stdio::from(create_file(stderr)),
                Some(stdout.to_owned()),
                stderr,
            ),
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        ChildProcess {
            name: name.to_owned(),
            child,
            exit: None,
            stdout: stdout_path,
            stderr: stderr_path.to_owned(),
            stop_timeout: Duration::from_secs(20),
            on_drop: OnDrop::Kill,
        }
    }

    /// Sets how long the child may take to exit after SIGTERM before it is killed.
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// Dropping the child stops it as [`ChildProcess::stop`] does, instead of killing it.
    pub fn stopped_on_drop(mut self) -> Self {
        self.on_drop = OnDrop::Stop;
        self
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }

    /// Everything the child has written to stdout so far (with [`ChildOutput::Log`], its log).
    pub fn stdout(&self) -> String {
        fs::read_to_string(self.stdout.as_ref().unwrap_or(&self.stderr)).unwrap_or_default()
    }

    /// Everything the child has written to stderr so far (with [`ChildOutput::Log`], its log).
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The end of the child's output, headed by its name and files, for failure messages.
    pub fn output_tail(&self) -> String {
        let mut out = String::new();
        if let Some(stdout) = &self.stdout {
            out.push_str(&format!(
                "--- {} stdout ({}) ---\n{}",
                self.name,
                stdout.display(),
                tail(&self.stdout(), TAIL_LINES)
            ));
        }
        out.push_str(&format!(
            "--- {} {} ({}) ---\n{}",
            self.name,
            if self.stdout.is_some() {
                "stderr"
            } else {
                "output"
            },
            self.stderr.display(),
            tail(&self.stderr(), TAIL_LINES)
        ));
        out
    }

    /// Polls `ready` until it holds. An error with the child's output when the child exits
    /// first (a caller may start another); a panic when `timeout` passes.
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        what: &str,
        ready: impl Fn() -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if ready() {
                return Ok(());
            }
            if let Some(status) = self.exited() {
                return Err(format!(
                    "{} exited ({status}) before {what}\n{}",
                    self.name,
                    self.output_tail()
                ));
            }
            // Dropping the child while panicking prints its output.
            assert!(
                Instant::now() < deadline,
                "{} not {what} within {timeout:?}",
                self.name
            );
            thread::sleep(POLL);
        }
    }

    /// Polls `ready` until it holds; panics when the child exits first or `timeout` passes.
    pub fn wait_until(&mut self, timeout: Duration, what: &str, ready: impl Fn() -> bool) {
        if let Err(failure) = self.wait_for(timeout, what, ready) {
            panic!("{failure}");
        }
    }

    /// SIGTERM, then waits for the exit; SIGKILL after the stop timeout. The exit status, or
    /// `None` when the child had to be killed.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.exited() {
            return Some(status);
        }
        let status = stop_child(&mut self.child, self.stop_timeout);
        self.exit = status.or_else(|| self.child.try_wait().ok().flatten());
        status
    }

    /// SIGKILL: the child dies at once, mid-write or not. Waits until it is reaped.
    pub fn kill(&mut self) -> ExitStatus {
        // Child::kill sends SIGKILL on Unix.
        self.child
            .kill()
            .unwrap_or_else(|e| panic!("cannot SIGKILL {}: {e}", self.name));
        let status = self
            .child
            .wait()
            .unwrap_or_else(|e| panic!("cannot reap {}: {e}", self.name));
        self.exit = Some(status);
        status
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if self.exited().is_none() {
            match self.on_drop {
                OnDrop::Kill => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                }
                OnDrop::Stop => {
                    let _ = self.stop();
                }
            }
        }
        if thread::panicking() {
            eprintln!("{}", self.output_tail());
        }
    }
}
