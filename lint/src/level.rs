//! Finding levels: how much a finding matters, and where `--fail-on` draws the line.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How much a finding matters. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing; never fails a build unless `--fail-on info`.
    Info,
    /// Should be fixed; fails the build with `--fail-on warning`.
    Warning,
    /// Breaks conventions or promises; fails the build by default.
    Error,
}

impl Level {
    /// Every level, most severe first (the order reports list them in).
    pub const ALL: [Level; 3] = [Level::Error, Level::Warning, Level::Info];

    /// The level's name as the CLI and the rules file spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "info" => Ok(Level::Info),
            "warning" => Ok(Level::Warning),
            "error" => Ok(Level::Error),
            other => Err(format!(
                "unknown level {other:?} (expected error, warning or info)"
            )),
        }
    }
}
