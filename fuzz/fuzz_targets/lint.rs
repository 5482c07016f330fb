//! `otel-parity lint`'s inputs, as one input of three NUL-separated parts: a snapshot
//! (proto3 JSON, as `receive --snapshot` writes it), a baseline (YAML) and a rules file
//! (YAML). The snapshot must read back after writing; the lint runs and renders in every
//! format (JUnit must be well-formed XML, GitHub one line per finding); a baseline written
//! from the telemetry must read back as itself and find no drift in it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use otel_parity_fuzz::parts;
use otel_parity_lint::rules::Family;
use otel_parity_lint::{Baseline, Format, Level, LintConfig, Report, Telemetry, lint};
use otel_parity_proto::v1 as pb;

fuzz_target!(|data: &[u8]| {
    let [snapshot, baseline, rules] = parts::<3>(data);
    // A part that does not read is left out, so that the others are still fuzzed.
    let snapshot = serde_json::from_slice::<pb::Snapshot>(snapshot).ok();
    if let Some(snapshot) = &snapshot {
        let json = serde_json::to_vec_pretty(snapshot).expect("a snapshot serializes");
        if let Err(error) = serde_json::from_slice::<pb::Snapshot>(&json) {
            panic!("a snapshot does not read back after writing: {error}");
        }
    }
    let text = |part| std::str::from_utf8(part).ok();
    let baseline = text(baseline).and_then(|t| Baseline::parse(t, "baseline.yaml").ok());
    let config = text(rules)
        .and_then(|t| LintConfig::parse(t, "rules.yaml").ok())
        .unwrap_or_default();
    // A snapshot whose sketches cannot merge is an error lint reports (exit 2), not a crash.
    let Ok(telemetry) = Telemetry::from_snapshots(snapshot.iter()) else {
        return;
    };

    let findings = lint(&telemetry, &config, baseline.as_ref());
    let mut services: Vec<String> = telemetry.services.keys().cloned().collect();
    if let Some(baseline) = &baseline {
        services.extend(baseline.services.keys().cloned());
    }
    services.sort();
    services.dedup();
    let report = Report {
        findings: &findings,
        config: &config,
        fail_on: Level::Warning,
        services,
        inputs: vec!["capture.json".into()],
        baseline: baseline.as_ref().map(|_| "telemetry-baseline.yaml".into()),
    };
    for format in [Format::Text, Format::Json, Format::Sarif] {
        let _ = report.render(format);
    }
    let junit = report.render(Format::Junit);
    if let Err(error) = roxmltree::Document::parse(&junit) {
        panic!("JUnit output is not well-formed XML: {error}\n{junit}");
    }
    let github = report.render(Format::Github);
    assert_eq!(
        github.lines().count(),
        findings.len() + 1,
        "GitHub annotations are not one line per finding:\n{github}"
    );

    // --write-baseline, then --baseline with the same capture.
    let written = Baseline::from_telemetry(&telemetry);
    let reread = match Baseline::parse(&written.to_yaml(), "written.yaml") {
        Ok(reread) => reread,
        Err(error) => panic!(
            "a written baseline does not read back: {error}\n{}",
            written.to_yaml()
        ),
    };
    // Compared as text: a NaN bucket bound is not equal to itself.
    assert_eq!(
        reread.to_yaml(),
        written.to_yaml(),
        "a written baseline reads back as another"
    );
    let drift: Vec<_> = lint(&telemetry, &config, Some(&reread))
        .into_iter()
        .filter(|f| f.rule.rule().family == Family::Baseline)
        .collect();
    assert!(
        drift.is_empty(),
        "telemetry drifts from its own baseline: {drift:?}"
    );
});
