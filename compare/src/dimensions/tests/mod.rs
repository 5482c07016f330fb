//! Tests of the comparison on a realistic shop (frontend, checkout, payment,
//! cart: the test kit's described shop), with one planted difference at a time.

mod accepted_file;
mod dimensions;
mod ingestion;
mod precision;
mod render;
mod scale;
mod scores;

use otel_parity_proto::v1 as pb;
use otel_parity_testkit::fingerprint::described::{Scale, Service, build};
use otel_parity_testkit::fingerprint::described_shop;

use super::{CompareOptions, compare};
use crate::date::Date;
use crate::report::{Dimension, ParityFinding, Report, Severity};

/// The day tests judge acceptances on.
fn today() -> Date {
    Date::new(2026, 11, 15).expect("valid date")
}

/// Staging's scale in the planted-difference tests: less traffic, fewer
/// instances and series than prod, as staging always has.
fn staging_scale() -> Scale {
    Scale {
        traffic: 0.3,
        instances: 3.0,
        series: 0.7,
        intervals: 30.0,
    }
}

/// prod (the shop as described) against staging (the shop with `plant`
/// applied) at `scale`.
fn prod_vs(plant: impl FnOnce(&mut Vec<Service>), scale: Scale) -> Report {
    let prod = build(&described_shop(), Scale::prod());
    let mut staging_shop = described_shop();
    plant(&mut staging_shop);
    let staging = build(&staging_shop, scale);
    compare_envs(&prod, &staging, &CompareOptions::new(today()))
}

fn compare_envs(
    prod: &pb::EnvironmentFingerprint,
    staging: &pb::EnvironmentFingerprint,
    options: &CompareOptions,
) -> Report {
    compare("prod", prod, "staging", staging, options)
}

/// (dimension, service, subject, severity) of each finding.
type Key = (Dimension, String, String, Severity);

fn keys(findings: &[ParityFinding]) -> Vec<Key> {
    findings
        .iter()
        .map(|f| {
            (
                f.dimension,
                f.service.clone(),
                f.subject.clone(),
                f.severity,
            )
        })
        .collect()
}

fn above_info(report: &Report) -> Vec<&ParityFinding> {
    report
        .findings
        .iter()
        .filter(|f| f.severity < Severity::Info)
        .collect()
}

fn find<'a>(report: &'a Report, dimension: Dimension, subject: &str) -> &'a ParityFinding {
    report
        .findings
        .iter()
        .find(|f| f.dimension == dimension && f.subject == subject)
        .unwrap_or_else(|| {
            panic!(
                "no {dimension} finding on {subject:?} in {:#?}",
                report.findings
            )
        })
}
