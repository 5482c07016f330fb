//! Expectations about the snapshot JSON shared by the tests: span operations, metric shapes
//! and the `received` counters.

use serde_json::{Value, json};

use otel_parity_testkit::e2e::{Expectations, json_at, proto_u64};

/// (name, kind, spans, errors) of each span operation of `service`, sorted.
fn span_operations(service: &Value) -> Result<Vec<(String, String, u64, u64)>, String> {
    let Some(operations) = service.get("spanOperations") else {
        return Ok(Vec::new());
    };
    let operations = operations
        .as_array()
        .ok_or("spanOperations is not an array")?;
    let mut found = operations
        .iter()
        .map(|op| {
            let text = |key: &str| op.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
            Ok((
                text("name"),
                text("kind"),
                proto_u64(op.get("spans"))?,
                proto_u64(op.get("errors"))?,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    found.sort();
    Ok(found)
}

/// `service` in `environment` has exactly the span operations `expected`.
pub fn expect_operations(
    expect: &mut Expectations,
    snapshot: &Value,
    environment: &str,
    service: &str,
    expected: &[(&str, &str, u64, u64)],
) {
    let subject = format!("environments.{environment}.services.{service}.spanOperations");
    let Some(fingerprint) = json_at(
        snapshot,
        &["environments", environment, "services", service],
    ) else {
        return expect.fail(&subject, "service missing", Some(snapshot));
    };
    let mut wanted: Vec<(String, String, u64, u64)> = expected
        .iter()
        .map(|(n, k, s, e)| ((*n).to_owned(), (*k).to_owned(), *s, *e))
        .collect();
    wanted.sort();
    match span_operations(fingerprint) {
        Ok(found) => expect.check(
            found == wanted,
            &format!("{subject} (name, kind, spans, errors)"),
            format!("expected {wanted:?}, found {found:?}"),
            Some(fingerprint),
        ),
        Err(e) => expect.fail(&subject, e, Some(fingerprint)),
    }
}

/// `received.<signal>` counts exactly `requests` requests and `items` items, none rejected.
pub fn expect_received(
    expect: &mut Expectations,
    snapshot: &Value,
    signal: &str,
    requests: u64,
    items: u64,
) {
    let received = json_at(snapshot, &["received", signal])
        .cloned()
        .unwrap_or(json!({}));
    let subject = format!("received.{signal}");
    expect.u64_eq(&subject, &received, &["requests"], requests);
    expect.u64_eq(&subject, &received, &["items"], items);
    expect.u64_eq(&subject, &received, &["rejectedRequests"], 0);
    expect.u64_eq(&subject, &received, &["rejectedItems"], 0);
}

/// What one metric of one service looks like in the snapshot, all its data points alike.
pub struct MetricShape<'a> {
    pub service: &'a str,
    pub name: &'a str,
    /// Data point type, unit and temporality of every point.
    pub kind: &'a str,
    pub unit: &'a str,
    pub temporality: &'a str,
    pub points: u64,
    pub attribute_keys: &'a [&'a str],
    /// Bounds of the one bucket layout, for histograms.
    pub bounds: Option<&'a [f64]>,
}

/// The metric in `services` (an environment's services map) has exactly `shape`.
pub fn expect_metric(expect: &mut Expectations, services: &Value, shape: &MetricShape<'_>) {
    let subject = format!("{} {}", shape.service, shape.name);
    let Some(metric) = json_at(services, &[shape.service, "metrics", shape.name]) else {
        return expect.fail(&subject, "metric missing", Some(services));
    };
    let points = shape.points;
    expect.u64_map_eq(&subject, metric, &["types"], &[(shape.kind, points)]);
    expect.u64_map_eq(&subject, metric, &["units"], &[(shape.unit, points)]);
    expect.u64_map_eq(
        &subject,
        metric,
        &["temporalities"],
        &[(shape.temporality, points)],
    );
    expect.u64_eq(&subject, metric, &["dataPoints"], points);
    expect.keys_eq(&subject, metric, &["attributeKeys"], shape.attribute_keys);
    let layouts = metric.get("bucketLayouts");
    let wanted = shape
        .bounds
        .map(|bounds| json!([{ "bounds": bounds, "dataPoints": points.to_string() }]));
    expect.check(
        layouts == wanted.as_ref(),
        &format!("{subject} → bucketLayouts"),
        format!("expected {wanted:?}, found {layouts:?}"),
        Some(metric),
    );
}
