//! The shop the comparison tests run on: frontend, checkout, payment and
//! cart, modelled on the OpenTelemetry demo, described per request.

use otel_parity_proto::v1 as pb;
use pb::SpanKind::{Client, Consumer, Internal, Producer, Server};

use super::described::{Edge, Logs, Metric, Op, Sampler, Service};

/// The shop described per request, sampled at 25% with thresholds (`th:c`) as in production.
pub fn described_shop() -> Vec<Service> {
    let th_c = Sampler::Threshold("c", 0.25);
    let http_server = || {
        vec![
            "http.request.method",
            "http.route",
            "url.path",
            "http.response.status_code",
        ]
    };
    let rpc = || {
        vec![
            "rpc.system",
            "rpc.service",
            "rpc.method",
            "rpc.grpc.status_code",
        ]
    };
    let seconds = vec![
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ];
    let millis = vec![
        0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0,
    ];
    let rpc_metric = |per_1k| Metric {
        name: "rpc.server.duration",
        kind: "histogram",
        unit: "ms",
        monotonic: false,
        temporality: "cumulative",
        bounds: millis.clone(),
        keys: vec![
            ("rpc.method", 3.0),
            ("rpc.service", 1.0),
            ("rpc.grpc.status_code", 3.0),
        ],
        series: 9.0,
        per_1k,
    };
    let counter = |name, unit, keys: Vec<(&'static str, f64)>, series, per_1k| Metric {
        name,
        kind: "sum",
        unit,
        monotonic: true,
        temporality: "cumulative",
        bounds: vec![],
        keys,
        series,
        per_1k,
    };
    let op = |name, kind, per_request, attrs: Vec<&'static str>, remote_share| Op {
        name,
        kind,
        per_request,
        attrs,
        remote_share,
    };
    let edge = |parent_service, parent, child, share| Edge {
        parent_service,
        parent,
        child,
        share,
    };
    let node = |version| {
        vec![
            ("telemetry.sdk.language", "nodejs"),
            ("telemetry.sdk.name", "opentelemetry"),
            ("telemetry.sdk.version", "1.30.1"),
            ("process.runtime.name", "nodejs"),
            ("process.runtime.version", "22.11.0"),
            ("os.type", "linux"),
            ("host.arch", "amd64"),
            ("service.version", version),
        ]
    };
    let frontend = Service {
        key: "shop/frontend",
        requests: 100_000.0,
        resource: node("2.1.0"),
        scopes: vec![
            ("@opentelemetry/instrumentation-http", "0.57.0"),
            ("@opentelemetry/instrumentation-grpc", "0.57.0"),
        ],
        ops: vec![
            op("GET /api/products", Server, 0.5, http_server(), 0.0),
            op("GET /api/cart", Server, 0.4, http_server(), 0.0),
            op("POST /api/checkout", Server, 0.1, http_server(), 0.0),
            op(
                "GET",
                Client,
                0.5,
                vec!["http.request.method", "server.address", "url.full"],
                0.0,
            ),
            op("oteldemo.CartService/GetCart", Client, 0.4, rpc(), 0.0),
            op(
                "oteldemo.CheckoutService/PlaceOrder",
                Client,
                0.1,
                rpc(),
                0.0,
            ),
        ],
        edges: vec![
            edge(
                "shop/frontend",
                ("GET /api/products", Server),
                ("GET", Client),
                1.0,
            ),
            edge(
                "shop/frontend",
                ("GET /api/cart", Server),
                ("oteldemo.CartService/GetCart", Client),
                1.0,
            ),
            edge(
                "shop/frontend",
                ("POST /api/checkout", Server),
                ("oteldemo.CheckoutService/PlaceOrder", Client),
                1.0,
            ),
        ],
        metrics: vec![
            Metric {
                name: "http.server.request.duration",
                kind: "histogram",
                unit: "s",
                monotonic: false,
                temporality: "cumulative",
                bounds: seconds.clone(),
                keys: vec![
                    ("http.request.method", 2.0),
                    ("http.route", 3.0),
                    ("http.response.status_code", 5.0),
                ],
                series: 30.0,
                per_1k: 50.0,
            },
            Metric {
                name: "v8js.memory.heap.used",
                kind: "gauge",
                unit: "By",
                monotonic: false,
                temporality: "",
                bounds: vec![],
                keys: vec![("v8js.heap.space.name", 5.0)],
                series: 5.0,
                per_1k: 20.0,
            },
        ],
        logs: Some(Logs {
            per_request: 0.2,
            severities: vec![("INFO", 0.85), ("WARN", 0.1), ("ERROR", 0.05)],
            events: vec![],
            trace_share: 0.9,
        }),
        request_metric: true,
        sampler: th_c,
        span_factor: 1.0,
    };
    let checkout = Service {
        key: "shop/checkout",
        requests: 10_000.0,
        resource: vec![
            ("telemetry.sdk.language", "go"),
            ("telemetry.sdk.name", "opentelemetry"),
            ("telemetry.sdk.version", "1.34.0"),
            ("process.runtime.name", "go"),
            ("process.runtime.version", "go1.23.4"),
            ("os.type", "linux"),
            ("service.version", "2.1.0"),
        ],
        scopes: vec![(
            "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc",
            "0.59.0",
        )],
        ops: vec![
            op(
                "oteldemo.CheckoutService/PlaceOrder",
                Server,
                1.0,
                rpc(),
                1.0,
            ),
            op(
                "prepareOrderItemsAndShippingQuoteFromCart",
                Internal,
                1.0,
                vec!["app.cart.items.count"],
                0.0,
            ),
            op("oteldemo.PaymentService/Charge", Client, 1.0, rpc(), 0.0),
            op("oteldemo.ShippingService/GetQuote", Client, 1.0, rpc(), 0.0),
            op("oteldemo.CartService/EmptyCart", Client, 1.0, rpc(), 0.0),
            op(
                "orders publish",
                Producer,
                1.0,
                vec!["messaging.system", "messaging.destination.name"],
                0.0,
            ),
        ],
        edges: vec![
            edge(
                "shop/frontend",
                ("oteldemo.CheckoutService/PlaceOrder", Client),
                ("oteldemo.CheckoutService/PlaceOrder", Server),
                1.0,
            ),
            edge(
                "shop/checkout",
                ("oteldemo.CheckoutService/PlaceOrder", Server),
                ("oteldemo.PaymentService/Charge", Client),
                1.0,
            ),
            edge(
                "shop/checkout",
                ("oteldemo.CheckoutService/PlaceOrder", Server),
                ("orders publish", Producer),
                1.0,
            ),
        ],
        metrics: vec![
            rpc_metric(40.0),
            counter(
                "app.orders.placed",
                "{order}",
                vec![("app.order.channel", 3.0)],
                3.0,
                20.0,
            ),
            Metric {
                name: "go.memory.used",
                kind: "sum",
                unit: "By",
                monotonic: false,
                temporality: "cumulative",
                bounds: vec![],
                keys: vec![("go.memory.type", 2.0)],
                series: 2.0,
                per_1k: 20.0,
            },
        ],
        logs: Some(Logs {
            per_request: 1.0,
            severities: vec![("INFO", 0.9), ("WARN", 0.06), ("ERROR", 0.04)],
            events: vec![("order.placed", 0.9)],
            trace_share: 0.98,
        }),
        request_metric: true,
        sampler: th_c,
        span_factor: 1.0,
    };
    let payment = Service {
        key: "shop/payment",
        requests: 10_000.0,
        resource: node("2.1.0"),
        scopes: vec![
            ("@opentelemetry/instrumentation-grpc", "0.57.0"),
            ("paymentservice", ""),
        ],
        ops: vec![
            op("oteldemo.PaymentService/Charge", Server, 1.0, rpc(), 1.0),
            op(
                "charge",
                Internal,
                1.0,
                vec!["app.payment.card_type", "app.loyalty.level"],
                0.0,
            ),
        ],
        edges: vec![
            edge(
                "shop/checkout",
                ("oteldemo.PaymentService/Charge", Client),
                ("oteldemo.PaymentService/Charge", Server),
                1.0,
            ),
            edge(
                "shop/payment",
                ("oteldemo.PaymentService/Charge", Server),
                ("charge", Internal),
                1.0,
            ),
        ],
        metrics: vec![
            rpc_metric(40.0),
            counter(
                "app.payment.transactions",
                "{transaction}",
                vec![("app.payment.currency", 5.0)],
                5.0,
                20.0,
            ),
        ],
        logs: Some(Logs {
            per_request: 2.0,
            severities: vec![("INFO", 0.9), ("WARN", 0.08), ("ERROR", 0.02)],
            events: vec![("payment.charged", 0.48), ("payment.failed", 0.02)],
            trace_share: 0.95,
        }),
        request_metric: true,
        sampler: th_c,
        span_factor: 1.0,
    };
    let cart = Service {
        key: "shop/cart",
        requests: 50_000.0,
        resource: vec![
            ("telemetry.sdk.language", "dotnet"),
            ("telemetry.sdk.name", "opentelemetry"),
            ("telemetry.sdk.version", "1.10.0"),
            ("process.runtime.name", ".NET"),
            ("process.runtime.version", "8.0.11"),
            ("os.type", "linux"),
            ("service.version", "2.1.0"),
        ],
        scopes: vec![
            ("OpenTelemetry.Instrumentation.AspNetCore", "1.10.1"),
            (
                "OpenTelemetry.Instrumentation.StackExchangeRedis",
                "1.10.0-beta.1",
            ),
        ],
        ops: vec![
            op("oteldemo.CartService/GetCart", Server, 0.7, rpc(), 1.0),
            op("oteldemo.CartService/AddItem", Server, 0.1, rpc(), 1.0),
            op("oteldemo.CartService/EmptyCart", Server, 0.2, rpc(), 1.0),
            op(
                "cart-events process",
                Consumer,
                0.2,
                vec!["messaging.system", "messaging.operation.type"],
                0.9,
            ),
            op(
                "HGET",
                Client,
                0.9,
                vec!["db.system.name", "db.operation.name", "server.address"],
                0.0,
            ),
        ],
        edges: vec![
            edge(
                "shop/frontend",
                ("oteldemo.CartService/GetCart", Client),
                ("oteldemo.CartService/GetCart", Server),
                1.0,
            ),
            edge(
                "shop/checkout",
                ("oteldemo.CartService/EmptyCart", Client),
                ("oteldemo.CartService/EmptyCart", Server),
                1.0,
            ),
            edge(
                "shop/cart",
                ("oteldemo.CartService/GetCart", Server),
                ("HGET", Client),
                0.78,
            ),
            edge(
                "shop/cart",
                ("oteldemo.CartService/AddItem", Server),
                ("HGET", Client),
                0.11,
            ),
        ],
        metrics: vec![
            Metric {
                name: "app.cart.add_item.latency",
                kind: "histogram",
                unit: "s",
                monotonic: false,
                temporality: "delta",
                bounds: seconds,
                keys: vec![],
                series: 1.0,
                per_1k: 10.0,
            },
            counter(
                "dotnet.gc.collections",
                "{collection}",
                vec![("dotnet.gc.heap.generation", 3.0)],
                3.0,
                10.0,
            ),
        ],
        logs: Some(Logs {
            per_request: 0.1,
            severities: vec![("INFO", 0.95), ("WARN", 0.05)],
            events: vec![],
            trace_share: 0.9,
        }),
        // No request-duration metric: requests come from SERVER spans.
        request_metric: false,
        sampler: th_c,
        span_factor: 1.0,
    };
    vec![frontend, checkout, payment, cart]
}
