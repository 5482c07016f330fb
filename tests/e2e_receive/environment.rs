//! `--environment` names the environment whatever the resource's `deployment.environment.name`.

use otel_parity_testkit::e2e::{Expectations, json_at};

use crate::run::run_shop;
use crate::shop::shop_services;

#[test]
fn environment_flag_overrides_resource_attribute() {
    let requests = 3;
    let run = run_shop(&["--environment", "prod"], "grpc", "staging", requests);
    let snapshot = &run.final_snapshot;
    let mut expect = Expectations::new();
    run.expect_clean_run(&mut expect);
    expect.keys_eq("snapshot", snapshot, &["environments"], &["prod"]);
    expect.keys_eq(
        "environment prod",
        snapshot,
        &["environments", "prod", "services"],
        &["shop/checkout", "shop/frontend", "shop/payment"],
    );
    let services = shop_services(requests);
    for service in &services {
        let fingerprint = json_at(snapshot, &["environments", "prod", "services", service.key]);
        if let Some(fingerprint) = fingerprint {
            expect.u64_eq(
                service.key,
                fingerprint,
                &["ingestion", "traces", "items"],
                service.spans,
            );
        }
    }
    expect.u64_eq(
        "received",
        snapshot,
        &["received", "traces", "items"],
        services.iter().map(|s| s.spans).sum(),
    );
    expect.finish(
        "--environment prod over resource environment staging",
        &run.diagnostics(),
    );
}
