//! The log-record shape of a shop service.

use otel_parity_testkit::e2e::{Expectations, json_at};
use serde_json::Value;

use crate::shop::ShopService;

pub fn expect_logs(expect: &mut Expectations, service: &ShopService, fingerprint: &Value) {
    let s = format!("{} logs", service.key);
    let logs = json_at(fingerprint, &["logs"]).unwrap_or(&Value::Null);
    expect.u64_eq(&s, logs, &["records"], service.log_records());
    expect.u64_map_eq(&s, logs, &["severities"], &service.log_severities);
    expect.u64_eq(&s, logs, &["withTraceId"], service.logs_with_trace_id);
    let body_kinds: Vec<(&str, u64)> = if service.log_records() > 0 {
        vec![("string", service.log_records())]
    } else {
        vec![]
    };
    expect.u64_map_eq(&s, logs, &["bodyKinds"], &body_kinds);
    if service.log_records() > 0 {
        // The SDK's logging bridge adds code.* attributes to every record.
        expect.u64_eq(
            &s,
            logs,
            &["attributeKeys", "code.function.name"],
            service.log_records(),
        );
    }
}
