//! `/metrics` read as a dashboard reads it: families with known label values are there from
//! the start (at 0), the configured coverage objective is exported, each service's open
//! findings by severity agree with the report, and both environments' effective sampling
//! rates are gauges (the demo plants 25% sampling in prod, 100% in staging).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::server::Running;

/// The samples of `family` (exact name), by their label text (`{…}`, empty without labels).
fn samples(text: &str, family: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let rest = line.strip_prefix(family)?;
            let (labels, value) = match rest.strip_prefix('{') {
                Some(labelled) => {
                    let (labels, value) = labelled.split_once("} ")?;
                    (format!("{{{labels}}}"), value)
                }
                None => (String::new(), rest.strip_prefix(' ')?),
            };
            Some((labels, value.trim().parse().ok()?))
        })
        .collect()
}

fn metrics(running: &Running) -> String {
    String::from_utf8_lossy(&running.get("/metrics").body).into_owned()
}

#[test]
fn known_label_values_start_at_zero_and_the_configured_objective_is_exported() {
    let analyzer = Running::analyzer("evaluation:\n  interval: 1h\n  coverage_objective: 0.95\n");
    let text = metrics(&analyzer);
    let pushes = samples(&text, "otel_parity_pushes_total");
    let expected: BTreeMap<String, f64> = ["duplicate", "error", "invalid", "stored"]
        .iter()
        .map(|result| (format!("{{result=\"{result}\"}}"), 0.0))
        .collect();
    assert_eq!(pushes, expected, "{text}");
    assert_eq!(
        samples(&text, "otel_parity_coverage_objective_ratio"),
        BTreeMap::from([(String::new(), 0.95)])
    );
    assert_eq!(
        samples(&text, "otel_parity_store_unreadable_pushes_total"),
        BTreeMap::from([(String::new(), 0.0)])
    );
}

/// Open findings of the report per (service, severity).
fn report_counts(report: &Value) -> BTreeMap<(String, String), f64> {
    let mut counts = BTreeMap::new();
    let services = report["scores"]["services"]
        .as_object()
        .expect("per-service scores");
    let findings = report["findings"].as_array().expect("findings");
    let named = findings.iter().filter_map(|f| f["service"].as_str());
    for service in services.keys().map(String::as_str).chain(named) {
        for severity in ["critical", "high", "medium", "low", "info"] {
            counts.insert((service.to_owned(), severity.to_owned()), 0.0);
        }
    }
    for finding in findings {
        if finding["status"] == "accepted" {
            continue;
        }
        let key = (
            finding["service"].as_str().unwrap_or("").to_owned(),
            finding["severity"].as_str().unwrap_or("").to_owned(),
        );
        *counts.entry(key).or_default() += 1.0;
    }
    counts
}

/// `otel_parity_service_findings` of prod/staging per (service, severity).
fn exported_counts(text: &str) -> BTreeMap<(String, String), f64> {
    samples(text, "otel_parity_service_findings")
        .into_iter()
        .filter_map(|(labels, value)| {
            let label = |name: &str| {
                let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
                let end = start + labels[start..].find('"')?;
                Some(labels[start..end].to_owned())
            };
            (label("baseline")? == "prod" && label("candidate")? == "staging")
                .then(|| Some(((label("service")?, label("severity")?), value)))?
        })
        .collect()
}

#[test]
fn findings_per_service_agree_with_the_report_and_both_sides_sampling_rates_are_gauges() {
    let demo = Running::demo();
    let report = || -> Value {
        serde_json::from_slice(
            &demo
                .get("/api/v1/report?baseline=prod&candidate=staging&format=json")
                .body,
        )
        .expect("JSON report")
    };
    // The evaluation round after the last push agrees with a report computed now.
    demo.wait_for(|_| exported_counts(&metrics(&demo)) == report_counts(&report()));
    let counts = exported_counts(&metrics(&demo));
    let of = |service: &str, severity: &str| counts[&(service.to_owned(), severity.to_owned())];
    // shop/payment sends no spans in staging: its one critical finding, and no other's.
    assert_eq!(of("shop/payment", "critical"), 1.0);
    for service in [
        "shop/cart",
        "shop/checkout",
        "shop/frontend",
        "shop/recommendation",
    ] {
        assert_eq!(of(service, "critical"), 0.0, "{service}");
    }
    // shop/recommendation is gone from staging: one high finding (the service).
    assert_eq!(of("shop/recommendation", "high"), 1.0);

    let rates = samples(&metrics(&demo), "otel_parity_effective_sampling_rate");
    let rate = |environment: &str, service: &str| {
        format!("{{environment=\"{environment}\",service=\"{service}\",source=\"requests\"}}")
    };
    let mut expected = BTreeMap::new();
    // prod keeps one request in four (ot=th:c), for every traced service.
    for service in [
        "shop/checkout",
        "shop/frontend",
        "shop/payment",
        "shop/recommendation",
    ] {
        expected.insert(rate("prod", service), 0.25);
    }
    // staging keeps all; shop/payment sends no spans there (unknown, not 1), and
    // shop/recommendation is gone.
    for service in ["shop/checkout", "shop/frontend"] {
        expected.insert(rate("staging", service), 1.0);
    }
    assert_eq!(rates, expected);
}
