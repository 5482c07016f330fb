//! Each shop service's span operations, their propagation and the edges between them.

use otel_parity_testkit::e2e::Expectations;
use serde_json::Value;

use crate::operations::{expect_edges, expect_operations, span_operation};
use crate::shop::ERROR_EVERY;

/// The frontend starts every trace: a SERVER span with no incoming context, and the CLIENT
/// span of its call to checkout.
pub fn expect_frontend_spans(expect: &mut Expectations, frontend: &Value, requests: u64) {
    let subject = "shop/frontend";
    expect_operations(
        expect,
        subject,
        frontend,
        &[
            ("GET /api/checkout", "SPAN_KIND_SERVER"),
            ("POST /checkout", "SPAN_KIND_CLIENT"),
        ],
    );
    if let Some(op) = span_operation(
        expect,
        subject,
        frontend,
        "GET /api/checkout",
        "SPAN_KIND_SERVER",
    ) {
        let s = "shop/frontend GET /api/checkout SERVER";
        expect.u64_eq(s, op, &["spans"], requests);
        expect.u64_eq(s, op, &["errors"], 0);
        expect.u64_eq(s, op, &["attributeKeys", "http.request.method"], requests);
        expect.u64_eq(s, op, &["attributeKeys", "http.route"], requests);
        expect.u64_eq(s, op, &["attributeKeys", "user_agent.original"], requests);
        expect.u64_eq(
            s,
            op,
            &["attributeKeys", "http.response.status_code"],
            requests,
        );
        expect.keys_eq(s, op, &["eventNames"], &[]);
        expect.u64_eq(s, op, &["duration", "count"], requests);
        // The storefront is where traces start: no incoming context.
        expect.u64_eq(s, op, &["propagation", "root"], requests);
        expect.u64_eq(s, op, &["propagation", "remoteParent"], 0);
    }
    if let Some(op) = span_operation(
        expect,
        subject,
        frontend,
        "POST /checkout",
        "SPAN_KIND_CLIENT",
    ) {
        let s = "shop/frontend POST /checkout CLIENT";
        expect.u64_eq(s, op, &["spans"], requests);
        expect.u64_eq(s, op, &["attributeKeys", "url.full"], requests);
    }
    expect_edges(
        expect,
        subject,
        frontend,
        &[(
            "shop/frontend",
            "GET /api/checkout",
            "SPAN_KIND_SERVER",
            "POST /checkout",
            "SPAN_KIND_CLIENT",
            requests,
        )],
    );
}

/// Checkout continues the frontend's trace (a remote parent), prepares the order and calls
/// payment.
pub fn expect_checkout_spans(expect: &mut Expectations, checkout: &Value, requests: u64) {
    let errors = requests / ERROR_EVERY;
    let subject = "shop/checkout";
    expect_operations(
        expect,
        subject,
        checkout,
        &[
            ("POST /charge", "SPAN_KIND_CLIENT"),
            ("POST /checkout", "SPAN_KIND_SERVER"),
            ("prepare order", "SPAN_KIND_INTERNAL"),
        ],
    );
    if let Some(op) = span_operation(
        expect,
        subject,
        checkout,
        "POST /checkout",
        "SPAN_KIND_SERVER",
    ) {
        let s = "shop/checkout POST /checkout SERVER";
        expect.u64_eq(s, op, &["spans"], requests);
        // Its parent is the frontend's CLIENT span, extracted from traceparent.
        expect.u64_eq(s, op, &["propagation", "remoteParent"], requests);
        expect.u64_eq(s, op, &["propagation", "root"], 0);
        expect.u64_eq(s, op, &["propagation", "localParent"], 0);
    }
    if let Some(op) = span_operation(
        expect,
        subject,
        checkout,
        "prepare order",
        "SPAN_KIND_INTERNAL",
    ) {
        let s = "shop/checkout prepare order INTERNAL";
        expect.u64_eq(s, op, &["spans"], requests);
        expect.u64_eq(s, op, &["attributeKeys", "app.order.items"], requests);
    }
    if let Some(op) = span_operation(
        expect,
        subject,
        checkout,
        "POST /charge",
        "SPAN_KIND_CLIENT",
    ) {
        let s = "shop/checkout POST /charge CLIENT";
        expect.u64_eq(s, op, &["spans"], requests);
        // A 503 from payment makes the client span an error too.
        expect.u64_eq(s, op, &["errors"], errors);
        expect.u64_eq(s, op, &["attributeKeys", "error.type"], errors);
    }
    expect_edges(
        expect,
        subject,
        checkout,
        &[
            (
                "shop/checkout",
                "POST /checkout",
                "SPAN_KIND_SERVER",
                "POST /charge",
                "SPAN_KIND_CLIENT",
                requests,
            ),
            (
                "shop/checkout",
                "POST /checkout",
                "SPAN_KIND_SERVER",
                "prepare order",
                "SPAN_KIND_INTERNAL",
                requests,
            ),
            (
                "shop/frontend",
                "POST /checkout",
                "SPAN_KIND_CLIENT",
                "POST /checkout",
                "SPAN_KIND_SERVER",
                requests,
            ),
        ],
    );
}

/// Payment continues checkout's trace; every fifth charge fails with an exception event.
pub fn expect_payment_spans(expect: &mut Expectations, payment: &Value, requests: u64) {
    let errors = requests / ERROR_EVERY;
    let subject = "shop/payment";
    expect_operations(
        expect,
        subject,
        payment,
        &[("POST /charge", "SPAN_KIND_SERVER")],
    );
    if let Some(op) = span_operation(expect, subject, payment, "POST /charge", "SPAN_KIND_SERVER") {
        let s = "shop/payment POST /charge SERVER";
        expect.u64_eq(s, op, &["spans"], requests);
        expect.u64_eq(s, op, &["errors"], errors);
        expect.u64_map_eq(s, op, &["eventNames"], &[("exception", errors)]);
        expect.u64_eq(s, op, &["attributeKeys", "error.type"], errors);
        expect.u64_eq(s, op, &["attributeKeys", "app.payment.method"], requests);
        expect.u64_eq(s, op, &["propagation", "remoteParent"], requests);
        expect.u64_eq(s, op, &["propagation", "root"], 0);
    }
    expect_edges(
        expect,
        subject,
        payment,
        &[(
            "shop/checkout",
            "POST /charge",
            "SPAN_KIND_CLIENT",
            "POST /charge",
            "SPAN_KIND_SERVER",
            requests,
        )],
    );
}
