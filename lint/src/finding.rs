//! Lint findings: which rule, at which level, about what in which service, and how to fix it.

use std::fmt;

use serde::Serialize;

use super::baseline::Baseline;
use super::config::LintConfig;
use super::level::Level;
use super::rules::{Family, RuleId};

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// The service as a whole.
    Service,
    /// A metric name.
    Metric,
    /// An attribute key.
    Attribute,
    /// A span operation (name and kind).
    SpanOperation,
    /// A log event name.
    LogEvent,
}

impl SubjectKind {
    /// The kind as reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Service => "service",
            SubjectKind::Metric => "metric",
            SubjectKind::Attribute => "attribute",
            SubjectKind::SpanOperation => "span_operation",
            SubjectKind::LogEvent => "log_event",
        }
    }
}

/// The thing a finding is about, e.g. metric `http.server.duration`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Subject {
    /// What kind of thing.
    pub kind: SubjectKind,
    /// Its name (for a span operation, `name (kind)`).
    pub name: String,
}

impl Subject {
    /// Metric `name`.
    pub fn metric(name: &str) -> Self {
        Self {
            kind: SubjectKind::Metric,
            name: name.to_owned(),
        }
    }

    /// Attribute key `key`.
    pub fn attribute(key: &str) -> Self {
        Self {
            kind: SubjectKind::Attribute,
            name: key.to_owned(),
        }
    }

    /// The service itself.
    pub fn service(key: &str) -> Self {
        Self {
            kind: SubjectKind::Service,
            name: key.to_owned(),
        }
    }

    /// Span operation `name` of `kind`.
    pub fn span_operation(name: &str, kind: &str) -> Self {
        Self {
            kind: SubjectKind::SpanOperation,
            name: format!("{name} ({kind})"),
        }
    }

    /// Log event `name`.
    pub fn log_event(name: &str) -> Self {
        Self {
            kind: SubjectKind::LogEvent,
            name: name.to_owned(),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            SubjectKind::Service => "service",
            SubjectKind::Metric => "metric",
            SubjectKind::Attribute => "attribute",
            SubjectKind::SpanOperation => "span operation",
            SubjectKind::LogEvent => "log event",
        };
        write!(f, "{kind} `{}`", self.name)
    }
}

/// One problem lint found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that found it.
    pub rule: RuleId,
    /// Its level after the rules file's overrides.
    pub level: Level,
    /// The service key it was found in.
    pub service: String,
    /// What it is about.
    pub subject: Subject,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it.
    pub hint: String,
    /// A naming or semantic-convention finding about a metric the baseline
    /// already has: kept at most at warning level (the ratchet), and shown
    /// as grandfathered.
    pub grandfathered: bool,
}

impl Finding {
    /// The finding's message, marked when the ratchet grandfathered it.
    pub fn marked_message(&self) -> String {
        if self.grandfathered {
            format!(
                "{} (grandfathered: in the baseline, so at most a warning)",
                self.message
            )
        } else {
            self.message.clone()
        }
    }
}

/// Collects findings, applying the config's levels, the baseline's ratchet,
/// and dropping disabled rules.
pub struct Findings<'a> {
    config: &'a LintConfig,
    baseline: Option<&'a Baseline>,
    found: Vec<Finding>,
}

/// The most a grandfathered finding weighs: it never fails a build at the
/// default `--fail-on error`.
const GRANDFATHERED_LEVEL: Level = Level::Warning;

impl<'a> Findings<'a> {
    /// An empty collection under `config`.
    pub fn new(config: &'a LintConfig) -> Self {
        Self {
            config,
            baseline: None,
            found: Vec::new(),
        }
    }

    /// Applies the ratchet of `baseline`: naming and semantic-convention
    /// findings about metrics it already has are grandfathered (at most
    /// warnings); about metrics it does not have, they are errors unless
    /// the rules file sets the rule's level.
    pub fn ratchet(mut self, baseline: Option<&'a Baseline>) -> Self {
        self.baseline = baseline;
        self
    }

    /// The level of a finding of `rule` at `level` about `subject` in
    /// `service` under the ratchet, and whether it is grandfathered.
    fn ratcheted(
        &self,
        rule: RuleId,
        level: Level,
        service: &str,
        subject: &Subject,
    ) -> (Level, bool) {
        let Some(baseline) = self.baseline else {
            return (level, false);
        };
        let naming = matches!(
            rule.rule().family,
            Family::Naming | Family::SemanticConventions
        );
        if !naming || subject.kind != SubjectKind::Metric {
            return (level, false);
        }
        let known = baseline
            .services
            .get(service)
            .is_some_and(|s| s.metrics.contains_key(&subject.name));
        if known {
            (level.min(GRANDFATHERED_LEVEL), true)
        } else if self.config.is_overridden(rule) {
            (level, false)
        } else {
            (Level::Error, false)
        }
    }

    /// The config the findings are collected under.
    pub fn config(&self) -> &'a LintConfig {
        self.config
    }

    /// Records a finding of `rule` unless the rule is disabled.
    pub fn push(
        &mut self,
        rule: RuleId,
        service: &str,
        subject: Subject,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        if let Some(level) = self.config.level(rule) {
            let (level, grandfathered) = self.ratcheted(rule, level, service, &subject);
            self.found.push(Finding {
                rule,
                level,
                service: service.to_owned(),
                subject,
                message: message.into(),
                hint: hint.into(),
                grandfathered,
            });
        }
    }

    /// The findings, sorted by service, rule and subject, without duplicates.
    pub fn into_sorted(mut self) -> Vec<Finding> {
        self.found.sort_by(|a, b| {
            (&a.service, a.rule, &a.subject, &a.message)
                .cmp(&(&b.service, b.rule, &b.subject, &b.message))
        });
        self.found.dedup();
        self.found
    }
}
