//! Text, markdown and JSON renderings of a report.

use otel_parity_testkit::fingerprint::described::{Service, service_mut};

use super::*;

fn drifted(s: &mut [Service]) {
    let checkout = service_mut(s, "shop/checkout");
    let orders = checkout
        .metrics
        .iter_mut()
        .find(|m| m.name == "app.orders.placed")
        .expect("metric");
    orders.unit = "1";
    service_mut(s, "shop/payment").logs = None;
}

fn report() -> Report {
    prod_vs(|s| drifted(s), staging_scale())
}

#[test]
fn text_has_a_header_and_one_line_per_finding_without_ansi_when_uncoloured() {
    let report = report();
    let text = report.render_text(false);
    assert!(!text.contains('\x1b'), "{text}");
    assert!(
        text.starts_with("otel-parity report: staging (candidate) against prod (baseline)\n"),
        "{text}"
    );
    assert!(text.contains("telemetry parity coverage 100.0%"), "{text}");
    assert!(
        text.contains("findings: 0 critical, 1 high, 1 medium, 0 low, 0 info"),
        "{text}"
    );
    assert!(
        text.contains(
            "  [HIGH] metric_definitions  app.orders.placed: unit {order} in prod, 1 in staging\n"
        ),
        "{text}"
    );
    assert!(text.contains("  [MEDIUM] logs  log records: "), "{text}");
    // Grouped by service, worst service first.
    let checkout = text.find("\nshop/checkout").expect("checkout group");
    let payment = text.find("\nshop/payment").expect("payment group");
    assert!(checkout < payment, "{text}");
}

#[test]
fn text_is_coloured_only_when_asked() {
    let text = report().render_text(true);
    assert!(
        text.contains("\x1b[31m[HIGH]\x1b[0m metric_definitions"),
        "{text}"
    );
}

#[test]
fn accepted_findings_say_so_in_text_and_markdown() {
    let mut options = CompareOptions::new(today());
    options.accepted = crate::accepted::parse_accepted(
        "accepted:\n  - service: shop/payment\n    dimension: logs\n    reason: logs go to a file in staging\n    owner: team-pay\n    expires: 2027-03-31\n",
        "test",
    )
    .expect("parses");
    let prod = build(&described_shop(), Scale::prod());
    let mut staging_shop = described_shop();
    drifted(&mut staging_shop);
    let staging = build(&staging_shop, staging_scale());
    let report = compare_envs(&prod, &staging, &options);
    let text = report.render_text(false);
    assert!(
        text.contains("(accepted until 2027-03-31 by team-pay: logs go to a file in staging)"),
        "{text}"
    );
    assert!(text.contains("(1 accepted)"), "{text}");
    let markdown = report.render_markdown();
    assert!(
        markdown
            .contains("| accepted until 2027-03-31 by team-pay: logs go to a file in staging |"),
        "{markdown}"
    );
}

#[test]
fn markdown_has_a_table_per_service() {
    let markdown = report().render_markdown();
    assert!(
        markdown.starts_with("# Telemetry parity: staging against prod\n"),
        "{markdown}"
    );
    assert!(markdown.contains("\n## shop/checkout\n"), "{markdown}");
    assert!(
        markdown.contains("| Severity | Dimension | Subject | prod | staging | Status | Message |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| high | metric_definitions | app.orders.placed | {order} | 1 | open | unit {order} in prod, 1 in staging |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| metric_definitions | 80 |"),
        "{markdown}"
    );
}

#[test]
fn json_is_the_report_with_snake_case_names_and_round_trips() {
    let report = report();
    let json = serde_json::to_string_pretty(&report).expect("serializes");
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    let first = &value["findings"][0];
    assert_eq!(first["dimension"], "metric_definitions");
    assert_eq!(first["severity"], "high");
    assert_eq!(first["status"], "open");
    assert_eq!(first["service"], "shop/checkout");
    assert!(first["accepted"].is_null());
    assert_eq!(
        value["scores"]["parts"].as_object().map(|p| p.len()),
        Some(14)
    );
    assert!(
        value["scores"]["services"]["shop/payment"]["ingestion"]["traces"]["adjusted"].is_boolean()
    );
    let back: Report = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, report);
}
