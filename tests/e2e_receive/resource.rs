//! The resource shape of a shop service.

use otel_parity_testkit::e2e::{Expectations, json_at};
use serde_json::Value;

use crate::shop::ShopService;

/// The resource shape: allowlisted values, keys, and one instance per service.
pub fn expect_resource(
    expect: &mut Expectations,
    service: &ShopService,
    fingerprint: &Value,
    summary: &Value,
) {
    let s = format!("{} resource", service.key);
    let Some(resource) = json_at(fingerprint, &["resource"]) else {
        expect.fail(&s, "missing", Some(fingerprint));
        return;
    };
    expect.keys_eq(
        &s,
        resource,
        &["allowedValues", "service.version", "values"],
        &[service.version],
    );
    expect.keys_eq(
        &s,
        resource,
        &["allowedValues", "telemetry.sdk.language", "values"],
        &["python"],
    );
    expect.keys_eq(
        &s,
        resource,
        &["allowedValues", "telemetry.sdk.name", "values"],
        &["opentelemetry"],
    );
    if let Some(sdk_version) = json_at(summary, &["sdk_version"]).and_then(Value::as_str) {
        expect.keys_eq(
            &s,
            resource,
            &["allowedValues", "telemetry.sdk.version", "values"],
            &[sdk_version],
        );
    }
    expect.keys_include(
        &s,
        resource,
        &["attributeKeys"],
        &[
            "deployment.environment.name",
            "service.instance.id",
            "service.name",
            "service.namespace",
            "service.version",
            "telemetry.sdk.language",
        ],
    );
    // One resource block per export request per signal, so at least one per signal.
    expect.u64_at_least(&s, resource, &["resources"], 3);
    expect.f64_near(&s, resource, &["instances", "estimate"], 1.0, 0.5);
    expect.keys_include(&s, resource, &["scopes"], &[service.scope]);
}
