//! JUnit XML: one test suite per service and one test case per rule and service. A case
//! fails when the rule found something at or above `--fail-on` in that service; findings
//! below it are listed in the case's `<system-out>` and the case passes.

use std::fmt::Write as _;

use super::super::finding::Finding;
use super::Report;

/// Escapes text for XML content and attribute values, dropping characters XML 1.0 forbids.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

fn describe(finding: &Finding) -> String {
    format!(
        "{} {}: {}\nfix: {}",
        finding.level,
        finding.subject,
        finding.marked_message(),
        finding.hint
    )
}

/// Renders `report` as JUnit XML.
pub fn render(report: &Report<'_>) -> String {
    let rules = report.applied_rules();
    let mut suites = String::new();
    let (mut total_tests, mut total_failures) = (0, 0);
    for service in &report.services {
        let mut cases = String::new();
        let mut failures = 0;
        for rule in &rules {
            let found: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.rule == *rule && &f.service == service)
                .collect();
            let failing: Vec<&Finding> = found
                .iter()
                .copied()
                .filter(|f| f.level >= report.fail_on)
                .collect();
            let passing: Vec<&Finding> = found
                .iter()
                .copied()
                .filter(|f| f.level < report.fail_on)
                .collect();
            let info = rule.rule();
            let _ = write!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\">",
                escape(&format!("otel-parity.lint.{service}")),
                escape(&format!("{} {}", info.id, info.name))
            );
            if !failing.is_empty() {
                failures += 1;
                let level = failing
                    .iter()
                    .map(|f| f.level)
                    .max()
                    .unwrap_or(report.fail_on);
                let body: Vec<String> = failing.iter().map(|f| describe(f)).collect();
                let _ = write!(
                    cases,
                    "\n      <failure type=\"{level}\" message=\"{}\">{}</failure>",
                    escape(&format!(
                        "{} finding(s): {}",
                        failing.len(),
                        failing[0].message
                    )),
                    escape(&body.join("\n"))
                );
            }
            if !passing.is_empty() {
                let body: Vec<String> = passing.iter().map(|f| describe(f)).collect();
                let _ = write!(
                    cases,
                    "\n      <system-out>{}</system-out>",
                    escape(&body.join("\n"))
                );
            }
            if failing.is_empty() && passing.is_empty() {
                cases.push_str("</testcase>\n");
            } else {
                cases.push_str("\n    </testcase>\n");
            }
        }
        total_tests += rules.len();
        total_failures += failures;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>\n",
            escape(service),
            rules.len()
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"otel-parity lint\" tests=\"{total_tests}\" failures=\"{total_failures}\" errors=\"0\">\n{suites}</testsuites>\n"
    )
}

/// The number of test cases a report renders: applied rules × services.
pub fn case_count(report: &Report<'_>) -> usize {
    report.applied_rules().len() * report.services.len()
}

#[cfg(test)]
mod tests {
    use super::super::super::RuleId;
    use super::super::super::{Level, LintConfig};
    use super::super::fixtures::{findings, report};
    use super::*;

    #[test]
    fn a_real_xml_parser_reads_one_case_per_rule_and_service() {
        let findings = findings();
        let config = LintConfig::default();
        let report = report(&findings, &config, Level::Error);
        let xml = render(&report);
        let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let root = document.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        let cases: Vec<_> = root
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), case_count(&report));
        assert_eq!(cases.len(), RuleId::ALL.len() * 2);
        assert_eq!(
            root.attribute("tests"),
            Some(cases.len().to_string().as_str())
        );
        let failed: Vec<_> = cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .map(|c| {
                (
                    c.attribute("classname").unwrap(),
                    c.attribute("name").unwrap(),
                )
            })
            .collect();
        assert_eq!(
            failed,
            vec![(
                "otel-parity.lint.shop/checkout",
                "OTP-B005 baseline-metric-unit-changed"
            )]
        );
        assert_eq!(root.attribute("failures"), Some("1"));
        let lowercase = cases
            .iter()
            .find(|c| {
                c.attribute("name") == Some("OTP-M002 metric-name-lowercase")
                    && c.attribute("classname") == Some("otel-parity.lint.shop/cart")
            })
            .unwrap();
        let out = lowercase
            .children()
            .find(|n| n.has_tag_name("system-out"))
            .unwrap();
        assert!(
            out.text()
                .unwrap()
                .contains("`CartItems` has upper-case letters")
        );
    }

    #[test]
    fn without_a_baseline_there_are_no_baseline_cases_and_text_is_escaped() {
        let config = LintConfig::default();
        let mut report = report(&[], &config, Level::Error);
        report.baseline = None;
        report.services = vec!["a&b/<c>".into()];
        let xml = render(&report);
        let document = roxmltree::Document::parse(&xml).unwrap();
        let suite = document
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("name"), Some("a&b/<c>"));
        assert!(!xml.contains("OTP-B0"));
        assert_eq!(escape("x\u{1}y"), "xy");
    }
}
