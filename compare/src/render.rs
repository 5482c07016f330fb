//! A report for people: text for terminals (ANSI colours optional) and
//! markdown for pull requests and wikis.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::{Dimension, ParityFinding, Report, ServiceScores, Severity, Status};

impl Report {
    /// For people: a header with the scores, then findings grouped by
    /// service, worst service first. ANSI colours only when `color`.
    pub fn render_text(&self, color: bool) -> String {
        let paint = |code: &str, text: &str| {
            if color {
                format!("{code}{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} {} (candidate) against {} (baseline)",
            paint("\x1b[1m", "otel-parity report:"),
            self.candidate,
            self.baseline
        );
        let _ = writeln!(
            out,
            "telemetry parity coverage {}  composite score {:.1}/100",
            percent(self.scores.coverage),
            self.scores.composite
        );
        let _ = writeln!(out, "findings: {}", self.summary());
        for (service, findings) in self.by_service() {
            let _ = writeln!(out);
            let _ = write!(out, "{}", paint("\x1b[1m", &service));
            if let Some(scores) = self.scores.services.get(&service) {
                let _ = write!(out, "  {}", service_summary(scores));
            }
            let _ = writeln!(out);
            for finding in findings {
                let tag = format!("[{}]", finding.severity.as_str().to_uppercase());
                let _ = write!(
                    out,
                    "  {} {}  {}: {}",
                    paint(ansi(finding.severity), &tag),
                    finding.dimension,
                    finding.subject,
                    finding.message
                );
                if let (Status::Accepted, Some(a)) = (finding.status, &finding.accepted) {
                    let note = format!(
                        "(accepted until {} by {}: {})",
                        a.expires, a.owner, a.reason
                    );
                    let _ = write!(out, " {}", paint("\x1b[2m", &note));
                }
                let _ = writeln!(out);
            }
        }
        out
    }

    /// For pull requests and wikis: a summary table, the score parts, then
    /// one findings table per service, worst service first.
    pub fn render_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Telemetry parity: {} against {}\n",
            cell(&self.candidate),
            cell(&self.baseline)
        );
        let _ = writeln!(out, "| | |\n|---|---|");
        let _ = writeln!(out, "| Baseline | {} |", cell(&self.baseline));
        let _ = writeln!(out, "| Candidate | {} |", cell(&self.candidate));
        let _ = writeln!(
            out,
            "| Telemetry parity coverage | {} |",
            percent(self.scores.coverage)
        );
        let _ = writeln!(
            out,
            "| Composite score | {:.1} / 100 |",
            self.scores.composite
        );
        let _ = writeln!(out, "| Findings | {} |", self.summary());
        let _ = writeln!(out, "\n## Score parts\n\n| Dimension | Score |\n|---|---|");
        for dimension in Dimension::ALL {
            if let Some(part) = self.scores.parts.get(dimension.as_str()) {
                let _ = writeln!(out, "| {dimension} | {part:.0} |");
            }
        }
        for (service, findings) in self.by_service() {
            let _ = writeln!(out, "\n## {}\n", cell(&service));
            if let Some(scores) = self.scores.services.get(&service) {
                let _ = writeln!(out, "{}\n", service_summary(scores));
            }
            let _ = writeln!(
                out,
                "| Severity | Dimension | Subject | {} | {} | Status | Message |",
                cell(&self.baseline),
                cell(&self.candidate)
            );
            let _ = writeln!(out, "|---|---|---|---|---|---|---|");
            for f in findings {
                let status = match (&f.status, &f.accepted) {
                    (Status::Accepted, Some(a)) => {
                        format!("accepted until {} by {}: {}", a.expires, a.owner, a.reason)
                    }
                    (status, _) => status.as_str().replace('_', " "),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    f.severity.as_str(),
                    f.dimension,
                    cell(&f.subject),
                    cell(&f.baseline),
                    cell(&f.candidate),
                    cell(&status),
                    cell(&f.message)
                );
            }
        }
        out
    }

    /// "1 critical, 0 high, …" plus how many are accepted.
    fn summary(&self) -> String {
        let counts = self.counts_by_severity();
        let mut parts: Vec<String> = counts
            .iter()
            .map(|(severity, n)| format!("{n} {}", severity.as_str()))
            .collect();
        let accepted = self
            .findings
            .iter()
            .filter(|f| f.status == Status::Accepted)
            .count();
        if accepted > 0 {
            parts.push(format!("({accepted} accepted)"));
        }
        parts.join(", ")
    }

    /// Findings grouped by service; services ordered by their worst finding,
    /// then by name; findings inside a group keep the report's order.
    fn by_service(&self) -> Vec<(String, Vec<&ParityFinding>)> {
        let mut groups: BTreeMap<&str, Vec<&ParityFinding>> = BTreeMap::new();
        for finding in &self.findings {
            groups.entry(&finding.service).or_default().push(finding);
        }
        let mut groups: Vec<(String, Vec<&ParityFinding>)> = groups
            .into_iter()
            .map(|(service, findings)| (service.to_owned(), findings))
            .collect();
        groups.sort_by_key(|(service, findings)| {
            let worst = findings.iter().map(|f| f.severity).min();
            (worst, service.clone())
        });
        groups
    }
}

/// One line of a service's coverages and ingestion ratios.
fn service_summary(scores: &ServiceScores) -> String {
    let mut line = format!(
        "metrics {}, spans {}, attribute keys {}, log events {}",
        percent(scores.metric_coverage),
        percent(scores.span_coverage),
        percent(scores.attribute_key_coverage),
        percent(scores.log_event_coverage)
    );
    if !scores.ingestion.is_empty() {
        let ratios: Vec<String> = scores
            .ingestion
            .iter()
            .map(|(signal, r)| format!("{signal} ×{:.2}", r.ratio))
            .collect();
        let _ = write!(line, "; ingestion per request {}", ratios.join(", "));
    }
    line
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// A markdown table cell: pipes escaped, line breaks flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The terminal colour of a severity's tag.
fn ansi(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "\x1b[1;31m",
        Severity::High => "\x1b[31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::Info => "\x1b[2m",
    }
}
