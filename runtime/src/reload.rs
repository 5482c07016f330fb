//! Values read from files that are read again when the files change: TLS
//! certificates and keys, token files. Rotation is "replace the file"; the
//! next connection or request after the change (checked at most once per
//! interval) gets the new value. A file that is half-written or invalid
//! keeps the previous value in force, and is tried again at the next check.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;

use crate::error::Error;

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    // `metadata` follows symbolic links, so a Kubernetes Secret's `..data`
    // swap is a change of the file it points to.
    let metadata = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: metadata.modified().ok(),
        len: metadata.len(),
        inode: metadata.ino(),
    })
}

/// Builds the value from its files' current contents.
type Loader<T> = Box<dyn Fn() -> Result<T, Error> + Send + Sync>;

struct Loaded<T> {
    value: Arc<T>,
    stamps: Vec<Option<Stamp>>,
    checked: Instant,
}

/// A value built from files, rebuilt when they change.
pub struct Reloading<T> {
    what: &'static str,
    files: Vec<PathBuf>,
    interval: Option<Duration>,
    load: Loader<T>,
    loaded: Mutex<Loaded<T>>,
}

impl<T> std::fmt::Debug for Reloading<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloading")
            .field("what", &self.what)
            .field("files", &self.files)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl<T> Reloading<T> {
    /// Builds the value once (an error here is a startup error); afterwards
    /// the files are checked at most every `interval` (`None`: never).
    pub fn new(
        what: &'static str,
        files: Vec<PathBuf>,
        interval: Option<Duration>,
        load: impl Fn() -> Result<T, Error> + Send + Sync + 'static,
    ) -> Result<Self, Error> {
        let stamps = files.iter().map(|f| stamp(f)).collect();
        let value = Arc::new(load()?);
        Ok(Reloading {
            what,
            files,
            interval: interval.filter(|i| !i.is_zero()),
            load: Box::new(load),
            loaded: Mutex::new(Loaded {
                value,
                stamps,
                checked: Instant::now(),
            }),
        })
    }

    /// The value as of the files' latest valid contents.
    pub fn current(&self) -> Arc<T> {
        let mut loaded = self.loaded.lock();
        let Some(interval) = self.interval else {
            return Arc::clone(&loaded.value);
        };
        if loaded.checked.elapsed() >= interval {
            loaded.checked = Instant::now();
            let stamps: Vec<_> = self.files.iter().map(|f| stamp(f)).collect();
            if stamps != loaded.stamps {
                match (self.load)() {
                    Ok(value) => {
                        loaded.value = Arc::new(value);
                        loaded.stamps = stamps;
                        tracing::info!(what = self.what, files = ?self.files, "reloaded");
                    }
                    Err(error) => {
                        tracing::warn!(what = self.what, %error, "files changed but cannot be used; keeping the previous ones");
                    }
                }
            }
        }
        Arc::clone(&loaded.value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn read_number(path: &Path) -> Result<u32, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::SecretFile {
            path: path.to_owned(),
            source,
        })?;
        text.trim().parse().map_err(|_| Error::Tls {
            path: path.to_owned(),
            message: format!("not a number: {text:?}"),
        })
    }

    #[test]
    fn a_changed_file_is_read_again_and_a_broken_one_keeps_the_old_value() {
        let dir = std::env::temp_dir().join(format!("reload-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("n");
        std::fs::write(&path, "1").unwrap();
        let loads = Arc::new(AtomicUsize::new(0));
        let (p, counted) = (path.clone(), Arc::clone(&loads));
        let value = Reloading::new(
            "number",
            vec![path.clone()],
            Some(Duration::from_millis(1)),
            move || {
                counted.fetch_add(1, Ordering::SeqCst);
                read_number(&p)
            },
        )
        .unwrap();
        assert_eq!(*value.current(), 1);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(*value.current(), 1);
        assert_eq!(
            loads.load(Ordering::SeqCst),
            1,
            "unchanged files are not read again"
        );
        std::fs::write(&path, "22").unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(*value.current(), 22);
        std::fs::write(&path, "half-writ").unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(*value.current(), 22);
        std::fs::write(&path, "333").unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(*value.current(), 333);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn without_an_interval_the_files_are_read_once() {
        let dir = std::env::temp_dir().join(format!("reload-once-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("n");
        std::fs::write(&path, "7").unwrap();
        let p = path.clone();
        let value =
            Reloading::new("number", vec![path.clone()], None, move || read_number(&p)).unwrap();
        std::fs::write(&path, "8").unwrap();
        assert_eq!(*value.current(), 7);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
