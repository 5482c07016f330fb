//! Runtime and dependency versions: the allowlisted resource values (SDK,
//! runtime, OS, service version) and the instrumentation scopes.

use otel_parity_proto::v1 as pb;

use super::scale::unless_scale;
use super::{Pair, dominant};
use crate::report::{Dimension, ParityFinding, Severity};

/// Allowlisted resource keys compared, with the severity of a difference.
///
/// - `telemetry.sdk.language`: another language is another implementation
///   altogether (instrumentation libraries, conventions, metric names): medium.
/// - SDK name and version, runtime name and version, OS: the same code on
///   another platform behaves and instruments slightly differently: low.
/// - `host.arch`: rarely changes telemetry: info.
/// - `service.version`: a candidate is expected to run the next release;
///   worth showing, not a finding: info.
const RESOURCE_KEYS: [(&str, Severity); 8] = [
    ("telemetry.sdk.language", Severity::Medium),
    ("telemetry.sdk.name", Severity::Low),
    ("telemetry.sdk.version", Severity::Low),
    ("process.runtime.name", Severity::Low),
    ("process.runtime.version", Severity::Low),
    ("os.type", Severity::Low),
    ("host.arch", Severity::Info),
    ("service.version", Severity::Info),
];

/// An instrumentation library the baseline loads and the candidate does not
/// (or not in that version): its telemetry may be missing or shaped
/// differently, which the other dimensions report in detail. Low.
const SCOPE_MISSING: Severity = Severity::Low;
const SCOPE_VERSION_DIFFERS: Severity = Severity::Low;

pub(super) fn compare(pair: &Pair, out: &mut Vec<ParityFinding>) {
    let empty = pb::ResourceShape::default();
    let base = pair.baseline.resource.as_ref().unwrap_or(&empty);
    let cand = pair.candidate.resource.as_ref().unwrap_or(&empty);
    if base.resources == 0 && base.allowed_values.is_empty() && base.scopes.is_empty() {
        return;
    }
    for (key, severity) in RESOURCE_KEYS {
        let b = value(base, key);
        let c = value(cand, key);
        // A value only the candidate reports has nothing to differ from.
        if b == c || b.is_none() {
            continue;
        }
        let b = b.unwrap_or("(unset)").to_owned();
        let c = c.unwrap_or("(unset)").to_owned();
        let message = pair.both("", &b, &c);
        out.push(pair.finding(Dimension::Versions, severity, key, (b, c), message));
    }
    scopes(pair, base, cand, out);
}

fn scopes(
    pair: &Pair,
    base: &pb::ResourceShape,
    cand: &pb::ResourceShape,
    out: &mut Vec<ParityFinding>,
) {
    let base_total: u64 = base.scopes.values().map(|s| s.count).sum();
    let cand_total: u64 = cand.scopes.values().map(|s| s.count).sum();
    for (name, scope) in &base.scopes {
        let base_version = version(scope);
        match cand.scopes.get(name) {
            None => {
                let severity = unless_scale(SCOPE_MISSING, scope.count, base_total, cand_total);
                let message = format!(
                    "instrumentation scope (version {}) in {}, absent in {}",
                    base_version,
                    pair.base_env(),
                    pair.cand_env()
                );
                out.push(pair.finding(
                    Dimension::Versions,
                    severity,
                    name.as_str(),
                    (base_version, "absent".to_owned()),
                    message,
                ));
            }
            Some(cand_scope) => {
                let cand_version = version(cand_scope);
                if cand_version != base_version {
                    let message = pair.both("instrumentation scope", &base_version, &cand_version);
                    out.push(pair.finding(
                        Dimension::Versions,
                        SCOPE_VERSION_DIFFERS,
                        name.as_str(),
                        (base_version, cand_version),
                        message,
                    ));
                }
            }
        }
    }
}

/// The dominant value of an allowlisted key.
fn value<'a>(resource: &'a pb::ResourceShape, key: &str) -> Option<&'a str> {
    resource
        .allowed_values
        .get(key)
        .and_then(|v| dominant(&v.values))
}

/// The dominant version of a scope, "(unset)" when it has none.
fn version(scope: &pb::ScopeShape) -> String {
    match dominant(&scope.versions) {
        Some(v) if !v.is_empty() => v.to_owned(),
        _ => "(unset)".to_owned(),
    }
}
