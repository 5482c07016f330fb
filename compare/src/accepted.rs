//! Accepted differences: findings a team has decided to live with, for a
//! while. Each entry matches findings by service glob, optional dimension and
//! subject glob, and carries a reason, an owner and an expiry date. Until it
//! expires a matching finding is reported as accepted (and does not count
//! against the score); after, it is open again and says whose acceptance
//! lapsed.
//!
//! ```yaml
//! accepted:
//!   - service: "shop/*"
//!     dimension: metric_definitions
//!     subject: "app.legacy.*"
//!     reason: legacy metrics are only exported in prod
//!     owner: team-x
//!     expires: 2026-12-31
//! ```
//!
//! Globs: `*` matches any run of characters (`/` and `.` included), `?` one
//! character; everything else matches itself. A missing `service` or
//! `subject` matches everything, but an entry needs at least one matcher.
//! `${env:VAR}` references expand as in every otel-parity config file.

use std::path::{Path, PathBuf};

use otel_parity_runtime::YamlError;
use otel_parity_runtime::env::process_env;
use otel_parity_runtime::yaml::Document;
use serde_yaml_ng::Value;

use crate::date::Date;
use crate::report::{Acceptance, Dimension, ParityFinding, Status};

/// One accepted difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedDifference {
    /// Glob over the finding's service key ("shop/*").
    pub service: String,
    /// The dimension it applies to; `None` for every dimension.
    pub dimension: Option<Dimension>,
    /// Glob over the finding's subject ("app.legacy.*").
    pub subject: String,
    /// Why the difference is fine.
    pub reason: String,
    /// Who accepted it, and whom to ask.
    pub owner: String,
    /// Last day on which the acceptance holds.
    pub expires: Date,
}

impl AcceptedDifference {
    /// Whether this entry's matcher selects the finding (expired or not).
    pub fn matches(&self, finding: &ParityFinding) -> bool {
        self.dimension.is_none_or(|d| d == finding.dimension)
            && glob_match(&self.service, &finding.service)
            && glob_match(&self.subject, &finding.subject)
    }

    /// Whether the acceptance still holds on `today` (the expiry day included).
    pub fn is_active(&self, today: Date) -> bool {
        self.expires >= today
    }
}

/// Why an accepted-differences file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AcceptedError {
    /// The file could not be read.
    #[error("cannot read accepted differences {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The text is not YAML.
    #[error("{origin}: not valid YAML: {source}")]
    Yaml { origin: String, source: YamlError },
    /// An `${env:…}` reference does not end.
    #[error("{origin}: {source}")]
    Env { origin: String, source: YamlError },
    /// The document is not a mapping with an `accepted` list.
    #[error("{origin}: {message}")]
    Document { origin: String, message: String },
    /// An entry of the `accepted` list is wrong; `index` counts from 0.
    #[error("{origin}: accepted[{index}].{key}: {message}")]
    Entry {
        origin: String,
        index: usize,
        key: String,
        message: String,
    },
}

/// Reads and checks an accepted-differences file.
pub fn load_accepted(path: &Path) -> Result<Vec<AcceptedDifference>, AcceptedError> {
    let text = std::fs::read_to_string(path).map_err(|source| AcceptedError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_accepted(&text, &path.display().to_string())
}

const KEYS: [&str; 6] = [
    "service",
    "dimension",
    "subject",
    "reason",
    "owner",
    "expires",
];

/// Parses accepted differences from YAML; `origin` names the text in errors.
/// Unknown keys, a missing reason, owner or expiry, a bad date and an unknown
/// dimension are errors that name the entry and the key.
pub fn parse_accepted(text: &str, origin: &str) -> Result<Vec<AcceptedDifference>, AcceptedError> {
    let document = Document::parse(text, &process_env)
        .map_err(|source| match source {
            YamlError::Syntax(_) => AcceptedError::Yaml {
                origin: origin.to_owned(),
                source,
            },
            _ => AcceptedError::Env {
                origin: origin.to_owned(),
                source,
            },
        })?
        .into_value();
    let doc_error = |message: String| AcceptedError::Document {
        origin: origin.to_owned(),
        message,
    };
    let top = match document {
        Value::Null => return Ok(Vec::new()),
        Value::Mapping(top) => top,
        _ => {
            return Err(doc_error(
                "expected a mapping with an `accepted` list".into(),
            ));
        }
    };
    let mut entries = None;
    for (key, value) in top {
        match key.as_str() {
            Some("accepted") => entries = Some(value),
            Some(other) => return Err(doc_error(format!("{other}: unknown field"))),
            None => return Err(doc_error("keys must be strings".into())),
        }
    }
    let entries = match entries {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Sequence(entries)) => entries,
        Some(_) => return Err(doc_error("accepted: expected a list of entries".into())),
    };
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| parse_entry(index, entry, origin))
        .collect()
}

fn parse_entry(
    index: usize,
    entry: Value,
    origin: &str,
) -> Result<AcceptedDifference, AcceptedError> {
    let error = |key: &str, message: String| AcceptedError::Entry {
        origin: origin.to_owned(),
        index,
        key: key.to_owned(),
        message,
    };
    let Value::Mapping(map) = entry else {
        return Err(error("", "expected a mapping".into()));
    };
    let mut fields: [Option<String>; 6] = Default::default();
    for (key, value) in map {
        let Some(key) = key.as_str() else {
            return Err(error("?", "keys must be strings".into()));
        };
        let Some(slot) = KEYS.iter().position(|k| *k == key) else {
            return Err(error(
                key,
                format!("unknown field, expected one of {}", KEYS.join(", ")),
            ));
        };
        let text = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(error(key, "expected a string".into())),
        };
        fields[slot] = Some(text);
    }
    let [service, dimension, subject, reason, owner, expires] = fields;
    let required = |value: Option<String>, key: &str| match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(error(key, "missing (required)".into())),
    };
    let reason = required(reason, "reason")?;
    let owner = required(owner, "owner")?;
    let expires_text = required(expires, "expires")?;
    let expires = Date::parse(&expires_text).ok_or_else(|| {
        error(
            "expires",
            format!("{expires_text:?} is not a date (YYYY-MM-DD)"),
        )
    })?;
    let dimension = match dimension {
        None => None,
        Some(name) => Some(Dimension::from_name(&name).ok_or_else(|| {
            let known: Vec<&str> = Dimension::ALL.iter().map(|d| d.as_str()).collect();
            error(
                "dimension",
                format!(
                    "unknown dimension {name:?}, expected one of {}",
                    known.join(", ")
                ),
            )
        })?),
    };
    if service.is_none() && subject.is_none() && dimension.is_none() {
        return Err(error(
            "service",
            "an entry needs at least one of service, dimension, subject".into(),
        ));
    }
    Ok(AcceptedDifference {
        service: service.unwrap_or_else(|| "*".into()),
        dimension,
        subject: subject.unwrap_or_else(|| "*".into()),
        reason,
        owner,
        expires,
    })
}

/// Marks findings matched by an accepted difference: accepted while an
/// acceptance holds on `today`, else acceptance_expired with a message that
/// says whose acceptance expired when. An active match wins over an expired
/// one; among several, the latest expiry.
pub fn apply_accepted(
    findings: &mut [ParityFinding],
    accepted: &[AcceptedDifference],
    today: Date,
) {
    for finding in findings {
        let best = accepted
            .iter()
            .filter(|a| a.matches(finding))
            .max_by_key(|a| (a.is_active(today), a.expires));
        let Some(entry) = best else { continue };
        finding.accepted = Some(Acceptance {
            reason: entry.reason.clone(),
            owner: entry.owner.clone(),
            expires: entry.expires,
        });
        if entry.is_active(today) {
            finding.status = Status::Accepted;
        } else {
            finding.status = Status::AcceptanceExpired;
            finding.message = format!(
                "acceptance by {} expired {}: {}",
                entry.owner, entry.expires, finding.message
            );
        }
    }
}

/// `*` any run of characters, `?` one character, else literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and where in the text it is trying to resume.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((star_p, star_t)) = star {
            pi = star_p + 1;
            ti = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_signs_follow_the_config_rules_and_a_broken_reference_is_named() {
        let text = "accepted:\n  - service: shop/*\n    reason: costs $$5 a day\n    owner: team-x\n    expires: 2026-12-31\n";
        let entries = parse_accepted(text, "a.yaml").unwrap();
        assert_eq!(entries[0].reason, "costs $5 a day");
        let broken = "accepted:\n  - service: shop/*\n    reason: x-${env:REASON\n    owner: team-x\n    expires: 2026-12-31\n";
        let error = parse_accepted(broken, "a.yaml").unwrap_err();
        assert!(matches!(error, AcceptedError::Env { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            "a.yaml: unterminated ${env:…} in \"x-${env:REASON\""
        );
    }
}
