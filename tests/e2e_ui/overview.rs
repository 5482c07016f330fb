//! The overview of staging against prod shows what the JSON report says: coverage, the
//! composite score, counts by severity, the critical missing-traces finding of shop/payment,
//! and a trend over the evaluations so far.

use serde_json::Value;

use otel_parity_testkit::e2e::ScratchDir;

use crate::browser::{Chromium, Rendered, assert_screenshot, screenshot_dir};
use crate::demo::{self, Demo};
use crate::dom::{Element, find, find_all};

const OVERVIEW: &str = "/?baseline=prod&candidate=staging";
const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// Waits until the analyzer has evaluated the pair twice over the demo's full traffic, so the
/// trend has a line to draw.
fn wait_for_trend(demo: &Demo, report: &Value) {
    demo.wait_until("two evaluations of the full traffic", |demo| {
        let history = demo.get("/api/v1/history?baseline=prod&candidate=staging");
        let points: Value = serde_json::from_slice(&history.body).unwrap_or(Value::Null);
        points["points"].as_array().is_some_and(|points| {
            points.len() >= 2
                && points.last().map(|p| &p["composite"]) == Some(&report["scores"]["composite"])
        })
    });
}

/// Panics unless the page finished rendering without any script error or console output.
pub fn assert_rendered_cleanly(page: &Rendered, what: &str) {
    let body = find(&page.dom, "data-state=", what);
    assert_eq!(
        body.attr("data-state").as_deref(),
        Some("ready"),
        "{what} did not finish rendering: {}",
        find(&page.dom, r#"id="main""#, what).text()
    );
    let errors = find(&page.dom, r#"id="ui-errors""#, what);
    assert!(
        errors.start_tag().contains(" hidden") && errors.text().is_empty(),
        "{what} recorded script errors: {}",
        errors.text()
    );
    assert!(
        page.console.is_empty(),
        "{what} wrote to the console:\n{}",
        page.console.join("\n")
    );
}

fn count(counts: &[Element<'_>], severity: &str) -> String {
    counts
        .iter()
        .find(|c| c.attr("data-severity-count").as_deref() == Some(severity))
        .map(|c| c.find(r#"class="count-number""#, severity).text())
        .unwrap_or_else(|| panic!("no count for {severity}"))
}

#[test]
fn overview_shows_the_reports_coverage_score_and_findings() {
    let demo = demo::shared();
    let report = demo.report();
    wait_for_trend(&demo, &report);
    let chromium = Chromium::find();
    let page = chromium.dump_dom(&demo.url(OVERVIEW));
    assert_rendered_cleanly(&page, "overview");
    let dom = &page.dom;

    let coverage = find(dom, r#"data-metric="coverage""#, "coverage");
    assert_eq!(coverage.text(), "80.0%");
    assert_eq!(report["scores"]["coverage"], 0.8);
    // Against the default objective (90%, from /api/v1/settings): 80% is short of it by no
    // more than its 10% budget.
    assert!(coverage.has_class("tone-warn"), "{}", coverage.start_tag());
    let objective = find(dom, r#"data-metric="coverage-objective""#, "objective");
    assert_eq!(objective.text(), "(target ≥ 90.0%)");
    assert_eq!(objective.attr("data-value").as_deref(), Some("0.9"));

    let composite = report["scores"]["composite"].as_f64().expect("composite");
    let shown = find(dom, r#"data-metric="composite""#, "composite score");
    assert_eq!(shown.text(), format!("{composite:.1}"));
    assert_eq!(
        shown.attr("data-value").and_then(|v| v.parse::<f64>().ok()),
        Some(composite),
        "the page's composite is the report's"
    );

    let findings = report["findings"].as_array().expect("findings");
    let counts = find(dom, r#"class="severity-counts""#, "counts by severity")
        .find_all("data-severity-count=");
    for severity in SEVERITIES {
        let expected = findings
            .iter()
            .filter(|f| f["severity"] == severity)
            .count();
        assert_eq!(
            count(&counts, severity),
            expected.to_string(),
            "{severity} findings"
        );
    }
    assert!(
        findings.len() > 20,
        "the demo plants drifts in every dimension"
    );

    // Findings grouped by service, worst first: shop/payment with its critical finding leads.
    let groups = find_all(dom, "data-service=")
        .into_iter()
        .filter(|e| e.has_class("service-group"))
        .collect::<Vec<_>>();
    assert_eq!(
        groups
            .first()
            .and_then(|g| g.attr("data-service"))
            .as_deref(),
        Some("shop/payment"),
        "the worst service comes first"
    );
    let critical = groups[0].find(r#"data-severity="critical""#, "critical finding");
    assert_eq!(
        critical.attr("data-dimension").as_deref(),
        Some("missing_traces")
    );
    assert_eq!(critical.attr("data-status").as_deref(), Some("open"));
    assert!(
        critical
            .text()
            .contains("service sends spans in prod, none in staging"),
        "{}",
        critical.text()
    );
    let rows: usize = groups
        .iter()
        .map(|g| g.find_all("data-severity=").len())
        .sum();
    assert_eq!(rows, findings.len(), "every finding is listed once");

    // Services with their coverages link to their pages.
    let services = find(dom, r#"class="services""#, "services table");
    for service in [
        "shop/payment",
        "shop/cart",
        "shop/checkout",
        "shop/recommendation",
        "shop/frontend",
    ] {
        let row = services.find(&format!(r#"data-service="{service}""#), service);
        assert!(
            row.html.contains(&format!(
                r#"href="/services/{service}?baseline=prod&amp;candidate=staging""#
            )),
            "{service} links to its page: {}",
            row.html
        );
    }

    // The score's parts and the trend are drawn.
    let parts = find(dom, r#"class="bar-chart""#, "score parts chart");
    assert_eq!(
        parts.find_all(r#"class="bar-track""#).len(),
        14,
        "one bar per dimension"
    );
    let trend = find(dom, r#"class="line-chart""#, "trend chart");
    assert_eq!(trend.find_all("d=").len(), 2, "coverage and score lines");
    assert!(dom.contains("Coverage %: 80 now"), "trend legend");
    assert!(
        trend.text().contains("coverage target 90.0%"),
        "target line"
    );

    let path = screenshot_dir().join("overview.png");
    chromium.screenshot(&demo.url(OVERVIEW), &path, (1280, 2000));
    assert_screenshot(&path, (1280, 2000));
}

#[test]
fn the_coverage_objective_shown_is_the_analyzers_configured_one() {
    // A demo of its own, with an objective of 75%: the same 80% coverage meets it.
    let dir = ScratchDir::new("ui-coverage-objective");
    let config = dir.path().join("demo.yaml");
    std::fs::write(
        &config,
        "analyzer:\n  evaluation:\n    coverage_objective: 0.75\n",
    )
    .expect("write the demo's config");
    let config = config.display().to_string();
    let demo = Demo::start_with(&["--config", &config]);
    assert_eq!(
        demo.get_json("/api/v1/settings"),
        serde_json::json!({"coverage_objective": 0.75, "ingestion_band": [0.5, 2.0]})
    );
    let page = Chromium::find().dump_dom(&demo.url(OVERVIEW));
    assert_rendered_cleanly(&page, "overview with a 75% objective");
    let dom = &page.dom;
    let coverage = find(dom, r#"data-metric="coverage""#, "coverage");
    assert_eq!(coverage.text(), "80.0%");
    assert!(coverage.has_class("tone-good"), "{}", coverage.start_tag());
    let objective = find(dom, r#"data-metric="coverage-objective""#, "objective");
    assert_eq!(objective.text(), "(target ≥ 75.0%)");
    assert_eq!(objective.attr("data-value").as_deref(), Some("0.75"));
}
