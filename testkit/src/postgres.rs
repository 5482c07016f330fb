//! A throwaway PostgreSQL cluster for tests: `initdb` into a directory under
//! `target/`, the server on a free loopback port with a private socket
//! directory, removed when dropped. `initdb` refuses to run as root, so as
//! root the cluster is owned and run by the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::e2e::free_port;

/// A running PostgreSQL server with trust authentication on loopback.
#[derive(Debug)]
pub struct PostgresCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// Why a cluster could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start a test PostgreSQL: {0}")]
pub struct ClusterError(String);

/// The server binaries of the newest PostgreSQL installed (Debian layout).
fn find_bin() -> Result<PathBuf, ClusterError> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| {
            ClusterError(format!(
                "/usr/lib/postgresql: {e} (install the Debian package postgresql)"
            ))
        })?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| ClusterError("no initdb under /usr/lib/postgresql/*/bin".into()))
}

/// Whether this process runs as root (its effective uid, from /proc).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

impl PostgresCluster {
    /// Initializes and starts a cluster in a new directory under `parent`.
    pub fn start(parent: &Path) -> Result<PostgresCluster, ClusterError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let bin = find_bin()?;
        let dir = parent.join(format!(
            "pg-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| ClusterError(format!("{}: {e}", dir.display())))?;
        let as_postgres = is_root();
        let cluster = PostgresCluster {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        if as_postgres {
            cluster.run(
                "chown",
                &["postgres:", &cluster.dir.display().to_string()],
                false,
            )?;
        }
        let data = cluster.data_dir().display().to_string();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "otel_parity",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            true,
        )?;
        cluster.start_server()?;
        Ok(cluster)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn run(
        &self,
        program: &str,
        args: &[&str],
        postgres_binary: bool,
    ) -> Result<String, ClusterError> {
        let program_path = if postgres_binary {
            self.bin.join(program).display().to_string()
        } else {
            program.to_owned()
        };
        let mut command = if self.as_postgres && postgres_binary {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", &program_path]);
            c
        } else {
            Command::new(&program_path)
        };
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| ClusterError(format!("{program}: {e}")))?;
        if !output.status.success() {
            return Err(ClusterError(format!(
                "{program} {}: {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn start_server(&self) -> Result<(), ClusterError> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let data = self.data_dir().display().to_string();
        let log = self.dir.join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-o", &options, "-l", &log, "-w", "-t", "60", "start",
            ],
            true,
        )?;
        Ok(())
    }

    /// Stops the server at once, as a crash would (no checkpoint).
    pub fn kill(&self) -> Result<(), ClusterError> {
        let data = self.data_dir().display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &data, "-m", "immediate", "-w", "stop"],
            true,
        )?;
        Ok(())
    }

    /// Starts the server again after [`PostgresCluster::kill`], on the same port.
    pub fn restart(&self) -> Result<(), ClusterError> {
        self.start_server()
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, ClusterError> {
        let port = self.port.to_string();
        let output = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "otel_parity", name])
            .output()
            .map_err(|e| ClusterError(format!("createdb: {e}")))?;
        if !output.status.success() {
            return Err(ClusterError(format!(
                "createdb {name}: {}",
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(self.url(name))
    }

    /// The URL of database `name`: `postgres://otel_parity:test@127.0.0.1:PORT/NAME`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://otel_parity:test@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        let _ = self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_starts_survives_a_crash_and_is_removed_when_dropped() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pg-tests");
        let cluster = PostgresCluster::start(&root).unwrap();
        let dir = cluster.dir.clone();
        let url = cluster.create_database("harness").unwrap();
        assert_eq!(
            url,
            format!(
                "postgres://otel_parity:test@127.0.0.1:{}/harness",
                cluster.port()
            )
        );
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], cluster.port()));
        assert!(crate::e2e::port_accepts(addr));
        cluster.kill().unwrap();
        assert!(!crate::e2e::port_accepts(addr));
        cluster.restart().unwrap();
        assert!(crate::e2e::port_accepts(addr));
        // The database created before the crash is still there.
        assert!(
            cluster
                .create_database("harness")
                .unwrap_err()
                .to_string()
                .contains("already exists")
        );
        drop(cluster);
        assert!(!dir.exists());
        assert!(!crate::e2e::port_accepts(addr));
    }
}
