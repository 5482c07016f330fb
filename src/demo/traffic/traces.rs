//! The shop's traces: a checkout crosses frontend, checkout, payment and
//! recommendation; staging's drifts are planted here.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};

use super::{Environment, Ids, i, resource, s, scope};

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
    let start = 1_763_900_000_000_000_000 + ids.next() % 1_000_000_000_000;
    let flags = if spec.parent.is_empty() {
        0x101
    } else if spec.remote {
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
                attributes: vec![s("exception.type", "PaymentDeclined")],
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

fn http_server(method: &str, route: &str, with_route: bool, status: i64) -> Vec<KeyValue> {
    let mut attributes = vec![
        s("http.request.method", method),
        s("url.path", route),
        s("url.scheme", "http"),
        i("http.response.status_code", status),
        s("server.address", "shop.internal"),
    ];
    if with_route {
        attributes.push(s("http.route", route));
    }
    attributes
}

/// Traces of `requests` checkouts per instance, with each environment's drifts.
pub(super) fn traces(
    env: Environment,
    requests: u64,
    ids: &mut Ids,
) -> Vec<ExportTraceServiceRequest> {
    let mut by_service: Vec<(&str, u64, Vec<Span>)> = Vec::new();
    let tracestate = if env.staging() { "ot=th:0" } else { "ot=th:c" };
    for instance in 0..env.instances() {
        let (mut frontend, mut checkout, mut payment, mut recommendation) =
            (vec![], vec![], vec![], vec![]);
        for n in 0..requests {
            // Prod keeps one trace in four, as its `th:c` threshold says;
            // staging keeps every trace.
            if !env.staging() && n % 4 != 0 {
                continue;
            }
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
                    attributes: http_server("GET", "/api/checkout", !env.staging(), 200),
                    error: false,
                    millis: 180,
                },
            );
            frontend.push(span);
            // Staging's HTTP client does not attach to the active span.
            let client_parent = if env.staging() { vec![] } else { root.clone() };
            let (client, span) = make_span(
                ids,
                &trace_id,
                tracestate,
                SpanSpec {
                    name: "POST /checkout",
                    kind: span::SpanKind::Client,
                    parent: client_parent,
                    remote: false,
                    attributes: vec![
                        s("http.request.method", "POST"),
                        s("server.address", "checkout"),
                    ],
                    error: false,
                    millis: 150,
                },
            );
            frontend.push(span);
            // Staging's checkout does not extract the incoming context.
            let (checkout_trace, checkout_parent) = if env.staging() {
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
                    attributes: http_server("POST", "/checkout", true, 200),
                    error: false,
                    millis: 140,
                },
            );
            checkout.push(span);
            if !env.staging() {
                let (_, span) = make_span(
                    ids,
                    &checkout_trace,
                    tracestate,
                    SpanSpec {
                        name: "reserve inventory",
                        kind: span::SpanKind::Internal,
                        parent: server.clone(),
                        remote: false,
                        attributes: vec![s("app.inventory.warehouse", "eu-1")],
                        error: false,
                        millis: 20,
                    },
                );
                checkout.push(span);
            }
            let (charge, span) = make_span(
                ids,
                &checkout_trace,
                tracestate,
                SpanSpec {
                    name: "POST /charge",
                    kind: span::SpanKind::Client,
                    parent: server,
                    remote: false,
                    attributes: vec![
                        s("http.request.method", "POST"),
                        s("server.address", "payment"),
                    ],
                    error: n % 8 == 0,
                    millis: 90,
                },
            );
            checkout.push(span);
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
                        if n % 8 == 0 { 502 } else { 200 },
                    ),
                    error: n % 8 == 0,
                    millis: 80,
                },
            );
            payment.push(span);
            let (_, span) = make_span(
                ids,
                &trace_id,
                tracestate,
                SpanSpec {
                    name: "GET /recommendations",
                    kind: span::SpanKind::Server,
                    parent: root,
                    remote: true,
                    attributes: http_server("GET", "/recommendations", true, 200),
                    error: false,
                    millis: 30,
                },
            );
            recommendation.push(span);
        }
        by_service.push(("frontend", instance, frontend));
        by_service.push(("checkout", instance, checkout));
        if !env.staging() {
            by_service.push(("payment", instance, payment));
            by_service.push(("recommendation", instance, recommendation));
        }
    }
    by_service
        .into_iter()
        .map(|(service, instance, spans)| ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource(env, service, instance),
                scope_spans: vec![ScopeSpans {
                    scope: scope("opentelemetry.instrumentation.flask"),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
        .collect()
}
