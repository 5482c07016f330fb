//! The current window's progress, checkpointed to `state_dir/window.json`
//! every second while it changes: what a receiver that dies before it ends
//! the window (SIGKILL, OOM, a node lost) loses. The next run reads it, says
//! how much in its log and metrics, and removes it; a clean stop, which
//! pushes the last window, removes it too.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Signal;

/// Requests and items of one window, per signal (snapshot order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowCounts {
    /// Accepted requests per signal.
    pub requests: [u64; 3],
    /// Accepted items per signal.
    pub items: [u64; 3],
}

impl WindowCounts {
    /// The counts from lifetime totals `now` since totals `start`.
    pub fn between(start: [(u64, u64); 3], now: [(u64, u64); 3]) -> Self {
        let mut counts = WindowCounts::default();
        for signal in Signal::ALL {
            let i = signal.index();
            counts.requests[i] = now[i].0.saturating_sub(start[i].0);
            counts.items[i] = now[i].1.saturating_sub(start[i].1);
        }
        counts
    }
}

/// A window that was accepted and never pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowProgress {
    /// The receiver that accepted it.
    pub instance: String,
    /// When the window started.
    pub window_start_unix_nano: u64,
    /// When the counts were written.
    pub checkpoint_unix_nano: u64,
    /// What it had accepted by then.
    pub counts: WindowCounts,
}

/// The checkpoint file under a state directory.
#[derive(Debug)]
pub struct ProgressFile {
    path: PathBuf,
}

impl ProgressFile {
    /// `state_dir/window.json`.
    pub fn new(state_dir: &Path) -> Self {
        ProgressFile {
            path: state_dir.join("window.json"),
        }
    }

    /// The window a previous run left unpushed, removing the file; `None`
    /// after a clean stop (or an unreadable file, which is logged).
    pub fn take_previous(&self) -> Option<WindowProgress> {
        let text = fs::read_to_string(&self.path).ok()?;
        let _ = fs::remove_file(&self.path);
        match serde_json::from_str::<WindowProgress>(&text) {
            Ok(progress) => Some(progress),
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "unreadable window checkpoint removed");
                None
            }
        }
    }

    /// Writes `progress` (temporary file, then rename).
    pub fn write(&self, progress: &WindowProgress) {
        let temporary = self.path.with_extension("tmp");
        let written = serde_json::to_vec(progress)
            .map_err(std::io::Error::other)
            .and_then(|bytes| fs::write(&temporary, bytes))
            .and_then(|()| fs::rename(&temporary, &self.path));
        if let Err(error) = written {
            tracing::debug!(path = %self.path.display(), %error, "window checkpoint not written");
        }
    }

    /// Removes the file: nothing accepted is unpushed.
    pub fn clear(&self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_is_read_once_by_the_next_run() {
        let dir = std::env::temp_dir().join(format!("progress-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = ProgressFile::new(&dir);
        let counts = WindowCounts::between([(1, 10), (0, 0), (5, 5)], [(4, 70), (2, 9), (5, 5)]);
        assert_eq!(counts.requests, [3, 2, 0]);
        assert_eq!(counts.items, [60, 9, 0]);
        let progress = WindowProgress {
            instance: "rx-1".into(),
            window_start_unix_nano: 1,
            checkpoint_unix_nano: 2,
            counts,
        };
        file.write(&progress);
        assert_eq!(file.take_previous(), Some(progress));
        assert_eq!(file.take_previous(), None);
        fs::remove_dir_all(&dir).unwrap();
    }
}
