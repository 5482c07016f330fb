//! Differences of scale (less traffic, fewer instances and series) are not
//! findings above info.

use otel_parity_testkit::fingerprint::described::{Scale, build};
use otel_parity_testkit::fingerprint::described_shop;

use super::*;

#[test]
fn a_tenth_of_the_traffic_with_fewer_instances_and_series_is_nothing_above_info() {
    let prod = build(&described_shop(), Scale::prod());
    let staging = build(
        &described_shop(),
        Scale {
            traffic: 0.1,
            instances: 2.0,
            series: 0.5,
            // One-minute exports where prod exports every 10 s.
            intervals: 5.0,
        },
    );
    let report = compare_envs(&prod, &staging, &CompareOptions::new(today()));
    assert_eq!(
        keys(&above_info(&report).into_iter().cloned().collect::<Vec<_>>()),
        vec![]
    );
    assert_eq!(report.scores.coverage, 1.0);
    assert_eq!(report.scores.composite, 100.0);
    // Per request nothing changed, whatever the volume.
    for (service, scores) in &report.scores.services {
        for (signal, ratio) in &scores.ingestion {
            assert!(
                (ratio.ratio - 1.0).abs() < 0.01,
                "{service} {signal}: {ratio:?}"
            );
        }
    }
}

#[test]
fn other_hosts_and_instance_counts_alone_are_nothing_at_all() {
    let prod = build(&described_shop(), Scale::prod());
    let mut staging = prod.clone();
    for service in staging.services.values_mut() {
        let resource = service.resource.as_mut().expect("resource");
        resource.instances = Some(pb::Cardinality {
            estimate: 1.0,
            hll: vec![1, 2, 3],
        });
        resource.attribute_keys.insert("host.id".to_owned(), 3);
        resource.attribute_keys.remove("host.name");
        if let Some(ingestion) = service.ingestion.as_mut()
            && let Some(traces) = ingestion.traces.as_mut()
        {
            traces.requests /= 10;
            traces.bytes /= 3;
        }
    }
    let report = compare_envs(&prod, &staging, &CompareOptions::new(today()));
    assert_eq!(keys(&report.findings), vec![]);
}
