//! Snapshot files: the proto3 JSON form of `parity.v1.Snapshot`, pretty-printed
//! with maps sorted by key, written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use otel_parity_proto::v1 as pb;

/// A snapshot file that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file (or its temporary sibling) could not be written.
    #[error("cannot write snapshot {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not a snapshot; `line` is where the JSON went wrong.
    #[error("{path}:{line}: not a parity.v1.Snapshot: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Writes `snapshot` to `path` through a temporary file in the same directory
/// and a rename, so readers never see a partial file.
pub fn write(path: &Path, snapshot: &pb::Snapshot) -> Result<(), SnapshotError> {
    let error = |source| SnapshotError::Write {
        path: path.to_owned(),
        source,
    };
    let mut json =
        serde_json::to_vec_pretty(snapshot).map_err(|e| error(std::io::Error::other(e)))?;
    json.push(b'\n');
    write_atomically(path, &json).map_err(error)
}

/// Writes `bytes` to `path` through a temporary sibling file, synced, and a
/// rename: readers see the old file or the new one, never a part. Every
/// file otel-parity writes (snapshots, lint baselines) goes through here.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, path)
}

/// Reads a snapshot file.
pub fn read(path: &Path) -> Result<pb::Snapshot, SnapshotError> {
    let bytes = std::fs::read(path).map_err(|source| SnapshotError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| SnapshotError::Invalid {
        path: path.to_owned(),
        line: e.line(),
        message: e.to_string(),
    })
}
