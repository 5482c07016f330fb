//! Span operations, propagation, edges, sampling thresholds and span validation.

use super::*;

const REMOTE: u32 = 0x300;
const LOCAL: u32 = 0x100;

#[test]
fn edges_cross_services_and_requests_and_propagation_is_classified() {
    let engine = engine();
    // frontend SERVER(1) → CLIENT(2) ; checkout SERVER(3, remote parent 2) → INTERNAL(4)
    // The checkout request arrives first: its parent is not known yet.
    let checkout = traces(
        "checkout",
        vec![
            span(
                7,
                4,
                3,
                "prepare order",
                span::SpanKind::Internal,
                LOCAL,
                "ot=th:c",
                false,
            ),
            span(
                7,
                3,
                2,
                "POST /checkout",
                span::SpanKind::Server,
                REMOTE,
                "ot=th:c",
                true,
            ),
        ],
    );
    let frontend = traces(
        "frontend",
        vec![
            span(
                7,
                2,
                1,
                "POST /checkout",
                span::SpanKind::Client,
                LOCAL,
                "ot=th:c",
                false,
            ),
            span(
                7,
                1,
                0,
                "GET /cart",
                span::SpanKind::Server,
                0,
                "ot=th:c",
                false,
            ),
        ],
    );
    assert_eq!(
        engine
            .ingest(Signal::Traces, &checkout, checkout.len())
            .unwrap()
            .accepted,
        2
    );
    assert_eq!(
        engine
            .ingest(Signal::Traces, &frontend, frontend.len())
            .unwrap()
            .accepted,
        2
    );
    let snapshot = engine.snapshot();
    let checkout = service(&snapshot, "prod", "shop/checkout");
    let server = operation(checkout, "POST /checkout", pb::SpanKind::Server);
    assert_eq!(server.errors, 1);
    assert_eq!(
        server.propagation,
        Some(pb::Propagation {
            remote_parent: 1,
            local_parent: 0,
            root: 0
        })
    );
    assert_eq!(server.attribute_keys["http.request.method"], 1);
    assert_eq!(server.duration.as_ref().unwrap().count, 1);
    let edges: Vec<_> = checkout
        .edges
        .iter()
        .map(|e| {
            (
                e.parent_service.as_str(),
                e.parent_operation.as_str(),
                e.child_operation.as_str(),
                e.count,
            )
        })
        .collect();
    assert_eq!(
        edges,
        vec![
            ("shop/checkout", "POST /checkout", "prepare order", 1),
            ("shop/frontend", "POST /checkout", "POST /checkout", 1),
        ]
    );
    let frontend = service(&snapshot, "prod", "shop/frontend");
    let root = operation(frontend, "GET /cart", pb::SpanKind::Server);
    assert_eq!(root.propagation.unwrap().root, 1);
    assert_eq!(frontend.edges.len(), 1);
    let sampling = checkout.sampling.as_ref().unwrap();
    assert_eq!(sampling.thresholds[0].threshold, "c");
    assert_eq!(sampling.thresholds[0].spans, 2);
    assert_eq!(sampling.server_spans_adjusted, 4.0);
    let scopes = &checkout.resource.as_ref().unwrap().scopes;
    assert_eq!(
        scopes["opentelemetry.instrumentation.flask"].versions["0.48b0"],
        1
    );
    assert_eq!(snapshot.received["traces"].items, 4);
    assert_eq!(snapshot.received["traces"].requests, 2);
}

#[test]
fn spans_with_invalid_ids_are_rejected_and_the_rest_kept() {
    let engine = engine();
    let mut bad = span(1, 2, 0, "GET /", span::SpanKind::Server, 0, "", false);
    bad.trace_id = vec![1; 15];
    let request = traces(
        "frontend",
        vec![
            bad,
            span(1, 3, 0, "GET /", span::SpanKind::Server, 0, "", false),
        ],
    );
    let outcome = engine
        .ingest(Signal::Traces, &request, request.len())
        .unwrap();
    assert_eq!((outcome.accepted, outcome.rejected), (1, 1));
    assert!(outcome.rejection.unwrap().contains("trace_id"));
    let snapshot = engine.snapshot();
    assert_eq!(
        operation(
            service(&snapshot, "prod", "shop/frontend"),
            "GET /",
            pb::SpanKind::Server
        )
        .spans,
        1
    );
    assert_eq!(snapshot.received["traces"].rejected_items, 1);
}

#[test]
fn edges_straddling_a_window_boundary_are_found_in_the_next_window() {
    let engine = engine();
    let (server, client) = (span::SpanKind::Server, span::SpanKind::Client);
    let call = |kind, id, parent| {
        let flags = if kind == server { REMOTE } else { LOCAL };
        span(9, id, parent, "POST /checkout", kind, flags, "", false)
    };
    let root = |id| span(9, id, 0, "GET /cart", span::SpanKind::Server, 0, "", false);
    let send = |service: &str, spans: Vec<Span>| {
        let request = traces(service, spans);
        engine
            .ingest(Signal::Traces, &request, request.len())
            .unwrap();
    };
    // Window 1: checkout's SERVER span 3 waits for its parent 2; frontend's root 10
    // arrives without its CLIENT child 11.
    send("checkout", vec![call(server, 3, 2)]);
    send("frontend", vec![root(10)]);
    let first = engine.take_window();
    // Window 2: the frontend's CLIENT span 2 (checkout's parent, itself under root 1 that
    // never arrives) and CLIENT span 11 (root 10's late child). Checkout sends nothing.
    send("frontend", vec![call(client, 2, 1), call(client, 11, 10)]);
    let second = engine.take_window();

    let incoming = |window: &pb::Snapshot, key: &str| -> Vec<(String, String, u64)> {
        window.environments["prod"]
            .services
            .get(key)
            .map(|s| {
                s.edges
                    .iter()
                    .map(|e| {
                        (
                            e.parent_operation.clone(),
                            e.child_operation.clone(),
                            e.count,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(incoming(&first, "shop/checkout"), vec![]);
    assert_eq!(incoming(&first, "shop/frontend"), vec![]);
    // Checkout's edge is reported in the window its parent arrived in, under checkout,
    // which sent nothing else there.
    let checkout = &second.environments["prod"].services["shop/checkout"];
    assert_eq!(
        checkout.edges,
        vec![pb::OperationEdge {
            parent_service: "shop/frontend".into(),
            parent_operation: "POST /checkout".into(),
            parent_kind: pb::SpanKind::Client as i32,
            child_operation: "POST /checkout".into(),
            child_kind: pb::SpanKind::Server as i32,
            count: 1,
        }]
    );
    assert!(checkout.span_operations.is_empty() && checkout.resource.is_none());
    assert_eq!(
        incoming(&second, "shop/frontend"),
        vec![("GET /cart".to_owned(), "POST /checkout".to_owned(), 1)]
    );
    // The merged windows have the edges one window over both would have.
    let mut merged = first.environments["prod"].clone();
    otel_parity_model::merge::merge_environment(&mut merged, &second.environments["prod"]).unwrap();
    let edges: u64 = merged
        .services
        .values()
        .flat_map(|s| &s.edges)
        .map(|e| e.count)
        .sum();
    assert_eq!(edges, 2);
    assert_eq!(second.environments["prod"].overflow.unwrap().span_cache, 0);
}
