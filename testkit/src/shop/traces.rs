//! The shop's traces: a checkout crosses frontend, checkout, payment and recommendation. The
//! span attributes are the semantic conventions' lists, of which each span carries as many as
//! its instrumentation records (or as many as a [`Load`](super::Load) asks for).

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};

use super::{Drift, SCOPE, SCOPE_VERSION, Shop};
use crate::otlp::{Ids, int, scope, string};

/// First span start of the test data: 2025-11-23T12:13:20Z.
const TRACE_START: u64 = 1_763_900_000_000_000_000;

/// How many attributes each span carries.
#[derive(Debug, Clone, Copy)]
pub(super) enum Detail {
    /// As many as the shop's instrumentations record.
    Instrumented,
    /// This many (where the conventions list that many).
    Attributes(usize),
}

impl Detail {
    fn count(self, instrumented: usize) -> usize {
        match self {
            Detail::Instrumented => instrumented,
            Detail::Attributes(count) => count,
        }
    }
}

struct SpanSpec<'a> {
    name: &'a str,
    kind: span::SpanKind,
    parent: Vec<u8>,
    remote: bool,
    attributes: Vec<KeyValue>,
    error: bool,
    millis: u64,
}

fn make_span(
    ids: &mut Ids,
    trace_id: &[u8],
    tracestate: &str,
    spec: SpanSpec<'_>,
) -> (Vec<u8>, Span) {
    let span_id = ids.span_id();
    let start = TRACE_START + ids.draw() % 1_000_000_000_000;
    // The W3C sampled bit, plus "parent is remote" where the context crossed a process.
    let flags = if !spec.parent.is_empty() && spec.remote {
        0x301
    } else {
        0x101
    };
    let span = Span {
        trace_id: trace_id.to_vec(),
        span_id: span_id.clone(),
        parent_span_id: spec.parent,
        trace_state: tracestate.into(),
        flags,
        name: spec.name.into(),
        kind: spec.kind as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + spec.millis * 1_000_000,
        attributes: spec.attributes,
        events: if spec.error {
            vec![span::Event {
                name: "exception".into(),
                attributes: vec![string("exception.type", "PaymentDeclined")],
                ..Default::default()
            }]
        } else {
            vec![]
        },
        status: spec.error.then(|| Status {
            code: status::StatusCode::Error as i32,
            ..Default::default()
        }),
        ..Default::default()
    };
    (span_id, span)
}

/// An HTTP SERVER span's attributes for request `n`: the first `count` of the conventions'
/// list, without `http.route` unless `with_route`.
fn http_server(
    method: &str,
    route: &str,
    with_route: bool,
    status: i64,
    count: usize,
    n: u64,
) -> Vec<KeyValue> {
    let mut attributes = vec![
        string("http.request.method", method),
        string("url.path", route),
        string("url.scheme", "http"),
        int("http.response.status_code", status),
        string("server.address", "shop.internal"),
        string("http.route", route),
        int("server.port", 8080),
        string(
            "user_agent.original",
            "Mozilla/5.0 (Linux x86_64) AppleWebKit/537.36 Chrome/126.0",
        ),
        string(
            "client.address",
            format!("10.0.{}.{}", n / 250 % 250, n % 250),
        ),
        string("network.protocol.version", "1.1"),
    ];
    let mut count = count;
    if !with_route {
        attributes.remove(5);
        count -= 1;
    }
    attributes.truncate(count);
    attributes
}

/// An HTTP CLIENT span's attributes: the first `count` of the conventions' list.
fn http_client(method: &str, server: &str, path: &str, count: usize) -> Vec<KeyValue> {
    let mut attributes = vec![
        string("http.request.method", method),
        string("server.address", server),
        int("server.port", 8080),
        string("url.full", format!("http://{server}:8080{path}")),
        int("http.response.status_code", 200),
        string("network.protocol.version", "1.1"),
        string("url.scheme", "http"),
        string("network.peer.address", "10.0.8.12"),
        int("network.peer.port", 8080),
        string(
            "user_agent.original",
            "python-requests/2.32.3 CPython/3.12.7 Linux",
        ),
    ];
    attributes.truncate(count);
    attributes
}

/// `reserve inventory`'s attributes for request `n`: the first `count` the checkout records.
fn reserve_inventory(count: usize, n: u64) -> Vec<KeyValue> {
    let mut attributes = vec![
        string("app.inventory.warehouse", "eu-1"),
        string("app.order.id", format!("order-{n:08}")),
        string("app.product.id", format!("OLJCESPC7Z-{}", n % 9)),
        int("app.product.quantity", 1 + (n % 3) as i64),
        string("app.user.id", format!("user-{}", n % 1000)),
        string("app.currency", "EUR"),
        string("code.function.name", "reserve_inventory"),
        string(
            "code.file.path",
            "/usr/src/app/checkout/inventory/reservations.py",
        ),
        int("code.line.number", 88),
        string("thread.name", "MainThread"),
    ];
    attributes.truncate(count);
    attributes
}

impl Shop {
    /// The sampling threshold in every span's tracestate, and whether request `n` is traced.
    fn sampled(&self, n: u64) -> (&'static str, bool) {
        if self.has(Drift::FullSampling) {
            ("ot=th:0", true)
        } else {
            // One trace in four, as the `th:c` threshold says.
            ("ot=th:c", n.is_multiple_of(4))
        }
    }

    /// The spans of checkout `n`, each with the service it belongs to, in the order they
    /// start; every span is made (so ids do not depend on drifts) and the caller drops those of
    /// services that send none.
    pub(super) fn checkout(
        &self,
        n: u64,
        ids: &mut Ids,
        detail: Detail,
    ) -> Vec<(&'static str, Span)> {
        let (tracestate, _) = self.sampled(n);
        let server_count = detail.count(6);
        let client_count = detail.count(2);
        let mut spans = Vec::with_capacity(7);
        let trace_id = ids.trace_id();
        let (root, span) = make_span(
            ids,
            &trace_id,
            tracestate,
            SpanSpec {
                name: "GET /api/checkout",
                kind: span::SpanKind::Server,
                parent: vec![],
                remote: false,
                attributes: http_server(
                    "GET",
                    "/api/checkout",
                    !self.has(Drift::FrontendRouteMissing),
                    200,
                    server_count,
                    n,
                ),
                error: false,
                millis: 180,
            },
        );
        spans.push(("frontend", span));
        // A detached client does not attach to the active span.
        let client_parent = if self.has(Drift::ClientDetached) {
            vec![]
        } else {
            root.clone()
        };
        let (client, span) = make_span(
            ids,
            &trace_id,
            tracestate,
            SpanSpec {
                name: "POST /checkout",
                kind: span::SpanKind::Client,
                parent: client_parent,
                remote: false,
                attributes: http_client("POST", "checkout", "/checkout", client_count),
                error: false,
                millis: 150,
            },
        );
        spans.push(("frontend", span));
        // Without context extraction, checkout starts traces of its own.
        let (checkout_trace, checkout_parent) = if self.has(Drift::ContextNotExtracted) {
            (ids.trace_id(), vec![])
        } else {
            (trace_id.clone(), client)
        };
        let (server, span) = make_span(
            ids,
            &checkout_trace,
            tracestate,
            SpanSpec {
                name: "POST /checkout",
                kind: span::SpanKind::Server,
                parent: checkout_parent,
                remote: true,
                attributes: http_server("POST", "/checkout", true, 200, server_count, n),
                error: false,
                millis: 140,
            },
        );
        spans.push(("checkout", span));
        if !self.has(Drift::InventoryUninstrumented) {
            let (_, span) = make_span(
                ids,
                &checkout_trace,
                tracestate,
                SpanSpec {
                    name: "reserve inventory",
                    kind: span::SpanKind::Internal,
                    parent: server.clone(),
                    remote: false,
                    attributes: reserve_inventory(detail.count(1), n),
                    error: false,
                    millis: 20,
                },
            );
            spans.push(("checkout", span));
        }
        let declined = n.is_multiple_of(8);
        let (charge, span) = make_span(
            ids,
            &checkout_trace,
            tracestate,
            SpanSpec {
                name: "POST /charge",
                kind: span::SpanKind::Client,
                parent: server,
                remote: false,
                attributes: http_client("POST", "payment", "/charge", client_count),
                error: declined,
                millis: 90,
            },
        );
        spans.push(("checkout", span));
        let (_, span) = make_span(
            ids,
            &checkout_trace,
            tracestate,
            SpanSpec {
                name: "POST /charge",
                kind: span::SpanKind::Server,
                parent: charge,
                remote: true,
                attributes: http_server(
                    "POST",
                    "/charge",
                    true,
                    if declined { 502 } else { 200 },
                    server_count,
                    n,
                ),
                error: declined,
                millis: 80,
            },
        );
        spans.push(("payment", span));
        let (_, span) = make_span(
            ids,
            &trace_id,
            tracestate,
            SpanSpec {
                name: "GET /recommendations",
                kind: span::SpanKind::Server,
                parent: root,
                remote: true,
                attributes: http_server("GET", "/recommendations", true, 200, server_count, n),
                error: false,
                millis: 30,
            },
        );
        spans.push(("recommendation", span));
        spans
    }

    /// Whether `service` sends spans here.
    fn sends_spans(&self, service: &str) -> bool {
        match service {
            "payment" => !self.has(Drift::PaymentUntraced),
            "recommendation" => !self.has(Drift::RecommendationGone),
            _ => true,
        }
    }

    /// Traces of `requests` checkouts per instance: one export request per service instance.
    pub(super) fn traces(&self, requests: u64, ids: &mut Ids) -> Vec<ExportTraceServiceRequest> {
        let mut out = Vec::new();
        for instance in 0..self.instances {
            let mut by_service: Vec<(&str, Vec<Span>)> = super::TRACED_SERVICES
                .iter()
                .map(|service| (*service, Vec::new()))
                .collect();
            for n in 0..requests {
                if !self.sampled(n).1 {
                    continue;
                }
                for (service, span) in self.checkout(n, ids, Detail::Instrumented) {
                    if let Some((_, spans)) = by_service.iter_mut().find(|(s, _)| *s == service) {
                        spans.push(span);
                    }
                }
            }
            for (service, spans) in by_service {
                if self.sends_spans(service) {
                    out.push(self.spans_request(service, instance, spans));
                }
            }
        }
        out
    }

    /// One export request of `spans` from `service`'s instance `instance`.
    pub(super) fn spans_request(
        &self,
        service: &str,
        instance: u64,
        spans: Vec<Span>,
    ) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: self.resource(service, instance),
                scope_spans: vec![ScopeSpans {
                    scope: scope(SCOPE, SCOPE_VERSION),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }
}
