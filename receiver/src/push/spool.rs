//! Pushes kept on disk until the analyzer acknowledges them
//! (`state_dir/pending/<sequence>.push`, the `PushRequest` protobuf): a
//! receiver restarted while the analyzer was away sends them again (same key,
//! so the analyzer stores each once), and loses only the window it had not
//! ended yet.

use std::fs;
use std::path::{Path, PathBuf};

use otel_parity_proto::v1 as pb;
use prost::Message;

use crate::error::Error;

/// The directory of pending pushes.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// The spool under `state_dir`, created if needed.
    pub fn open(state_dir: &Path) -> Result<Spool, Error> {
        let dir = state_dir.join("pending");
        fs::create_dir_all(&dir).map_err(|source| Error::State {
            path: dir.clone(),
            source,
        })?;
        Ok(Spool { dir })
    }

    fn path(&self, sequence: u64) -> PathBuf {
        self.dir.join(format!("{sequence:020}.push"))
    }

    /// The pushes a previous run left, oldest first; unreadable files are
    /// logged and removed.
    pub fn load(&self) -> Vec<pb::PushRequest> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "push"))
            .collect();
        paths.sort();
        let mut pushes = Vec::with_capacity(paths.len());
        for path in paths {
            match fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| pb::PushRequest::decode(&*bytes).map_err(|e| e.to_string()))
            {
                Ok(push) => pushes.push(push),
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "unreadable pending push removed");
                    let _ = fs::remove_file(&path);
                }
            }
        }
        pushes
    }

    /// Writes `push` (temporary file, then rename); a failure is logged and
    /// the push is kept in memory only.
    pub fn store(&self, push: &pb::PushRequest) {
        let path = self.path(push.sequence);
        let temporary = path.with_extension("tmp");
        let written = fs::write(&temporary, push.encode_to_vec())
            .and_then(|()| fs::rename(&temporary, &path));
        if let Err(error) = written {
            let _ = fs::remove_file(&temporary);
            tracing::warn!(path = %path.display(), %error, "pending push not written to state_dir; kept in memory only");
        }
    }

    /// Forgets the push of `sequence` (acknowledged or dropped).
    pub fn remove(&self, sequence: u64) {
        let _ = fs::remove_file(self.path(sequence));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(sequence: u64) -> pb::PushRequest {
        pb::PushRequest {
            environment: "staging".into(),
            receiver_instance: "rx-1".into(),
            window_start_unix_nano: 10 + sequence,
            window_end_unix_nano: 20 + sequence,
            sequence,
            fingerprint: Some(pb::EnvironmentFingerprint::default()),
        }
    }

    #[test]
    fn pushes_come_back_in_order_until_removed_and_junk_is_dropped() {
        let dir = std::env::temp_dir().join(format!("spool-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let spool = Spool::open(&dir).unwrap();
        for sequence in [11, 2, 9] {
            spool.store(&push(sequence));
        }
        fs::write(
            dir.join("pending").join("00000000000000000005.push"),
            b"\xff\xff",
        )
        .unwrap();
        spool.remove(9);
        let again = Spool::open(&dir).unwrap();
        assert_eq!(again.load(), vec![push(2), push(11)]);
        assert!(
            !dir.join("pending")
                .join("00000000000000000005.push")
                .exists()
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
