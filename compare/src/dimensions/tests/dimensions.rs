//! One planted difference per case; each must produce exactly the expected
//! findings, at prod's scale and at staging's smaller scale alike.

use otel_parity_testkit::fingerprint::described::{
    Edge, Logs, Metric, Op, Sampler, Scale, Service, build, service_mut,
};
use otel_parity_testkit::fingerprint::described_shop;

use super::*;
use Dimension::*;
use Severity::*;
use pb::SpanKind::{Client, Server};

struct Case {
    name: &'static str,
    /// Applied to staging's description.
    plant: fn(&mut Vec<Service>),
    /// Applied to prod's description (most cases leave prod alone).
    baseline: fn(&mut Vec<Service>),
    expect: &'static [(Dimension, &'static str, &'static str, Severity)],
}

fn nothing(_: &mut Vec<Service>) {}

fn metric<'a>(shop: &'a mut [Service], key: &str, name: &str) -> &'a mut Metric {
    service_mut(shop, key)
        .metrics
        .iter_mut()
        .find(|m| m.name == name)
        .expect("metric")
}

fn op<'a>(shop: &'a mut [Service], key: &str, name: &str) -> &'a mut Op {
    service_mut(shop, key)
        .ops
        .iter_mut()
        .find(|o| o.name == name)
        .expect("operation")
}

fn logs<'a>(shop: &'a mut [Service], key: &str) -> &'a mut Logs {
    service_mut(shop, key).logs.as_mut().expect("logs")
}

fn set_resource(shop: &mut [Service], key: &str, name: &str, value: &'static str) {
    let resource = &mut service_mut(shop, key).resource;
    let entry = resource
        .iter_mut()
        .find(|(k, _)| *k == name)
        .expect("resource key");
    entry.1 = value;
}

/// The frontend on an older HTTP instrumentation: `http.server.duration` in
/// ms with `http.method` and `http.status_code` (semconv before 1.22.0).
pub(super) fn old_http_semconv(shop: &mut [Service]) {
    let m = metric(shop, "shop/frontend", "http.server.request.duration");
    m.name = "http.server.duration";
    m.unit = "ms";
    m.bounds = m.bounds.iter().map(|b| b * 1000.0).collect();
    for (key, _) in &mut m.keys {
        *key = match *key {
            "http.request.method" => "http.method",
            "http.response.status_code" => "http.status_code",
            other => other,
        };
    }
}

const CHARGE_EDGE: &str = "shop/checkout: oteldemo.PaymentService/Charge (client) -> oteldemo.PaymentService/Charge (server)";

fn without_charge_edge(edges: &mut Vec<Edge>) {
    edges.retain(|e| {
        !(e.parent_service == "shop/checkout"
            && e.child == ("oteldemo.PaymentService/Charge", Server))
    });
}

const CASES: &[Case] = &[
    Case {
        name: "baseline service absent from candidate",
        plant: |s| s.retain(|s| s.key != "shop/cart"),
        baseline: nothing,
        expect: &[(Services, "shop/cart", "shop/cart", High)],
    },
    Case {
        name: "candidate-only service",
        plant: |s| {
            let mut extra = service_mut(s, "shop/payment").clone();
            extra.key = "shop/recommendation";
            extra.edges.clear();
            s.push(extra);
        },
        baseline: nothing,
        expect: &[(Services, "shop/recommendation", "shop/recommendation", Info)],
    },
    Case {
        name: "service sends no spans in candidate",
        plant: |s| service_mut(s, "shop/checkout").span_factor = 0.0,
        baseline: nothing,
        expect: &[(MissingTraces, "shop/checkout", "spans", Critical)],
    },
    Case {
        name: "candidate keeps far fewer spans per request",
        plant: |s| service_mut(s, "shop/checkout").span_factor = 0.05,
        baseline: nothing,
        expect: &[(
            MissingTraces,
            "shop/checkout",
            "spans per 1k requests",
            Critical,
        )],
    },
    Case {
        name: "metric missing in candidate",
        plant: |s| {
            service_mut(s, "shop/checkout")
                .metrics
                .retain(|m| m.name != "app.orders.placed")
        },
        baseline: nothing,
        expect: &[(
            MetricDefinitions,
            "shop/checkout",
            "app.orders.placed",
            High,
        )],
    },
    Case {
        name: "metric type differs",
        plant: |s| {
            let m = metric(s, "shop/checkout", "app.orders.placed");
            m.kind = "gauge";
            m.temporality = "";
        },
        baseline: nothing,
        expect: &[(
            MetricDefinitions,
            "shop/checkout",
            "app.orders.placed",
            High,
        )],
    },
    Case {
        name: "counter became an up-down counter",
        plant: |s| metric(s, "shop/payment", "app.payment.transactions").monotonic = false,
        baseline: nothing,
        expect: &[(
            MetricDefinitions,
            "shop/payment",
            "app.payment.transactions",
            High,
        )],
    },
    Case {
        name: "metric unit differs",
        plant: |s| metric(s, "shop/checkout", "app.orders.placed").unit = "1",
        baseline: nothing,
        expect: &[(
            MetricDefinitions,
            "shop/checkout",
            "app.orders.placed",
            High,
        )],
    },
    Case {
        name: "metric temporality differs",
        plant: |s| metric(s, "shop/payment", "rpc.server.duration").temporality = "delta",
        baseline: nothing,
        expect: &[(
            MetricDefinitions,
            "shop/payment",
            "rpc.server.duration",
            Medium,
        )],
    },
    Case {
        name: "histogram bucket layout differs",
        plant: |s| {
            metric(s, "shop/frontend", "http.server.request.duration").bounds = vec![
                0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0,
                5000.0, 7500.0, 10000.0,
            ]
        },
        baseline: nothing,
        expect: &[(
            MetricDefinitions,
            "shop/frontend",
            "http.server.request.duration",
            Medium,
        )],
    },
    Case {
        name: "candidate-only metric",
        plant: |s| {
            let mut extra = metric(s, "shop/checkout", "app.orders.placed").clone();
            extra.name = "app.orders.cancelled";
            service_mut(s, "shop/checkout").metrics.push(extra);
        },
        baseline: nothing,
        expect: &[(
            MetricDefinitions,
            "shop/checkout",
            "app.orders.cancelled",
            Info,
        )],
    },
    Case {
        name: "label key missing in candidate",
        plant: |s| {
            metric(s, "shop/checkout", "rpc.server.duration")
                .keys
                .retain(|(k, _)| *k != "rpc.method")
        },
        baseline: nothing,
        expect: &[(
            LabelKeys,
            "shop/checkout",
            "rpc.server.duration{rpc.method}",
            Medium,
        )],
    },
    Case {
        name: "extra label key in candidate",
        plant: |s| {
            metric(s, "shop/checkout", "app.orders.placed")
                .keys
                .push(("cloud.region", 1.0))
        },
        baseline: nothing,
        expect: &[(
            LabelKeys,
            "shop/checkout",
            "app.orders.placed{cloud.region}",
            Low,
        )],
    },
    Case {
        name: "series cardinality explodes in candidate",
        plant: |s| {
            let m = metric(s, "shop/frontend", "http.server.request.duration");
            m.series = 6000.0;
            m.keys[1].1 = 600.0;
        },
        baseline: nothing,
        expect: &[(
            Cardinality,
            "shop/frontend",
            "http.server.request.duration",
            Medium,
        )],
    },
    Case {
        name: "client operation missing",
        plant: |s| {
            service_mut(s, "shop/checkout")
                .ops
                .retain(|o| o.name != "oteldemo.ShippingService/GetQuote")
        },
        baseline: nothing,
        expect: &[(
            SpanOperations,
            "shop/checkout",
            "oteldemo.ShippingService/GetQuote (client)",
            Medium,
        )],
    },
    Case {
        name: "server operation missing",
        plant: |s| {
            service_mut(s, "shop/cart")
                .ops
                .retain(|o| o.name != "oteldemo.CartService/AddItem")
        },
        baseline: nothing,
        expect: &[(
            SpanOperations,
            "shop/cart",
            "oteldemo.CartService/AddItem (server)",
            High,
        )],
    },
    Case {
        name: "operation recorded under another kind",
        plant: |s| {
            op(
                s,
                "shop/checkout",
                "prepareOrderItemsAndShippingQuoteFromCart",
            )
            .kind = Client
        },
        baseline: nothing,
        expect: &[(
            SpanOperations,
            "shop/checkout",
            "prepareOrderItemsAndShippingQuoteFromCart",
            Medium,
        )],
    },
    Case {
        name: "span attribute key missing",
        plant: |s| {
            op(s, "shop/frontend", "GET /api/products")
                .attrs
                .retain(|k| *k != "http.route")
        },
        baseline: nothing,
        expect: &[(
            SpanAttributes,
            "shop/frontend",
            "GET /api/products (server){http.route}",
            Medium,
        )],
    },
    Case {
        name: "cross-service edge missing",
        plant: |s| without_charge_edge(&mut service_mut(s, "shop/payment").edges),
        baseline: nothing,
        expect: &[(Edges, "shop/payment", CHARGE_EDGE, Medium)],
    },
    Case {
        name: "context not propagated into a server span",
        plant: |s| {
            op(s, "shop/payment", "oteldemo.PaymentService/Charge").remote_share = 0.0;
            without_charge_edge(&mut service_mut(s, "shop/payment").edges);
        },
        baseline: nothing,
        expect: &[(
            ContextPropagation,
            "shop/payment",
            "oteldemo.PaymentService/Charge (server)",
            High,
        )],
    },
    Case {
        name: "sampling probability differs",
        plant: |s| service_mut(s, "shop/checkout").sampler = Sampler::Threshold("8", 0.5),
        baseline: nothing,
        expect: &[(Sampling, "shop/checkout", "threshold", Medium)],
    },
    // Issue 13 #2: one sampler, one finding. The lost thresholds and the 4×
    // inferred rate are the same cause: one medium finding (it was an info
    // `threshold` and a medium `inferred_rate` one before).
    Case {
        name: "candidate samples everything without thresholds",
        plant: |s| service_mut(s, "shop/checkout").sampler = Sampler::NoThreshold(1.0),
        baseline: nothing,
        expect: &[(Sampling, "shop/checkout", "threshold", Medium)],
    },
    Case {
        name: "candidate tail-samples at the same rate without thresholds",
        plant: |s| service_mut(s, "shop/checkout").sampler = Sampler::NoThreshold(0.25),
        baseline: nothing,
        expect: &[
            (Sampling, "shop/checkout", "threshold", Low),
            (Ingestion, "shop/checkout", "traces", Low),
        ],
    },
    Case {
        name: "inferred sampling rates differ without thresholds",
        plant: |s| service_mut(s, "shop/checkout").sampler = Sampler::NoThreshold(0.05),
        baseline: |s| service_mut(s, "shop/checkout").sampler = Sampler::NoThreshold(0.25),
        expect: &[
            (Sampling, "shop/checkout", "inferred_rate", Medium),
            (Ingestion, "shop/checkout", "traces", Low),
        ],
    },
    Case {
        name: "log event name missing",
        plant: |s| {
            logs(s, "shop/payment")
                .events
                .retain(|(e, _)| *e != "payment.charged")
        },
        baseline: nothing,
        expect: &[(Logs, "shop/payment", "event payment.charged", Medium)],
    },
    Case {
        name: "log-trace correlation drops",
        plant: |s| logs(s, "shop/checkout").trace_share = 0.2,
        baseline: nothing,
        expect: &[(Logs, "shop/checkout", "trace correlation", Medium)],
    },
    Case {
        name: "a severity disappears",
        plant: |s| logs(s, "shop/checkout").severities = vec![("INFO", 0.96), ("ERROR", 0.04)],
        baseline: nothing,
        expect: &[(Logs, "shop/checkout", "severity WARN", Low)],
    },
    Case {
        name: "service sends no logs in candidate",
        plant: |s| service_mut(s, "shop/payment").logs = None,
        baseline: nothing,
        expect: &[(Logs, "shop/payment", "log records", Medium)],
    },
    Case {
        name: "SDK language differs",
        plant: |s| set_resource(s, "shop/payment", "telemetry.sdk.language", "python"),
        baseline: nothing,
        expect: &[(Versions, "shop/payment", "telemetry.sdk.language", Medium)],
    },
    Case {
        name: "SDK version differs",
        plant: |s| set_resource(s, "shop/frontend", "telemetry.sdk.version", "1.28.0"),
        baseline: nothing,
        expect: &[(Versions, "shop/frontend", "telemetry.sdk.version", Low)],
    },
    Case {
        name: "runtime version differs",
        plant: |s| set_resource(s, "shop/checkout", "process.runtime.version", "go1.22.10"),
        baseline: nothing,
        expect: &[(Versions, "shop/checkout", "process.runtime.version", Low)],
    },
    Case {
        name: "service version differs",
        plant: |s| set_resource(s, "shop/cart", "service.version", "2.2.0-rc.1"),
        baseline: nothing,
        expect: &[(Versions, "shop/cart", "service.version", Info)],
    },
    Case {
        name: "instrumentation scope missing",
        plant: |s| {
            service_mut(s, "shop/cart")
                .scopes
                .retain(|(n, _)| *n != "OpenTelemetry.Instrumentation.StackExchangeRedis")
        },
        baseline: nothing,
        expect: &[(
            Versions,
            "shop/cart",
            "OpenTelemetry.Instrumentation.StackExchangeRedis",
            Low,
        )],
    },
    Case {
        name: "instrumentation scope version differs",
        plant: |s| service_mut(s, "shop/frontend").scopes[0].1 = "0.52.1",
        baseline: nothing,
        expect: &[(
            Versions,
            "shop/frontend",
            "@opentelemetry/instrumentation-http",
            Low,
        )],
    },
    Case {
        name: "metric under the old semconv name, unit and label keys",
        plant: |s| old_http_semconv(s),
        baseline: nothing,
        expect: &[(
            Semconv,
            "shop/frontend",
            "http.server.request.duration",
            Medium,
        )],
    },
    Case {
        name: "three times the logs per request",
        plant: |s| logs(s, "shop/payment").per_request *= 3.0,
        baseline: nothing,
        expect: &[(Ingestion, "shop/payment", "logs", Medium)],
    },
];

#[test]
fn every_planted_difference_produces_exactly_its_findings() {
    let mut failures = Vec::new();
    for case in CASES {
        for (scale_name, scale) in [
            ("prod scale", Scale::prod()),
            ("staging scale", staging_scale()),
        ] {
            let mut prod_shop = described_shop();
            (case.baseline)(&mut prod_shop);
            let mut staging_shop = described_shop();
            (case.baseline)(&mut staging_shop);
            (case.plant)(&mut staging_shop);
            let report = compare_envs(
                &build(&prod_shop, Scale::prod()),
                &build(&staging_shop, scale),
                &CompareOptions::new(today()),
            );
            let got = keys(&report.findings);
            let want: Vec<Key> = case
                .expect
                .iter()
                .map(|(d, s, subject, sev)| (*d, (*s).to_owned(), (*subject).to_owned(), *sev))
                .collect();
            if got != want {
                failures.push(format!(
                    "{} ({scale_name}):\n  want {want:?}\n  got  {got:#?}",
                    case.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_dimension_has_a_planted_difference_above_info() {
    for dimension in Dimension::ALL {
        assert!(
            CASES.iter().any(|c| c
                .expect
                .iter()
                .any(|(d, _, _, s)| *d == dimension && *s < Info)),
            "no case plants a {dimension} difference"
        );
    }
}

#[test]
fn unit_difference_names_both_units_and_environments() {
    let report = prod_vs(
        |s| metric(s, "shop/checkout", "app.orders.placed").unit = "1",
        staging_scale(),
    );
    let finding = find(&report, MetricDefinitions, "app.orders.placed");
    assert_eq!(finding.message, "unit {order} in prod, 1 in staging");
    assert_eq!(
        (finding.baseline.as_str(), finding.candidate.as_str()),
        ("{order}", "1")
    );
}

#[test]
fn cardinality_message_says_a_candidate_only_label_is_absent_in_the_baseline() {
    let report = prod_vs(
        |s| {
            let m = metric(s, "shop/frontend", "http.server.request.duration");
            m.series = 6000.0;
            m.keys.push(("user.id", 5000.0));
        },
        staging_scale(),
    );
    let finding = find(&report, Cardinality, "http.server.request.duration");
    assert!(
        finding.message.contains("label user.id has ≈"),
        "{}",
        finding.message
    );
    assert!(
        finding
            .message
            .ends_with("values in staging, absent in prod"),
        "{}",
        finding.message
    );
}

#[test]
fn identical_environments_have_no_findings() {
    let prod = build(&described_shop(), Scale::prod());
    let report = compare_envs(&prod, &prod.clone(), &CompareOptions::new(today()));
    assert_eq!(keys(&report.findings), vec![]);
    assert_eq!(report.scores.coverage, 1.0);
    assert_eq!(report.scores.composite, 100.0);
}

#[test]
fn rare_baseline_event_absent_from_a_small_candidate_is_info() {
    // payment.failed is 2% of prod's payment logs; staging at 1/1000 of the
    // traffic has 20 records, so 0.4 failures are expected: absence is chance.
    let report = prod_vs(
        |s| {
            logs(s, "shop/payment")
                .events
                .retain(|(e, _)| *e != "payment.failed")
        },
        Scale {
            traffic: 0.001,
            instances: 1.0,
            series: 0.5,
            intervals: 30.0,
        },
    );
    let finding = find(&report, Logs, "event payment.failed");
    assert_eq!(finding.severity, Info);
}
