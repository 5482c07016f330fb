//! The test's OTLP traffic, shaped like the OpenTelemetry demo shop: a browser-facing frontend
//! calling product-catalog, cart, checkout, and checkout fanning out to payment, shipping and
//! (through a queue) accounting. Each export request holds a few traces, grouped by service as an
//! SDK's batch exporter would send them, and [`Tally`] counts what a request carries, per
//! service and per operation, the way the receiver's fingerprint counts it.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status as SpanStatus, span, status,
};

/// `service.namespace` of every service, as in the demo.
pub const NAMESPACE: &str = "opentelemetry-demo";

/// First span start of the test data: 2023-11-14T22:13:20Z.
const EPOCH_NANOS: u64 = 1_700_000_000_000_000_000;

/// Every `PAYMENT_FAILS_EVERY`th checkout trace has its charge declined.
const PAYMENT_FAILS_EVERY: u64 = 7;

/// A demo service: name, version, SDK language, instrumentation scope.
struct Service {
    name: &'static str,
    version: &'static str,
    language: &'static str,
    scope: &'static str,
}

const FRONTEND: Service = Service {
    name: "frontend",
    version: "2.0.2",
    language: "nodejs",
    scope: "@opentelemetry/instrumentation-http",
};
const PRODUCT_CATALOG: Service = Service {
    name: "product-catalog",
    version: "2.0.2",
    language: "go",
    scope: "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc",
};
const CART: Service = Service {
    name: "cart",
    version: "2.0.2",
    language: "dotnet",
    scope: "OpenTelemetry.Instrumentation.AspNetCore",
};
const CHECKOUT: Service = Service {
    name: "checkout",
    version: "2.0.2",
    language: "go",
    scope: "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc",
};
const PAYMENT: Service = Service {
    name: "payment",
    version: "2.0.2",
    language: "nodejs",
    scope: "@opentelemetry/instrumentation-grpc",
};
const SHIPPING: Service = Service {
    name: "shipping",
    version: "2.0.2",
    language: "rust",
    scope: "opentelemetry-instrumentation-actix-web",
};
const ACCOUNTING: Service = Service {
    name: "accounting",
    version: "2.0.2",
    language: "dotnet",
    scope: "OpenTelemetry.Instrumentation.ConfluentKafka",
};

/// Every service, in the order their resource blocks appear in a request.
const SERVICES: [&Service; 7] = [
    &FRONTEND,
    &PRODUCT_CATALOG,
    &CART,
    &CHECKOUT,
    &PAYMENT,
    &SHIPPING,
    &ACCOUNTING,
];

use span::SpanKind::{Client, Consumer, Internal, Producer, Server};

const LIST_PRODUCTS: &str = "oteldemo.ProductCatalogService/ListProducts";
const ADD_ITEM: &str = "oteldemo.CartService/AddItem";
const PLACE_ORDER: &str = "oteldemo.CheckoutService/PlaceOrder";
const CHARGE: &str = "oteldemo.PaymentService/Charge";
const SHIP_ORDER: &str = "oteldemo.ShippingService/ShipOrder";
const PREPARE_ORDER: &str = "prepareOrderItemsAndShippingQuoteFromCart";

/// One span of a trace's shape: service, kind, name, the index of its parent in the shape,
/// and its start (from the trace's start) and duration in milliseconds.
type Step = (
    &'static Service,
    span::SpanKind,
    &'static str,
    Option<usize>,
    u64,
    u64,
);

/// A product listing.
const BROWSE: &[Step] = &[
    (&FRONTEND, Server, "GET /api/products", None, 0, 21),
    (&FRONTEND, Client, LIST_PRODUCTS, Some(0), 2, 17),
    (&PRODUCT_CATALOG, Server, LIST_PRODUCTS, Some(1), 3, 14),
];

/// An item added to the cart, kept in Valkey.
const ADD_TO_CART: &[Step] = &[
    (&FRONTEND, Server, "POST /api/cart", None, 0, 12),
    (&FRONTEND, Client, ADD_ITEM, Some(0), 1, 10),
    (&CART, Server, ADD_ITEM, Some(1), 2, 8),
    (&CART, Client, "HGET", Some(2), 3, 1),
    (&CART, Client, "HMSET", Some(2), 5, 2),
];

/// An order placed: charged, shipped, and published to accounting. A declined charge ends the
/// trace after the payment span ([`DECLINED_AFTER`] steps), every span but the internal one
/// failing.
const CHECKOUT_ORDER: &[Step] = &[
    (&FRONTEND, Server, "POST /api/checkout", None, 0, 95),
    (&FRONTEND, Client, PLACE_ORDER, Some(0), 2, 90),
    (&CHECKOUT, Server, PLACE_ORDER, Some(1), 3, 88),
    (&CHECKOUT, Internal, PREPARE_ORDER, Some(2), 4, 20),
    (&CHECKOUT, Client, CHARGE, Some(2), 25, 30),
    (&PAYMENT, Server, CHARGE, Some(4), 26, 28),
    (&CHECKOUT, Client, SHIP_ORDER, Some(2), 56, 12),
    (&SHIPPING, Server, SHIP_ORDER, Some(6), 57, 10),
    (&CHECKOUT, Producer, "orders publish", Some(2), 70, 3),
    (&ACCOUNTING, Consumer, "orders process", Some(8), 80, 6),
];
const DECLINED_AFTER: usize = 6;
const DECLINED: &str = "Payment request failed. Invalid token. app.loyalty.level=gold";

/// Export request `round` of environment `env`: 1 to 4 traces, each a product listing, an
/// add-to-cart or a checkout (whose charge is declined every seventh time), grouped by service.
pub fn demo_request(env: &str, round: u64) -> ExportTraceServiceRequest {
    let mut spans: BTreeMap<&str, Vec<Span>> = BTreeMap::new();
    for trace in 0..1 + round % 4 {
        let journey = (round + trace) % 3;
        let declined = journey == 2 && (round * 4 + trace).is_multiple_of(PAYMENT_FAILS_EVERY);
        let shape = match journey {
            0 => BROWSE,
            1 => ADD_TO_CART,
            _ if declined => &CHECKOUT_ORDER[..DECLINED_AFTER],
            _ => CHECKOUT_ORDER,
        };
        let context = TraceContext {
            env,
            round,
            trace,
            user: format!("{:08x}-5b1e-4c7e-9a3f-{:012x}", round * 13 + trace, trace),
            declined,
        };
        for (index, step) in shape.iter().enumerate() {
            spans
                .entry(step.0.name)
                .or_default()
                .push(context.span(index, step));
        }
    }
    let resource_spans = SERVICES
        .iter()
        .filter_map(|service| {
            Some(ResourceSpans {
                resource: Some(resource(env, service)),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: service.scope.to_owned(),
                        version: "0.57.0".to_owned(),
                        ..Default::default()
                    }),
                    spans: spans.remove(service.name)?,
                    ..Default::default()
                }],
                ..Default::default()
            })
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

/// One trace of one request.
struct TraceContext<'a> {
    env: &'a str,
    round: u64,
    trace: u64,
    user: String,
    declined: bool,
}

impl TraceContext<'_> {
    /// The span of `step`, the `index`th of the trace's shape.
    fn span(&self, index: usize, &(_, kind, name, parent, start_ms, duration_ms): &Step) -> Span {
        let start = EPOCH_NANOS + self.round * 10_000_000_000 + self.trace * 100_000_000;
        let start = start + start_ms * 1_000_000;
        // The W3C sampled bit, plus "parent is remote" where the context crossed a process.
        let remote = parent.is_some() && matches!(kind, Server | Consumer);
        let failed = self.declined && kind != Internal;
        Span {
            trace_id: self.trace_id(),
            span_id: self.span_id(index),
            parent_span_id: parent.map(|p| self.span_id(p)).unwrap_or_default(),
            trace_state: "ot=th:0".to_owned(),
            flags: if remote { 0x301 } else { 0x101 },
            name: name.to_owned(),
            kind: kind as i32,
            start_time_unix_nano: start,
            end_time_unix_nano: start + duration_ms * 1_000_000,
            attributes: self.attributes(kind, name),
            status: failed.then(|| SpanStatus {
                code: status::StatusCode::Error as i32,
                message: DECLINED.to_owned(),
            }),
            ..Default::default()
        }
    }

    /// A trace id unique to (environment, round, trace).
    fn trace_id(&self) -> Vec<u8> {
        let env_bits: u64 = if self.env == "prod" { 0x1 } else { 0x2 };
        let high = 0x5b8a_a5a2_d2c8_72e8 ^ (env_bits << 60) ^ self.round;
        let low = 0x0f9d_1c2b_3a49_5867_u64.wrapping_add(self.trace);
        [high.to_be_bytes(), low.to_be_bytes()].concat()
    }

    fn span_id(&self, index: usize) -> Vec<u8> {
        ((self.round << 24) | (self.trace << 8) | (index as u64 + 1))
            .to_be_bytes()
            .to_vec()
    }

    /// The attributes the demo's instrumentations put on such a span.
    fn attributes(&self, kind: span::SpanKind, name: &str) -> Vec<KeyValue> {
        if let Some((method, route)) = name.split_once(" /") {
            let status = if self.declined { 500 } else { 200 };
            return vec![
                string_kv("http.request.method", method),
                string_kv("http.route", &format!("/{route}")),
                string_kv("url.scheme", "http"),
                int_kv("http.response.status_code", status),
                string_kv(
                    "user_agent.original",
                    "Mozilla/5.0 (X11; Linux x86_64) Chrome/126",
                ),
                string_kv("session.id", &self.user),
            ];
        }
        if let Some((service, method)) = name.split_once('/') {
            let code = if self.declined && method != "ShipOrder" {
                13
            } else {
                0
            };
            let mut attributes = vec![
                string_kv("rpc.system", "grpc"),
                string_kv("rpc.service", service),
                string_kv("rpc.method", method),
                int_kv("rpc.grpc.status_code", code),
            ];
            if kind == Server {
                match name {
                    ADD_ITEM => {
                        attributes.push(string_kv("app.user.id", &self.user));
                        attributes
                            .push(int_kv("app.product.quantity", 1 + (self.trace % 3) as i64));
                    }
                    PLACE_ORDER => attributes.push(string_kv("app.user.id", &self.user)),
                    CHARGE => {
                        let card = ["visa", "mastercard", "amex"][(self.trace % 3) as usize];
                        attributes.push(string_kv("app.payment.card_type", card));
                        attributes.push(double_kv("app.payment.amount", 42.5 + self.trace as f64));
                    }
                    SHIP_ORDER => {
                        let tracking = format!("{}-{}-{}", self.env, self.round, self.trace);
                        attributes.push(string_kv("app.shipping.tracking.id", &tracking));
                    }
                    _ => {}
                }
            }
            return attributes;
        }
        match kind {
            Producer | Consumer => vec![
                string_kv("messaging.system", "kafka"),
                string_kv("messaging.destination.name", "orders"),
            ],
            Client => vec![
                string_kv("db.system", "redis"),
                string_kv("db.operation.name", name),
                string_kv("server.address", "valkey-cart"),
            ],
            _ => vec![int_kv("app.cart.items.count", 1 + (self.trace % 5) as i64)],
        }
    }
}

fn resource(env: &str, service: &Service) -> Resource {
    Resource {
        attributes: vec![
            string_kv("service.namespace", NAMESPACE),
            string_kv("service.name", service.name),
            string_kv("service.version", service.version),
            string_kv("service.instance.id", &format!("{}-{env}-0", service.name)),
            string_kv("deployment.environment.name", env),
            string_kv("host.name", &format!("{}-6c9d8b7f5-q7x2z", service.name)),
            string_kv("telemetry.sdk.name", "opentelemetry"),
            string_kv("telemetry.sdk.language", service.language),
            string_kv("telemetry.sdk.version", "1.26.0"),
        ],
        ..Default::default()
    }
}

fn string_kv(key: &str, value: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.to_owned()))
}

fn int_kv(key: &str, value: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(value))
}

fn double_kv(key: &str, value: f64) -> KeyValue {
    kv(key, any_value::Value::DoubleValue(value))
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// Spans and error spans of one operation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OperationCount {
    pub spans: u64,
    pub errors: u64,
}

/// Trace spans and export requests of one service.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCount {
    pub spans: u64,
    pub requests: u64,
}

/// What some export requests carried, keyed as the fingerprint keys it: the service as
/// `namespace/name`, the operation as (name, OTLP span kind number).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub operations: BTreeMap<(String, String, i32), OperationCount>,
    pub services: BTreeMap<String, ServiceCount>,
}

impl Tally {
    /// Adds everything `request` carries.
    pub fn add(&mut self, request: &ExportTraceServiceRequest) {
        for resource_spans in &request.resource_spans {
            let service = service_key(resource_spans.resource.as_ref());
            let spans = resource_spans.scope_spans.iter().flat_map(|s| &s.spans);
            let mut count = 0;
            for span in spans {
                let op = self
                    .operations
                    .entry((service.clone(), span.name.clone(), span.kind))
                    .or_default();
                op.spans += 1;
                let failed = span
                    .status
                    .as_ref()
                    .is_some_and(|s| s.code == status::StatusCode::Error as i32);
                op.errors += u64::from(failed);
                count += 1;
            }
            let totals = self.services.entry(service).or_default();
            totals.spans += count;
            // Each service appears once per request (see `Builder::request`).
            totals.requests += 1;
        }
    }

    /// Spans in total.
    pub fn spans(&self) -> u64 {
        self.services.values().map(|s| s.spans).sum()
    }
}

/// `namespace/name` from a resource, as the fingerprint keys services.
fn service_key(resource: Option<&Resource>) -> String {
    let attribute = |key: &str| {
        resource
            .into_iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == key)
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(s) => Some(s.clone()),
                _ => None,
            })
    };
    let name = attribute("service.name").unwrap_or_else(|| "unknown_service".to_owned());
    match attribute("service.namespace") {
        Some(namespace) if !namespace.is_empty() => format!("{namespace}/{name}"),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_sends_and_only_declined_charges_fail() {
        let mut tally = Tally::default();
        for round in 0..40 {
            tally.add(&demo_request("prod", round));
        }
        assert_eq!(tally.services.len(), SERVICES.len(), "{tally:#?}");
        // Only the spans of declined charges fail: the payment path of checkouts.
        let failing: Vec<&str> = tally
            .operations
            .iter()
            .filter(|(_, count)| count.errors > 0)
            .map(|((_, name, _), _)| name.as_str())
            .collect();
        assert_eq!(
            failing,
            [
                PLACE_ORDER,
                CHARGE,
                "POST /api/checkout",
                PLACE_ORDER,
                CHARGE,
            ],
            "{tally:#?}"
        );
    }
}
