//! Where the store lives (`--store`, `store:`): an SQLite file or a
//! PostgreSQL URL, and that URL as it may be logged (without its password).

use super::StoreError;

/// Where the store lives: `--store` / `store:` in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// An SQLite file (`sqlite:PATH`, or `otel-parity.db` under `--data-dir`).
    Sqlite(std::path::PathBuf),
    /// A private SQLite file in the temp directory, removed at close.
    SqliteTemporary,
    /// A PostgreSQL database (`postgres://USER:PASS@HOST:PORT/DB`).
    Postgres(String),
}

impl StoreLocation {
    /// Parses `sqlite:PATH` or a `postgres://` / `postgresql://` URL.
    pub fn parse(spec: &str) -> Result<StoreLocation, StoreError> {
        if let Some(path) = spec.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(StoreError::Location {
                    spec: spec.to_owned(),
                    reason:
                        "sqlite: needs a file path, e.g. sqlite:/var/lib/otel-parity/otel-parity.db"
                            .into(),
                });
            }
            return Ok(StoreLocation::Sqlite(path.into()));
        }
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            super::postgres::check_url(spec)?;
            return Ok(StoreLocation::Postgres(spec.to_owned()));
        }
        Err(StoreError::Location {
            spec: redact_url(spec),
            reason: "expected sqlite:PATH or postgres://USER:PASS@HOST:PORT/DB".into(),
        })
    }

    /// The location for logs and errors, without a password.
    pub fn redacted(&self) -> String {
        match self {
            StoreLocation::Sqlite(path) => format!("sqlite:{}", path.display()),
            StoreLocation::SqliteTemporary => "sqlite (temporary)".into(),
            StoreLocation::Postgres(url) => redact_url(url),
        }
    }
}

/// `scheme://user:***@host/...`: a URL with its password hidden.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let Some((credentials, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = credentials.split_once(':').map_or(credentials, |(u, _)| u);
    let slash = if rest.contains('/') { "/" } else { "" };
    format!("{scheme}://{user}:***@{host}{slash}{path}")
}
