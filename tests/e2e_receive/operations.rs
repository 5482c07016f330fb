//! Reading span operations and parent→child edges out of a service's fingerprint.

use serde_json::Value;

use otel_parity_testkit::e2e::{Expectations, json_at, proto_u64};

/// The service's span operations are exactly `expected` (name, kind), in the documented order:
/// by name, then kind.
pub fn expect_operations(
    expect: &mut Expectations,
    subject: &str,
    fingerprint: &Value,
    expected: &[(&str, &str)],
) {
    let found: Vec<(String, String)> = json_at(fingerprint, &["spanOperations"])
        .and_then(Value::as_array)
        .map(|ops| {
            ops.iter()
                .map(|op| (str_field(op, "name"), str_field(op, "kind")))
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(name, kind)| ((*name).to_owned(), (*kind).to_owned()))
        .collect();
    expect.check(
        found == expected,
        &format!("{subject} → spanOperations"),
        format!("expected (name, kind) {expected:?} in this order, found {found:?}"),
        None,
    );
}

/// The span operation `name`/`kind` of a service; a failure if it is missing.
pub fn span_operation<'a>(
    expect: &mut Expectations,
    subject: &str,
    fingerprint: &'a Value,
    name: &str,
    kind: &str,
) -> Option<&'a Value> {
    let ops = json_at(fingerprint, &["spanOperations"]).and_then(Value::as_array);
    let found = ops.into_iter().flatten().find(|op| {
        json_at(op, &["name"]).and_then(Value::as_str) == Some(name)
            && json_at(op, &["kind"]).and_then(Value::as_str) == Some(kind)
    });
    if found.is_none() {
        expect.fail(
            &format!("{subject} → spanOperations"),
            format!("no operation {name:?} of kind {kind}"),
            json_at(fingerprint, &["spanOperations"]),
        );
    }
    found
}

/// A parent→child edge as the test compares it; `count` keeps a malformed count's error.
#[derive(PartialEq)]
struct Edge {
    parent_service: String,
    parent_operation: String,
    parent_kind: String,
    child_operation: String,
    child_kind: String,
    count: Result<u64, String>,
}

impl std::fmt::Display for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?} {} → {:?} {}: {:?}",
            self.parent_service,
            self.parent_operation,
            self.parent_kind,
            self.child_operation,
            self.child_kind,
            self.count
        )
    }
}

/// The service's edges are exactly `expected` (parent service, parent operation, parent
/// kind, child operation, child kind, count), in the documented order.
pub fn expect_edges(
    expect: &mut Expectations,
    subject: &str,
    fingerprint: &Value,
    expected: &[(&str, &str, &str, &str, &str, u64)],
) {
    let found: Vec<Edge> = json_at(fingerprint, &["edges"])
        .and_then(Value::as_array)
        .map(|edges| {
            edges
                .iter()
                .map(|edge| Edge {
                    parent_service: str_field(edge, "parentService"),
                    parent_operation: str_field(edge, "parentOperation"),
                    parent_kind: str_field(edge, "parentKind"),
                    child_operation: str_field(edge, "childOperation"),
                    child_kind: str_field(edge, "childKind"),
                    count: proto_u64(json_at(edge, &["count"])),
                })
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<Edge> = expected
        .iter()
        .map(|(ps, po, pk, co, ck, count)| Edge {
            parent_service: (*ps).to_owned(),
            parent_operation: (*po).to_owned(),
            parent_kind: (*pk).to_owned(),
            child_operation: (*co).to_owned(),
            child_kind: (*ck).to_owned(),
            count: Ok(*count),
        })
        .collect();
    if found != expected {
        let describe = |edges: &[Edge]| {
            edges
                .iter()
                .map(|edge| format!("\n      {edge}"))
                .collect::<String>()
        };
        expect.fail(
            &format!("{subject} → edges"),
            format!(
                "expected, in this order:{}\n    found:{}",
                describe(&expected),
                describe(&found)
            ),
            None,
        );
    }
}

/// A string field of a JSON object; "" when absent (the proto3 zero value).
fn str_field(value: &Value, field: &str) -> String {
    json_at(value, &[field])
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
