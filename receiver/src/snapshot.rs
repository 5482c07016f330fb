//! Snapshot files: the proto3 JSON form of `parity.v1.Snapshot`, pretty-printed
//! with maps sorted by key, written atomically.

use std::io::Write;
use std::path::Path;

use otel_parity_proto::v1 as pb;

use crate::error::Error;

/// Writes `snapshot` to `path` through a temporary file in the same directory
/// and a rename, so readers never see a partial file.
pub fn write(path: &Path, snapshot: &pb::Snapshot) -> Result<(), Error> {
    let error = |source| Error::SnapshotWrite {
        path: path.to_owned(),
        source,
    };
    let mut json =
        serde_json::to_vec_pretty(snapshot).map_err(|e| error(std::io::Error::other(e)))?;
    json.push(b'\n');
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&temp).map_err(error)?;
    file.write_all(&json).map_err(error)?;
    file.sync_all().map_err(error)?;
    drop(file);
    std::fs::rename(&temp, path).map_err(error)
}

/// Reads a snapshot file.
pub fn read(path: &Path) -> Result<pb::Snapshot, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::InputRead {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Input {
        path: path.to_owned(),
        line: e.line(),
        message: format!("not a parity.v1.Snapshot: {e}"),
    })
}
