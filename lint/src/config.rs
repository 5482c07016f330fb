//! The rules file (`--rules FILE`): rule levels, disabled rules and thresholds.
//!
//! ```yaml
//! rules:
//!   OTP-M009: { level: error }
//!   OTP-M010: { enabled: false }
//! high_cardinality_threshold: 1000
//! max_name_length: 255
//! high_cardinality_keys: [tenant.id]
//! ```
//! Unknown keys and unknown rule IDs are errors that name them; `${env:VAR}`
//! references expand as in every otel-parity config file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use otel_parity_runtime::env::process_env;
use otel_parity_runtime::yaml::Document;
use serde::Deserialize;

use super::error::Error;
use super::level::Level;
use super::rules::RuleId;

/// Distinct values of one metric attribute above which OTP-C002 reports it.
pub const DEFAULT_HIGH_CARDINALITY_THRESHOLD: f64 = 1000.0;
/// The API's limit on instrument names.
pub const DEFAULT_MAX_NAME_LENGTH: usize = 255;

/// How a lint run is configured: per-rule levels and thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct LintConfig {
    /// Per-rule overrides; `None` disables the rule.
    overrides: BTreeMap<RuleId, Option<Level>>,
    /// OTP-C002 reports metric attributes with more distinct values than this.
    pub high_cardinality_threshold: f64,
    /// OTP-M004 reports metric names longer than this.
    pub max_name_length: usize,
    /// Keys OTP-C001 reports on metrics, in addition to the built-in list.
    pub high_cardinality_keys: BTreeSet<String>,
}

impl Default for LintConfig {
    fn default() -> Self {
        Self {
            overrides: BTreeMap::new(),
            high_cardinality_threshold: DEFAULT_HIGH_CARDINALITY_THRESHOLD,
            max_name_length: DEFAULT_MAX_NAME_LENGTH,
            high_cardinality_keys: BTreeSet::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rules: BTreeMap<String, RuleSetting>,
    high_cardinality_threshold: Option<f64>,
    max_name_length: Option<usize>,
    #[serde(default)]
    high_cardinality_keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSetting {
    level: Option<Level>,
    enabled: Option<bool>,
}

impl LintConfig {
    /// Reads a rules file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::RulesRead {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses rules-file text; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, Error> {
        let error = |message: String| Error::Rules {
            path: origin.to_owned(),
            message,
        };
        let yaml_error = |source| Error::RulesYaml {
            path: origin.to_owned(),
            source,
        };
        let file = Document::parse(text, &process_env)
            .and_then(Document::deserialize::<RulesFile>)
            .map_err(yaml_error)?;
        let Some(file) = file else {
            return Ok(Self::default());
        };
        let mut config = Self::default();
        for (id, setting) in file.rules {
            let rule = RuleId::from_id(&id).ok_or_else(|| {
                error(format!(
                    "rules.{id}: unknown rule ID (rules are {})",
                    RuleId::ALL.map(RuleId::id).join(", ")
                ))
            })?;
            let level = setting.level.unwrap_or(rule.rule().level);
            let enabled = setting.enabled.unwrap_or(true);
            config.overrides.insert(rule, enabled.then_some(level));
        }
        if let Some(threshold) = file.high_cardinality_threshold {
            if !(threshold.is_finite() && threshold >= 1.0) {
                return Err(error(format!(
                    "high_cardinality_threshold: must be a number of at least 1, found {threshold}"
                )));
            }
            config.high_cardinality_threshold = threshold;
        }
        if let Some(length) = file.max_name_length {
            if length == 0 {
                return Err(error("max_name_length: must be at least 1".into()));
            }
            config.max_name_length = length;
        }
        config.high_cardinality_keys = file.high_cardinality_keys.into_iter().collect();
        Ok(config)
    }

    /// The level `rule` reports at, or `None` when it is disabled.
    pub fn level(&self, rule: RuleId) -> Option<Level> {
        match self.overrides.get(&rule) {
            Some(setting) => *setting,
            None => Some(rule.rule().level),
        }
    }

    /// Whether the rules file sets `rule`'s level or disables it (the
    /// baseline's ratchet then leaves its level alone).
    pub fn is_overridden(&self, rule: RuleId) -> bool {
        self.overrides.contains_key(&rule)
    }

    /// Whether `rule` runs.
    pub fn is_enabled(&self, rule: RuleId) -> bool {
        self.level(rule).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_error(text: &str) -> String {
        LintConfig::parse(text, "rules.yaml")
            .expect_err("must be rejected")
            .to_string()
    }

    #[test]
    fn levels_are_overridden_and_rules_disabled() {
        let config = LintConfig::parse(
            "rules:\n  OTP-M009: {level: error}\n  OTP-M010: {enabled: false}\nhigh_cardinality_threshold: 50\nmax_name_length: 64\nhigh_cardinality_keys: [tenant.id]\n",
            "rules.yaml",
        )
        .unwrap();
        assert_eq!(
            config.level(RuleId::MetricUnitDurationSeconds),
            Some(Level::Error)
        );
        assert_eq!(config.level(RuleId::MetricUnitCountAnnotation), None);
        assert_eq!(config.level(RuleId::MetricNameSyntax), Some(Level::Error));
        assert_eq!(config.level(RuleId::MetricNameUnit), Some(Level::Error));
        assert_eq!(
            config.level(RuleId::MetricNameNamespace),
            Some(Level::Warning)
        );
        assert!(config.is_overridden(RuleId::MetricUnitCountAnnotation));
        assert!(!config.is_overridden(RuleId::MetricNameUnit));
        assert_eq!(config.high_cardinality_threshold, 50.0);
        assert_eq!(config.max_name_length, 64);
        assert!(config.high_cardinality_keys.contains("tenant.id"));
    }

    #[test]
    fn an_empty_file_keeps_the_defaults() {
        assert_eq!(
            LintConfig::parse("", "rules.yaml").unwrap(),
            LintConfig::default()
        );
        assert_eq!(
            LintConfig::parse("# nothing\n", "rules.yaml").unwrap(),
            LintConfig::default()
        );
    }

    #[test]
    fn unknown_rule_ids_keys_and_levels_are_named() {
        let cases = [
            (
                "rules:\n  OTP-X999: {level: error}\n",
                "rules.OTP-X999: unknown rule ID",
            ),
            (
                "rules:\n  OTP-M001: {levle: error}\n",
                "rules.OTP-M001.levle: unknown field `levle`, expected `level` or `enabled`",
            ),
            ("max_name_lenght: 10\n", "unknown field `max_name_lenght`"),
            (
                "rules:\n  OTP-M001: {level: fatal}\n",
                "rules.OTP-M001.level: unknown variant `fatal`",
            ),
            (
                "high_cardinality_threshold: 0\n",
                "high_cardinality_threshold: must be",
            ),
            (
                "max_name_length: 0\n",
                "max_name_length: must be at least 1",
            ),
            ("rules: [OTP-M001]\n", "rules: invalid type"),
            (
                "rules: {OTP-M001: {level: error}\n",
                "invalid rules file rules.yaml",
            ),
        ];
        for (text, expected) in cases {
            let message = parse_error(text);
            assert!(
                message.starts_with("invalid rules file rules.yaml: ")
                    && message.contains(expected),
                "{text:?}: {message}"
            );
        }
    }
}
