//! Lint findings: which rule, at which level, about what in which service, and how to fix it.

use std::fmt;

use serde::Serialize;

use super::config::LintConfig;
use super::level::Level;
use super::rules::RuleId;

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
}

/// Collects findings, applying the config's levels and dropping disabled rules.
pub struct Findings<'a> {
    config: &'a LintConfig,
    found: Vec<Finding>,
}

impl<'a> Findings<'a> {
    /// An empty collection under `config`.
    pub fn new(config: &'a LintConfig) -> Self {
        Self {
            config,
            found: Vec::new(),
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
            self.found.push(Finding {
                rule,
                level,
                service: service.to_owned(),
                subject,
                message: message.into(),
                hint: hint.into(),
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
