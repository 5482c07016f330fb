//! What a test sent that the receiver accepted or refused, and the check of the snapshot the
//! receiver writes at SIGTERM against it: exactly the good items, per service and operation,
//! and the rejected requests, nothing more.

use otel_parity_testkit::e2e::{Expectations, ReceiverProcess, json_at, proto_u64};
use serde_json::{Value, json};

use crate::logs::records_in;
use crate::metrics::points_in;
use crate::signal::Sig;
use crate::traces::{errors_in, spans_in};
use crate::{CHECKOUT, ENVIRONMENT, PAYMENT};

/// What the receiver must have counted for one signal (its `received` entry).
#[derive(Debug, Default, Clone, Copy)]
struct SignalCounts {
    requests: u64,
    rejected_requests: u64,
    items: u64,
    rejected_items: u64,
    /// Exact decoded bytes, when every accepted request was protobuf (known size).
    decoded_bytes: Option<u64>,
    wire_bytes_at_least: u64,
}

/// What a test sent that the receiver accepted, and what it refused.
#[derive(Debug)]
pub struct Expected {
    signals: [SignalCounts; 3],
    /// Traces of `shop_traces` accepted (per trace: 3 checkout spans, 1 payment span).
    pub traces: u64,
    /// Of those, failed charges.
    pub failed_charges: u64,
    /// `shop_metrics` requests accepted, and their request-duration series in total.
    metric_requests: u64,
    metric_series: u64,
    /// `shop_logs` requests accepted, and their checkout records in total.
    log_requests: u64,
    log_records: u64,
}

impl Expected {
    /// Nothing sent yet.
    pub fn new() -> Self {
        Expected {
            signals: [SignalCounts {
                decoded_bytes: Some(0),
                ..Default::default()
            }; 3],
            traces: 0,
            failed_charges: 0,
            metric_requests: 0,
            metric_series: 0,
            log_requests: 0,
            log_records: 0,
        }
    }

    /// An accepted request of `sig` carrying `items`; `decoded` is its protobuf size when known.
    pub fn accepted(
        &mut self,
        sig: Sig,
        items: u64,
        rejected_items: u64,
        decoded: Option<u64>,
        wire: u64,
    ) {
        let s = &mut self.signals[sig.index()];
        s.requests += 1;
        s.items += items;
        s.rejected_items += rejected_items;
        s.decoded_bytes = match (s.decoded_bytes, decoded) {
            (Some(total), Some(len)) => Some(total + len),
            _ => None,
        };
        s.wire_bytes_at_least += wire;
    }

    /// A request of `sig` refused whole.
    pub fn rejected(&mut self, sig: Sig) {
        self.signals[sig.index()].rejected_requests += 1;
    }

    /// An accepted `shop_traces` request of `traces` traces.
    pub fn traces_accepted(&mut self, traces: u64, decoded: Option<u64>, wire: u64) {
        self.accepted(Sig::Traces, spans_in(traces), 0, decoded, wire);
        self.traces += traces;
        self.failed_charges += errors_in(traces);
    }

    /// An accepted `shop_metrics` request of `series` request-duration series.
    pub fn metrics_accepted(&mut self, series: u64, decoded: u64, wire: u64) {
        self.accepted(Sig::Metrics, points_in(series), 0, Some(decoded), wire);
        self.metric_requests += 1;
        self.metric_series += series;
    }

    /// An accepted `shop_logs` request of `records` checkout records.
    pub fn logs_accepted(&mut self, records: u64, decoded: u64, wire: u64) {
        self.accepted(Sig::Logs, records_in(records), 0, Some(decoded), wire);
        self.log_requests += 1;
        self.log_records += records;
    }
}

/// (name, kind, spans, errors) of each span operation of a service in the snapshot.
fn span_operations(service: &Value) -> Result<Vec<(String, String, u64, u64)>, String> {
    let Some(ops) = service.get("spanOperations") else {
        return Ok(Vec::new());
    };
    let ops = ops.as_array().ok_or("spanOperations is not an array")?;
    let mut out = ops
        .iter()
        .map(|op| {
            Ok((
                op.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                op.get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("SPAN_KIND_UNSPECIFIED")
                    .to_owned(),
                proto_u64(op.get("spans"))?,
                proto_u64(op.get("errors"))?,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    out.sort();
    Ok(out)
}

fn check_span_operations(
    expect: &mut Expectations,
    snapshot: &Value,
    service_key: &str,
    expected: &[(&str, &str, u64, u64)],
) {
    let subject = format!("snapshot → environments.{ENVIRONMENT}.services.{service_key}");
    let service = json_at(
        snapshot,
        &["environments", ENVIRONMENT, "services", service_key],
    );
    let found = match service.map(span_operations) {
        Some(Ok(found)) => found,
        Some(Err(e)) => return expect.fail(&subject, e, service),
        None => Vec::new(),
    };
    let mut wanted: Vec<(String, String, u64, u64)> = expected
        .iter()
        .filter(|(_, _, spans, _)| *spans > 0)
        .map(|(n, k, s, e)| ((*n).to_owned(), (*k).to_owned(), *s, *e))
        .collect();
    wanted.sort();
    expect.check(
        found == wanted,
        &format!("{subject} → spanOperations (name, kind, spans, errors)"),
        format!("expected {wanted:?}, found {found:?}"),
        service,
    );
}

/// Stops the receiver (SIGTERM), reads the snapshot it wrote on the way out and checks it
/// against everything the test sent.
pub fn stop_and_check(receiver: ReceiverProcess, expected: &Expected, what: &str) {
    stop_and_check_with(receiver, expected, what, Vec::new());
}

/// [`stop_and_check`], also reporting `earlier_failures` (found while the receiver ran) with
/// the snapshot's, so that one run shows all of them.
pub fn stop_and_check_with(
    mut receiver: ReceiverProcess,
    expected: &Expected,
    what: &str,
    earlier_failures: Vec<String>,
) {
    let status = receiver.stop();
    assert!(
        status.success(),
        "{what}: the receiver exited with {status} after SIGTERM\n{}",
        receiver.stderr_tail()
    );
    let snapshot = receiver.read_snapshot().unwrap_or_else(|| {
        panic!(
            "{what}: no snapshot at {} after SIGTERM\n{}",
            receiver.snapshot_path().display(),
            receiver.stderr_tail()
        )
    });
    let mut expect = Expectations::new();
    for failure in earlier_failures {
        expect.fail(what, failure, None);
    }

    for sig in Sig::ALL {
        let c = expected.signals[sig.index()];
        let received = json_at(&snapshot, &["received", sig.key()])
            .cloned()
            .unwrap_or(json!({}));
        let subject = format!("snapshot → received.{}", sig.key());
        expect.u64_eq(&subject, &received, &["requests"], c.requests);
        expect.u64_eq(
            &subject,
            &received,
            &["rejectedRequests"],
            c.rejected_requests,
        );
        expect.u64_eq(&subject, &received, &["items"], c.items);
        expect.u64_eq(&subject, &received, &["rejectedItems"], c.rejected_items);
        match c.decoded_bytes {
            Some(decoded) => expect.u64_eq(&subject, &received, &["decodedBytes"], decoded),
            None => expect.u64_at_least(&subject, &received, &["decodedBytes"], 1),
        }
        expect.u64_at_least(&subject, &received, &["wireBytes"], c.wire_bytes_at_least);
    }

    // Every item the test sent, and only those, in the services' fingerprints.
    let anything = expected.signals.iter().any(|s| s.items > 0);
    let environments: &[&str] = if anything { &[ENVIRONMENT] } else { &[] };
    expect.keys_eq("snapshot", &snapshot, &["environments"], environments);
    if anything {
        expect.keys_eq(
            "snapshot",
            &snapshot,
            &["environments", ENVIRONMENT, "services"],
            &[CHECKOUT, PAYMENT],
        );
    }
    let t = expected.traces;
    let failed = expected.failed_charges;
    check_span_operations(
        &mut expect,
        &snapshot,
        CHECKOUT,
        &[
            ("POST /checkout", "SPAN_KIND_SERVER", t, failed),
            ("prepare order", "SPAN_KIND_INTERNAL", t, 0),
            ("POST /charge", "SPAN_KIND_CLIENT", t, failed),
        ],
    );
    check_span_operations(
        &mut expect,
        &snapshot,
        PAYMENT,
        &[("POST /charge", "SPAN_KIND_SERVER", t, failed)],
    );
    let services = json_at(&snapshot, &["environments", ENVIRONMENT, "services"])
        .cloned()
        .unwrap_or(json!({}));
    let subject = format!("snapshot → environments.{ENVIRONMENT}.services");
    expect.u64_eq(
        &subject,
        &services,
        &[CHECKOUT, "ingestion", "traces", "items"],
        3 * t,
    );
    expect.u64_eq(
        &subject,
        &services,
        &[PAYMENT, "ingestion", "traces", "items"],
        t,
    );

    let m = expected.metric_requests;
    let checkout_metrics: &[&str] = if m > 0 {
        &["app.orders.placed", "http.server.request.duration"]
    } else {
        &[]
    };
    let payment_metrics: &[&str] = if m > 0 {
        &["app.payment.inflight"]
    } else {
        &[]
    };
    expect.keys_eq(
        &subject,
        &services,
        &[CHECKOUT, "metrics"],
        checkout_metrics,
    );
    expect.keys_eq(&subject, &services, &[PAYMENT, "metrics"], payment_metrics);
    if m > 0 {
        expect.u64_eq(
            &subject,
            &services,
            &[
                CHECKOUT,
                "metrics",
                "http.server.request.duration",
                "dataPoints",
            ],
            expected.metric_series,
        );
        expect.u64_eq(
            &subject,
            &services,
            &[CHECKOUT, "metrics", "app.orders.placed", "dataPoints"],
            m,
        );
        expect.u64_eq(
            &subject,
            &services,
            &[PAYMENT, "metrics", "app.payment.inflight", "dataPoints"],
            m,
        );
    }

    let l = expected.log_requests;
    expect.u64_eq(
        &subject,
        &services,
        &[CHECKOUT, "logs", "records"],
        expected.log_records,
    );
    expect.u64_eq(&subject, &services, &[PAYMENT, "logs", "records"], l);
    let info: &[(&str, u64)] = if expected.log_records > 0 {
        &[("INFO", expected.log_records)]
    } else {
        &[]
    };
    let warn: &[(&str, u64)] = if l > 0 { &[("WARN", l)] } else { &[] };
    expect.u64_map_eq(&subject, &services, &[CHECKOUT, "logs", "severities"], info);
    expect.u64_map_eq(&subject, &services, &[PAYMENT, "logs", "severities"], warn);

    expect.finish(what, &receiver.stderr_tail());
}
