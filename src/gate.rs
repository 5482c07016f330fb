//! The parity gate of `otel-parity report`: a deploy pipeline promotes a
//! candidate only when its coverage reaches a floor and no open finding is at
//! or above a severity. Accepted findings never fail the gate; findings whose
//! acceptance expired do.

use otel_parity_compare::Report;
use otel_parity_compare::report::Severity;

/// Open findings listed under a failed severity condition, at most.
const LISTED_FINDINGS: usize = 10;

/// What the report must satisfy (`--fail-under-coverage`, `--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Gate {
    /// Coverage below this fails.
    pub min_coverage: Option<f64>,
    /// An open finding of this severity or worse fails.
    pub fail_on: Option<Severity>,
}

/// The gate's judgement of one report: one line per condition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    /// Conditions that held, for the log.
    pub passed: Vec<String>,
    /// Conditions that failed, with what failed them.
    pub failed: Vec<String>,
}

impl Gate {
    /// Whether any condition is set.
    pub fn is_set(&self) -> bool {
        self.min_coverage.is_some() || self.fail_on.is_some()
    }

    /// Judges `report`.
    pub fn judge(&self, report: &Report) -> Verdict {
        let mut verdict = Verdict::default();
        if let Some(floor) = self.min_coverage {
            let coverage = report.scores.coverage;
            if coverage < floor {
                verdict.failed.push(format!(
                    "telemetry parity coverage {} is under --fail-under-coverage {}",
                    percent(coverage),
                    percent(floor)
                ));
            } else {
                verdict.passed.push(format!(
                    "telemetry parity coverage {} is at least {}",
                    percent(coverage),
                    percent(floor)
                ));
            }
        }
        if let Some(severity) = self.fail_on {
            let failing: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.status.penalizes() && f.severity <= severity)
                .collect();
            if failing.is_empty() {
                verdict
                    .passed
                    .push(format!("no open finding at or above {}", severity.as_str()));
            } else {
                let by_severity: Vec<String> = Severity::ALL
                    .iter()
                    .filter_map(|s| {
                        let n = failing.iter().filter(|f| f.severity == *s).count();
                        (n > 0).then(|| format!("{n} {}", s.as_str()))
                    })
                    .collect();
                let mut line = format!(
                    "{} open finding{} at or above --fail-on {} ({}):",
                    failing.len(),
                    if failing.len() == 1 { "" } else { "s" },
                    severity.as_str(),
                    by_severity.join(", ")
                );
                let mut sorted = failing.clone();
                sorted.sort_by_key(|f| f.severity);
                for finding in sorted.iter().take(LISTED_FINDINGS) {
                    line.push_str(&format!(
                        "\n  [{}] {} {} {}: {}",
                        finding.severity.as_str(),
                        finding.service,
                        finding.dimension.as_str(),
                        finding.subject,
                        finding.message
                    ));
                }
                if sorted.len() > LISTED_FINDINGS {
                    line.push_str(&format!(
                        "\n  … and {} more",
                        sorted.len() - LISTED_FINDINGS
                    ));
                }
                verdict.failed.push(line);
            }
        }
        verdict
    }
}

/// Parses a `--fail-on` value: a severity name.
pub fn parse_severity(name: &str) -> Result<Severity, String> {
    Severity::ALL
        .into_iter()
        .find(|s| s.as_str() == name)
        .ok_or_else(|| format!("{name:?} is not a severity: critical, high, medium, low or info"))
}

/// Parses a `--fail-under-coverage` value: a ratio in [0, 1].
pub fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err(format!(
            "{text:?} is not a coverage ratio between 0 and 1 (e.g. 0.9)"
        )),
    }
}

/// `83.3%`, as the report's text shows ratios.
fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

#[cfg(test)]
mod tests {
    use otel_parity_compare::report::{Dimension, ParityFinding, Scores, Severity, Status};

    use super::*;

    fn finding(severity: Severity, status: Status, service: &str) -> ParityFinding {
        ParityFinding {
            dimension: Dimension::MissingTraces,
            service: service.into(),
            subject: "spans".into(),
            baseline: "412".into(),
            candidate: "0".into(),
            severity,
            status,
            message: "service sends spans in prod, none in staging".into(),
            accepted: None,
        }
    }

    fn report(coverage: f64, findings: Vec<ParityFinding>) -> Report {
        Report {
            baseline: "prod".into(),
            candidate: "staging".into(),
            findings,
            scores: Scores {
                coverage,
                services: Default::default(),
                composite: 80.0,
                parts: Default::default(),
            },
        }
    }

    #[test]
    fn coverage_below_the_floor_fails_and_at_the_floor_passes() {
        let gate = Gate {
            min_coverage: Some(0.9),
            fail_on: None,
        };
        let verdict = gate.judge(&report(5.0 / 6.0, vec![]));
        assert_eq!(
            verdict.failed,
            ["telemetry parity coverage 83.3% is under --fail-under-coverage 90.0%"]
        );
        let verdict = gate.judge(&report(0.9, vec![]));
        assert!(verdict.failed.is_empty(), "{verdict:?}");
        assert_eq!(
            verdict.passed,
            ["telemetry parity coverage 90.0% is at least 90.0%"]
        );
    }

    #[test]
    fn open_and_expired_findings_at_or_above_the_severity_fail_accepted_ones_do_not() {
        let findings = vec![
            finding(Severity::Critical, Status::Accepted, "shop/payment"),
            finding(Severity::High, Status::AcceptanceExpired, "shop/cart"),
            finding(Severity::Medium, Status::Open, "shop/checkout"),
        ];
        let judge = |severity| {
            Gate {
                min_coverage: None,
                fail_on: Some(severity),
            }
            .judge(&report(1.0, findings.clone()))
        };
        // The accepted critical does not count.
        assert_eq!(
            judge(Severity::Critical).passed,
            ["no open finding at or above critical"]
        );
        let high = judge(Severity::High);
        assert_eq!(
            high.failed,
            [
                "1 open finding at or above --fail-on high (1 high):\n  [high] shop/cart missing_traces spans: service sends spans in prod, none in staging"
            ]
        );
        let medium = judge(Severity::Medium);
        assert!(
            medium.failed[0].starts_with("2 open findings at or above --fail-on medium (1 high, 1 medium):\n  [high] shop/cart"),
            "{medium:?}"
        );
    }

    #[test]
    fn both_conditions_are_judged_and_reported() {
        let gate = Gate {
            min_coverage: Some(0.95),
            fail_on: Some(Severity::Critical),
        };
        let many: Vec<_> = (0..12)
            .map(|i| finding(Severity::Critical, Status::Open, &format!("shop/s{i:02}")))
            .collect();
        let verdict = gate.judge(&report(0.5, many));
        assert_eq!(verdict.failed.len(), 2);
        assert!(
            verdict.failed[1].ends_with("\n  … and 2 more"),
            "{verdict:?}"
        );
        assert_eq!(verdict.failed[1].lines().count(), 12);
    }

    #[test]
    fn flag_values_are_parsed_strictly() {
        assert_eq!(parse_ratio("0.9"), Ok(0.9));
        assert_eq!(parse_ratio("1"), Ok(1.0));
        assert!(parse_ratio("90").unwrap_err().contains("between 0 and 1"));
        assert!(parse_ratio("NaN").is_err());
        assert_eq!(parse_severity("high"), Ok(Severity::High));
        assert!(
            parse_severity("error")
                .unwrap_err()
                .contains("critical, high")
        );
    }
}
