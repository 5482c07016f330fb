//! SARIF 2.1.0 (OASIS), for code-scanning tools: one run whose driver lists every rule with
//! its configured level, and one result per finding with a logical location (service and
//! subject), a physical location (the baseline for drift, else the first input) and a
//! stable partial fingerprint.

use serde_json::{Value, json};

use super::super::finding::Finding;
use super::super::level::Level;
use super::super::rules::{Family, RuleId};
use super::Report;

/// The OASIS schema of SARIF 2.1.0 (errata 01).
pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "note",
    }
}

fn family_tag(family: Family) -> &'static str {
    match family {
        Family::Naming => "naming",
        Family::SemanticConventions => "semantic-conventions",
        Family::Cardinality => "cardinality",
        Family::Definitions => "definitions",
        Family::Baseline => "baseline",
    }
}

/// A path as a URI reference: `%` and characters outside the unreserved and path sets
/// are percent-encoded.
fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/:@!$&'()*+,;=".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// FNV-1a 64: a stable fingerprint across runs and Rust versions.
fn fingerprint(finding: &Finding) -> String {
    let text = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        finding.rule.id(),
        finding.service,
        finding.subject.kind.as_str(),
        finding.subject.name,
        finding.message
    );
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn rule_descriptor(rule: RuleId, report: &Report<'_>) -> Value {
    let info = rule.rule();
    let level = report.config.level(rule);
    let mut properties = json!({ "tags": ["opentelemetry", family_tag(info.family)] });
    if let Some(score) = info.instrumentation_score {
        properties["instrumentationScore"] = json!(score);
    }
    json!({
        "id": info.id,
        "name": info.name,
        "shortDescription": { "text": info.rationale },
        "help": { "text": info.help },
        "defaultConfiguration": {
            "enabled": level.is_some(),
            "level": sarif_level(level.unwrap_or(info.level)),
        },
        "properties": properties,
    })
}

fn result(finding: &Finding, report: &Report<'_>) -> Value {
    let mut location = json!({
        "logicalLocations": [{
            "name": finding.subject.name,
            "fullyQualifiedName": format!("{}/{}/{}", finding.service, finding.subject.kind.as_str(), finding.subject.name),
            "kind": finding.subject.kind.as_str(),
        }],
    });
    if let Some(artifact) = report.artifact(finding) {
        location["physicalLocation"] = json!({
            "artifactLocation": { "uri": uri_reference(artifact) },
        });
    }
    json!({
        "ruleId": finding.rule.id(),
        "ruleIndex": finding.rule as usize,
        "level": sarif_level(finding.level),
        "message": { "text": format!("{} ({}). Fix: {}", finding.marked_message(), finding.service, finding.hint) },
        "locations": [location],
        "partialFingerprints": { "otelParity/v1": fingerprint(finding) },
        "properties": {
            "service": finding.service,
            "hint": finding.hint,
            "grandfathered": finding.grandfathered,
        },
    })
}

/// Renders `report` as a SARIF 2.1.0 log.
pub fn render(report: &Report<'_>) -> String {
    let rules: Vec<Value> = RuleId::ALL
        .into_iter()
        .map(|rule| rule_descriptor(rule, report))
        .collect();
    let results: Vec<Value> = report.findings.iter().map(|f| result(f, report)).collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "otel-parity",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                },
            },
            "invocations": [{ "executionSuccessful": true }],
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::super::super::LintConfig;
    use super::super::fixtures::{findings, report};
    use super::*;

    #[test]
    fn results_reference_their_rule_and_location() {
        let findings = findings();
        let config = LintConfig::parse(
            "rules: {OTP-M010: {enabled: false}, OTP-M002: {level: error}}",
            "r",
        )
        .unwrap();
        let log: Value =
            serde_json::from_str(&render(&report(&findings, &config, Level::Error))).unwrap();
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), RuleId::ALL.len());
        assert_eq!(
            rules[RuleId::MetricUnitCountAnnotation as usize]["defaultConfiguration"]["enabled"],
            false
        );
        assert_eq!(
            rules[RuleId::MetricNameLowercase as usize]["defaultConfiguration"]["level"],
            "error"
        );
        assert_eq!(
            rules[RuleId::UnitConflict as usize]["properties"]["instrumentationScore"],
            "MET-003"
        );
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), findings.len());
        for result in results {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
        }
        let unit = results.iter().find(|r| r["ruleId"] == "OTP-B005").unwrap();
        assert_eq!(unit["level"], "error");
        assert_eq!(
            unit["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "telemetry-baseline.yaml"
        );
        assert_eq!(
            unit["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "shop/checkout/metric/http.server.request.duration"
        );
        let note = results.iter().find(|r| r["ruleId"] == "OTP-B003").unwrap();
        assert_eq!(note["level"], "note");
        let naming = results.iter().find(|r| r["ruleId"] == "OTP-M002").unwrap();
        assert_eq!(
            naming["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "out/snapshot.json"
        );
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let findings = findings();
        let prints: std::collections::BTreeSet<String> = findings.iter().map(fingerprint).collect();
        assert_eq!(prints.len(), findings.len());
        assert_eq!(fingerprint(&findings[0]), fingerprint(&findings[0].clone()));
        assert_eq!(uri_reference("my dir/out 1.json"), "my%20dir/out%201.json");
    }
}
