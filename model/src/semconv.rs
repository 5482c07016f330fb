//! The metric and attribute renames of the semantic-conventions releases,
//! shared by the lint (deprecated names, OTP-S001/S002) and the comparison
//! (an environment on an older SDK that emits the old name: one `semconv`
//! finding instead of a missing metric). Each rename names the release that
//! deprecated the old name and, for metrics, the unit change that came with
//! it; `schema_version` reads the release from a schema URL.
//!
//! Only renames this project is sure of are listed; the table is not
//! exhaustive.

/// A unit that changed with a rename, e.g. `ms` → `s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitChange {
    /// The old name's unit.
    pub old: &'static str,
    /// The new name's unit.
    pub new: &'static str,
}

/// One deprecated name: its replacement and the semconv release that
/// deprecated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rename {
    /// The old name.
    pub old: &'static str,
    /// What replaces it; empty when it was removed without a replacement.
    pub new: &'static str,
    /// The semantic-conventions release that deprecated `old`.
    pub since: &'static str,
    /// Metrics: the unit change that came with the rename, if any.
    pub unit: Option<UnitChange>,
    /// Anything else worth saying about the rename (people read it).
    pub note: &'static str,
}

impl Rename {
    /// Whether the old name has a one-to-one replacement (some keys were
    /// removed, or split in two).
    pub fn has_replacement(&self) -> bool {
        !self.new.is_empty() && !self.new.contains('`')
    }
}

const fn renamed(old: &'static str, new: &'static str, since: &'static str) -> Rename {
    Rename {
        old,
        new,
        since,
        unit: None,
        note: "",
    }
}

const MS_TO_S: Option<UnitChange> = Some(UnitChange {
    old: "ms",
    new: "s",
});

/// Renamed metric names.
pub const METRIC_RENAMES: &[Rename] = &[
    Rename {
        unit: MS_TO_S,
        ..renamed(
            "http.server.duration",
            "http.server.request.duration",
            "1.22.0",
        )
    },
    Rename {
        unit: MS_TO_S,
        ..renamed(
            "http.client.duration",
            "http.client.request.duration",
            "1.22.0",
        )
    },
    renamed(
        "db.client.connections.usage",
        "db.client.connection.count",
        "1.26.0",
    ),
    renamed(
        "db.client.connections.max",
        "db.client.connection.max",
        "1.26.0",
    ),
    renamed(
        "db.client.connections.idle.max",
        "db.client.connection.idle.max",
        "1.26.0",
    ),
    renamed(
        "db.client.connections.idle.min",
        "db.client.connection.idle.min",
        "1.26.0",
    ),
    renamed(
        "db.client.connections.pending_requests",
        "db.client.connection.pending_requests",
        "1.26.0",
    ),
    renamed(
        "db.client.connections.timeouts",
        "db.client.connection.timeouts",
        "1.26.0",
    ),
    Rename {
        unit: MS_TO_S,
        ..renamed(
            "db.client.connections.create_time",
            "db.client.connection.create_time",
            "1.26.0",
        )
    },
    Rename {
        unit: MS_TO_S,
        ..renamed(
            "db.client.connections.wait_time",
            "db.client.connection.wait_time",
            "1.26.0",
        )
    },
    Rename {
        unit: MS_TO_S,
        ..renamed(
            "db.client.connections.use_time",
            "db.client.connection.use_time",
            "1.26.0",
        )
    },
];

/// Renamed attribute keys.
pub const ATTRIBUTE_RENAMES: &[Rename] = &[
    renamed("http.method", "http.request.method", "1.21.0"),
    renamed("http.status_code", "http.response.status_code", "1.21.0"),
    renamed("http.url", "url.full", "1.21.0"),
    renamed("http.scheme", "url.scheme", "1.21.0"),
    Rename {
        note: "(split into the path and the query)",
        ..renamed("http.target", "url.path` and `url.query", "1.21.0")
    },
    renamed(
        "http.request_content_length",
        "http.request.body.size",
        "1.21.0",
    ),
    renamed(
        "http.response_content_length",
        "http.response.body.size",
        "1.21.0",
    ),
    renamed("http.client_ip", "client.address", "1.21.0"),
    Rename {
        note: "on client telemetry (`client.address` on server telemetry)",
        ..renamed("net.peer.name", "server.address", "1.21.0")
    },
    Rename {
        note: "on client telemetry (`client.port` on server telemetry)",
        ..renamed("net.peer.port", "server.port", "1.21.0")
    },
    renamed("net.host.name", "server.address", "1.21.0"),
    renamed("net.host.port", "server.port", "1.21.0"),
    renamed("net.sock.peer.addr", "network.peer.address", "1.21.0"),
    renamed("net.sock.peer.port", "network.peer.port", "1.21.0"),
    renamed("net.transport", "network.transport", "1.21.0"),
    renamed("net.protocol.name", "network.protocol.name", "1.21.0"),
    renamed("net.protocol.version", "network.protocol.version", "1.21.0"),
    renamed("db.statement", "db.query.text", "1.26.0"),
    renamed("db.name", "db.namespace", "1.26.0"),
    renamed("db.redis.database_index", "db.namespace", "1.26.0"),
    renamed("db.operation", "db.operation.name", "1.26.0"),
    renamed("db.sql.table", "db.collection.name", "1.26.0"),
    renamed("db.cassandra.table", "db.collection.name", "1.26.0"),
    renamed("db.mongodb.collection", "db.collection.name", "1.26.0"),
    renamed("db.cosmosdb.container", "db.collection.name", "1.26.0"),
    renamed("db.user", "", "1.26.0"),
    renamed("messaging.operation", "messaging.operation.type", "1.26.0"),
    renamed("messaging.client_id", "messaging.client.id", "1.26.0"),
    renamed(
        "deployment.environment",
        "deployment.environment.name",
        "1.27.0",
    ),
    renamed("db.system", "db.system.name", "1.30.0"),
    renamed("code.function", "code.function.name", "1.30.0"),
    renamed("code.column", "code.column.number", "1.30.0"),
    renamed(
        "feature_flag.provider_name",
        "feature_flag.provider.name",
        "1.33.0",
    ),
];

/// The rename of metric `old`, if the conventions renamed it.
pub fn metric_rename(old: &str) -> Option<&'static Rename> {
    METRIC_RENAMES.iter().find(|r| r.old == old)
}

/// The rename of attribute key `old`, if the conventions renamed it.
pub fn attribute_rename(old: &str) -> Option<&'static Rename> {
    ATTRIBUTE_RENAMES.iter().find(|r| r.old == old)
}

/// The rename that turns one of `a`, `b` into the other, and whether `a` is
/// the old name.
pub fn metric_rename_between(a: &str, b: &str) -> Option<(&'static Rename, bool)> {
    METRIC_RENAMES.iter().find_map(|r| {
        if r.old == a && r.new == b {
            Some((r, true))
        } else if r.old == b && r.new == a {
            Some((r, false))
        } else {
            None
        }
    })
}

/// Whether attribute keys `old` and `new` are one rename of the conventions.
pub fn is_attribute_rename(old: &str, new: &str) -> bool {
    ATTRIBUTE_RENAMES
        .iter()
        .any(|r| r.old == old && r.new == new)
}

/// The semantic-conventions release a schema URL names: the last path
/// segment when it looks like a version
/// (`https://opentelemetry.io/schemas/1.26.0` → `1.26.0`).
pub fn schema_version(url: &str) -> Option<&str> {
    let last = url.trim_end_matches('/').rsplit('/').next()?;
    let mut parts = last.split('.');
    let numeric = parts.clone().count() >= 2
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric.then_some(last)
}

/// Compares two `major.minor.patch` versions numerically (missing parts are
/// 0); None when either is not numeric.
pub fn compare_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let parse = |v: &str| -> Option<Vec<u64>> { v.split('.').map(|p| p.parse().ok()).collect() };
    let (mut a, mut b) = (parse(a)?, parse(b)?);
    let len = a.len().max(b.len());
    a.resize(len, 0);
    b.resize(len, 0);
    Some(a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_have_no_duplicates_and_name_versions() {
        for table in [METRIC_RENAMES, ATTRIBUTE_RENAMES] {
            let mut olds: Vec<&str> = table.iter().map(|d| d.old).collect();
            olds.sort_unstable();
            let count = olds.len();
            olds.dedup();
            assert_eq!(olds.len(), count);
            assert!(table.iter().all(|d| d.since.starts_with("1.")));
        }
    }

    #[test]
    fn renames_are_found_in_either_direction_with_their_unit_change() {
        let (rename, a_is_old) =
            metric_rename_between("http.server.request.duration", "http.server.duration")
                .expect("a rename");
        assert!(!a_is_old);
        assert_eq!(rename.since, "1.22.0");
        assert_eq!(
            rename.unit,
            Some(UnitChange {
                old: "ms",
                new: "s"
            })
        );
        assert!(metric_rename_between("http.server.duration", "http.client.duration").is_none());
        assert!(is_attribute_rename("http.method", "http.request.method"));
        assert!(!is_attribute_rename("http.request.method", "http.method"));
        assert!(!attribute_rename("http.target").unwrap().has_replacement());
        assert!(!attribute_rename("db.user").unwrap().has_replacement());
        assert!(attribute_rename("http.url").unwrap().has_replacement());
    }

    #[test]
    fn schema_urls_name_their_release() {
        assert_eq!(
            schema_version("https://opentelemetry.io/schemas/1.26.0"),
            Some("1.26.0")
        );
        assert_eq!(
            schema_version("https://opentelemetry.io/schemas/1.21.0/"),
            Some("1.21.0")
        );
        assert_eq!(schema_version("https://example.com/schemas/latest"), None);
        assert_eq!(schema_version(""), None);
        assert_eq!(
            compare_versions("1.9.0", "1.21.0"),
            Some(std::cmp::Ordering::Less)
        );
        assert_eq!(
            compare_versions("1.22", "1.22.0"),
            Some(std::cmp::Ordering::Equal)
        );
    }
}
