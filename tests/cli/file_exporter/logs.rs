//! Log lines: INFO records correlated with traces, warnings and errors.

use serde_json::{Value, json};

use super::{
    EPOCH_NANOS, EnvironmentAttribute, MILLIS, nanos, resource, span_id, string_attr, trace_id,
};

/// Log records per [`shop_logs_line`]: two checkout INFO, one frontend WARN and one ERROR.
pub const RECORDS_PER_LOGS_LINE: u64 = 4;

fn log_record(batch: u64, severity: (u32, &str), body: &str, attributes: Vec<Value>) -> Value {
    json!({
        "timeUnixNano": nanos(EPOCH_NANOS + batch * 60_000 * MILLIS),
        "observedTimeUnixNano": nanos(EPOCH_NANOS + batch * 60_000 * MILLIS + MILLIS),
        "severityNumber": severity.0,
        "severityText": severity.1,
        "body": { "stringValue": body },
        "attributes": attributes,
    })
}

const INFO: (u32, &str) = (9, "INFO");
const WARN: (u32, &str) = (13, "WARN");
const ERROR: (u32, &str) = (17, "ERROR");

/// One logs request: two checkout INFO records correlated with traces, a frontend WARN and
/// an ERROR.
pub fn shop_logs_line(environment: EnvironmentAttribute, batch: u64) -> String {
    let checkout: Vec<Value> = (0..2)
        .map(|t| {
            let mut record = log_record(
                batch,
                INFO,
                &format!("order {} placed", 5000 + t),
                vec![string_attr("app.order.id", &format!("ord-{}", 5000 + t))],
            );
            record["traceId"] = json!(trace_id(batch, t));
            record["spanId"] = json!(span_id(batch, t, 3));
            record
        })
        .collect();
    let frontend = vec![
        log_record(batch, WARN, "slow checkout: 1.2 s", vec![]),
        log_record(
            batch,
            ERROR,
            "checkout failed",
            vec![string_attr("exception.type", "HttpError")],
        ),
    ];
    json!({ "resourceLogs": [
        {
            "resource": resource("checkout", "go", environment),
            "scopeLogs": [{ "scope": { "name": "checkout" }, "logRecords": checkout }],
        },
        {
            "resource": resource("frontend", "nodejs", environment),
            "scopeLogs": [{ "scope": { "name": "frontend" }, "logRecords": frontend }],
        },
    ]})
    .to_string()
}

/// One logs request of payment: an ERROR "card declined".
pub fn payment_logs_line(environment: EnvironmentAttribute, batch: u64) -> String {
    let record = log_record(
        batch,
        ERROR,
        "card declined",
        vec![string_attr("app.payment.card_brand", "amex")],
    );
    json!({ "resourceLogs": [{
        "resource": resource("payment", "python", environment),
        "scopeLogs": [{ "scope": { "name": "payment" }, "logRecords": [record] }],
    }]})
    .to_string()
}
