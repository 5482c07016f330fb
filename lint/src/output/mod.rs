//! Rendering a lint verdict: text for people, JSON, SARIF 2.1.0, JUnit XML and GitHub
//! workflow annotations.

pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use std::str::FromStr;

use super::config::LintConfig;
use super::finding::Finding;
use super::level::Level;
use super::rules::{Family, RuleId};

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Grouped by service, with rule IDs and fix hints, for people.
    Text,
    /// One JSON document with a summary and every finding.
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// JUnit XML: one test case per rule and service.
    Junit,
    /// GitHub Actions workflow commands (`::error title=…::…`).
    Github,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "junit" => Ok(Format::Junit),
            "github" => Ok(Format::Github),
            other => Err(format!(
                "unknown format {other:?} (expected text, json, sarif, junit or github)"
            )),
        }
    }
}

/// A lint run's verdict, ready to render.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// The findings, sorted.
    pub findings: &'a [Finding],
    /// The config the run used (levels, disabled rules).
    pub config: &'a LintConfig,
    /// Findings at or above this level fail the run.
    pub fail_on: Level,
    /// Every service linted (inputs and baseline), sorted.
    pub services: Vec<String>,
    /// The inputs as given on the command line.
    pub inputs: Vec<String>,
    /// The baseline file, when the run compared against one.
    pub baseline: Option<String>,
}

impl Report<'_> {
    /// Whether the run fails: some finding is at or above `fail_on`.
    pub fn fails(&self) -> bool {
        self.findings.iter().any(|f| f.level >= self.fail_on)
    }

    /// Findings at `level`.
    pub fn count(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }

    /// The rules this run applied: enabled ones, baseline rules only with a baseline.
    pub fn applied_rules(&self) -> Vec<RuleId> {
        RuleId::ALL
            .into_iter()
            .filter(|rule| self.config.is_enabled(*rule))
            .filter(|rule| self.baseline.is_some() || rule.rule().family != Family::Baseline)
            .collect()
    }

    /// The file a finding points at: the baseline for drift, else the first input.
    pub fn artifact(&self, finding: &Finding) -> Option<&str> {
        if finding.rule.rule().family == Family::Baseline
            && let Some(baseline) = &self.baseline
        {
            return Some(baseline);
        }
        self.inputs.first().map(String::as_str)
    }

    /// "2 errors, 1 warning, 0 info".
    pub fn summary(&self) -> String {
        let plural = |n: usize, word: &str| {
            if n == 1 || word == "info" {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        format!(
            "{}, {}, {}",
            plural(self.count(Level::Error), "error"),
            plural(self.count(Level::Warning), "warning"),
            plural(self.count(Level::Info), "info")
        )
    }

    /// Renders the report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => text::render(self),
            Format::Json => json::render(self),
            Format::Sarif => sarif::render(self),
            Format::Junit => junit::render(self),
            Format::Github => github::render(self),
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use otel_parity_proto::v1::SpanKind;

    use super::super::testing::{gauge, histogram, service, sum, telemetry};
    use super::super::{Baseline, LintConfig, lint};
    use super::*;

    /// The cart as it was and is: names the ratchet grandfathers.
    fn legacy_cart() -> super::super::testing::ServiceBuilder {
        service("shop/cart")
            .metric("CartItems", gauge("items"))
            .metric("app.cart.size", gauge("{item}").attr("user.id", 40.0))
    }

    /// Findings at every level across two services against a baseline: the checkout's
    /// drift and new metric, the cart's legacy names (grandfathered).
    pub fn findings() -> Vec<Finding> {
        let before = telemetry(vec![
            service("shop/checkout")
                .metric(
                    "http.server.request.duration",
                    histogram("s", &[0.1, 1.0]).attr("http.route", 2.0),
                )
                .span("POST /checkout", SpanKind::Server, &[]),
            legacy_cart(),
        ]);
        let baseline = Baseline::from_telemetry(&before);
        let after = telemetry(vec![
            service("shop/checkout")
                .metric(
                    "http.server.request.duration",
                    histogram("ms", &[0.1, 1.0]).attr("http.route", 2.0),
                )
                .metric("app.orders.placed", sum("{order}", true))
                .span("POST /checkout", SpanKind::Server, &[]),
            legacy_cart(),
        ]);
        lint(&after, &LintConfig::default(), Some(&baseline))
    }

    /// A report of [`findings`] failing at `fail_on`.
    pub fn report<'a>(
        findings: &'a [Finding],
        config: &'a LintConfig,
        fail_on: Level,
    ) -> Report<'a> {
        Report {
            findings,
            config,
            fail_on,
            services: vec!["shop/cart".into(), "shop/checkout".into()],
            inputs: vec!["out/snapshot.json".into()],
            baseline: Some("telemetry-baseline.yaml".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{findings, report};
    use super::*;

    #[test]
    fn the_fixture_has_findings_at_every_level() {
        let findings = findings();
        let config = LintConfig::default();
        let report = report(&findings, &config, Level::Error);
        assert!(report.count(Level::Error) > 0, "{findings:#?}");
        assert!(report.count(Level::Warning) > 0);
        assert!(report.count(Level::Info) > 0);
        assert!(report.fails());
    }

    #[test]
    fn fail_on_draws_the_line() {
        let config = LintConfig::default();
        let infos: Vec<Finding> = findings()
            .into_iter()
            .filter(|f| f.level == Level::Info)
            .collect();
        assert!(!report(&infos, &config, Level::Error).fails());
        assert!(!report(&infos, &config, Level::Warning).fails());
        assert!(report(&infos, &config, Level::Info).fails());
        assert!(!report(&[], &config, Level::Info).fails());
    }
}
