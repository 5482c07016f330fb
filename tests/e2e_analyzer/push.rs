//! The push port refuses malformed, invalid and oversized pushes in gRPC's
//! terms, stores nothing from them, and keeps storing good ones.

use otel_parity_proto::v1 as pb;
use prost::Message;
use serde_json::Value;
use tonic::Code;

use crate::server::Running;
use otel_parity_testkit::raw::grpc::{grpc_call, grpc_channel, runtime};

const PUSH: &str = "/parity.v1.ParityService/Push";

/// Now minus a minute, in Unix nanoseconds: windows the analyzer's default
/// one-hour range covers.
fn recent() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    u64::try_from(now.as_nanos()).expect("before 2554") - 60_000_000_000
}

fn push(environment: &str, sequence: u64, spans: u64) -> pb::PushRequest {
    let operation = pb::SpanOperation {
        name: "POST /checkout".into(),
        kind: pb::SpanKind::Server as i32,
        spans,
        ..Default::default()
    };
    let service = pb::ServiceFingerprint {
        namespace: "shop".into(),
        name: "checkout".into(),
        span_operations: vec![operation],
        ..Default::default()
    };
    pb::PushRequest {
        environment: environment.into(),
        receiver_instance: "receiver-a".into(),
        window_start_unix_nano: recent() + sequence,
        window_end_unix_nano: recent() + 10_000_000_000 + sequence,
        sequence,
        fingerprint: Some(pb::EnvironmentFingerprint {
            services: [("shop/checkout".to_owned(), service)].into(),
            overflow: None,
        }),
    }
}

fn metric(text: &str, result: &str) -> f64 {
    let prefix = format!("otel_parity_pushes_total{{result=\"{result}\"}}");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn malformed_invalid_and_oversized_pushes_are_refused_and_nothing_from_them_is_stored() {
    let analyzer = Running::analyzer("max_push_size_mib: 1\nevaluation:\n  interval: 1h\n");
    let endpoint = format!("http://{}", analyzer.push);
    runtime().block_on(async {
        let channel = grpc_channel(&endpoint).await;
        let good = push("prod", 1, 30).encode_to_vec();
        let answer = grpc_call(&channel, PUSH, good.clone(), false)
            .await
            .expect("good push stored");
        assert_eq!(
            pb::PushResponse::decode(&*answer).expect("response"),
            pb::PushResponse { duplicate: false }
        );

        let code = |result: Result<Vec<u8>, tonic::Status>| result.expect_err("refused").code();
        // Not protobuf; cut short; a field of the wrong wire type.
        assert_eq!(
            code(grpc_call(&channel, PUSH, vec![0x0a, 0xff, 0xff, 0xff, 0x0f], false).await),
            Code::InvalidArgument
        );
        assert_eq!(
            code(grpc_call(&channel, PUSH, good[..good.len() - 4].to_vec(), false).await),
            Code::InvalidArgument
        );
        assert_eq!(
            code(grpc_call(&channel, PUSH, vec![0x28, 0x01, 0x32, 0x02, 0x08], true).await),
            Code::InvalidArgument
        );
        // Well-formed but invalid: no environment; a window that ends before it starts.
        assert_eq!(
            code(grpc_call(&channel, PUSH, push("", 2, 5).encode_to_vec(), false).await),
            Code::InvalidArgument
        );
        let mut backwards = push("prod", 3, 5);
        backwards.window_end_unix_nano = backwards.window_start_unix_nano - 1;
        assert_eq!(
            code(grpc_call(&channel, PUSH, backwards.encode_to_vec(), false).await),
            Code::InvalidArgument
        );
        // Over the 1 MiB limit, plain and as a gzip bomb.
        let mut huge = push("prod", 4, 5);
        huge.receiver_instance = "r".repeat(2 << 20);
        assert_eq!(
            code(grpc_call(&channel, PUSH, huge.encode_to_vec(), false).await),
            Code::ResourceExhausted
        );
        assert_eq!(
            code(grpc_call(&channel, PUSH, huge.encode_to_vec(), true).await),
            Code::ResourceExhausted
        );

        // Still serving: a retry of the good push is a duplicate, a new one is stored.
        let answer = grpc_call(&channel, PUSH, good, false)
            .await
            .expect("retry acknowledged");
        assert!(
            pb::PushResponse::decode(&*answer)
                .expect("response")
                .duplicate
        );
        grpc_call(&channel, PUSH, push("staging", 5, 12).encode_to_vec(), true)
            .await
            .expect("gzip push stored");
    });

    let environments: Value =
        serde_json::from_slice(&analyzer.get("/api/v1/environments").body).expect("JSON");
    let summary: Vec<(String, u64)> = environments
        .as_array()
        .expect("list")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or("").to_owned(),
                e["pushes"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(summary, [("prod".to_owned(), 1), ("staging".to_owned(), 1)]);
    let report: Value = serde_json::from_slice(
        &analyzer
            .get("/api/v1/report?baseline=prod&candidate=staging")
            .body,
    )
    .expect("JSON");
    assert_eq!(report["baseline"], "prod");
    let text = String::from_utf8_lossy(&analyzer.get("/metrics").body).into_owned();
    assert_eq!(metric(&text, "stored"), 2.0);
    assert_eq!(metric(&text, "duplicate"), 1.0);
    assert_eq!(metric(&text, "invalid"), 2.0);
}

/// The message of a refused call, and its code.
fn refusal(result: Result<Vec<u8>, tonic::Status>) -> (Code, String) {
    let status = result.expect_err("refused");
    (status.code(), status.message().to_owned())
}

#[test]
fn fingerprints_over_the_configured_caps_or_with_unreadable_sketches_are_refused_naming_the_field()
{
    // One service per push, at most two span operations per service.
    let analyzer = Running::analyzer(
        "limits:\n  max_services: 1\n  max_span_operations: 2\nevaluation:\n  interval: 1h\n",
    );
    let endpoint = format!("http://{}", analyzer.push);
    let prefix = r#"push of environment "prod" from receiver "receiver-a", sequence "#;
    runtime().block_on(async {
        let channel = grpc_channel(&endpoint).await;
        let call = |request: pb::PushRequest| {
            let channel = channel.clone();
            async move { grpc_call(&channel, PUSH, request.encode_to_vec(), false).await }
        };

        // Two services: over limits.max_services.
        let mut two = push("prod", 1, 30);
        let fingerprint = two.fingerprint.as_mut().expect("fingerprint");
        let mut cart = fingerprint.services["shop/checkout"].clone();
        cart.name = "cart".into();
        fingerprint.services.insert("shop/cart".into(), cart);
        assert_eq!(
            refusal(call(two).await),
            (
                Code::InvalidArgument,
                format!("{prefix}1: fingerprint environment: 2 services, above limits.max_services (1)")
            )
        );

        // Three span operations: over limits.max_span_operations.
        let mut three = push("prod", 2, 30);
        let service = three
            .fingerprint
            .as_mut()
            .and_then(|f| f.services.get_mut("shop/checkout"))
            .expect("checkout");
        for name in ["GET /cart", "oteldemo.PaymentService/Charge"] {
            let mut operation = service.span_operations[0].clone();
            operation.name = name.into();
            service.span_operations.push(operation);
        }
        assert_eq!(
            refusal(call(three).await),
            (
                Code::InvalidArgument,
                format!(
                    r#"{prefix}2: fingerprint service "shop/checkout": 3 span operations, above limits.max_span_operations (2)"#
                )
            )
        );

        // A series sketch that is not an HLL sketch; a duration histogram cut short; more
        // errors than spans.
        let mut unreadable = push("prod", 3, 30);
        let checkout = |p: &mut pb::PushRequest| {
            p.fingerprint
                .as_mut()
                .and_then(|f| f.services.get_mut("shop/checkout"))
                .expect("checkout")
                .clone()
        };
        let mut service = checkout(&mut unreadable);
        service.metrics.insert(
            "http.server.request.duration".into(),
            pb::MetricShape {
                series: Some(pb::Cardinality {
                    estimate: 12.0,
                    hll: b"not a sketch".to_vec(),
                }),
                ..Default::default()
            },
        );
        unreadable
            .fingerprint
            .as_mut()
            .expect("fingerprint")
            .services
            .insert("shop/checkout".into(), service);
        let (code, message) = refusal(call(unreadable).await);
        assert_eq!(code, Code::InvalidArgument);
        assert!(
            message.starts_with(&format!(
                r#"{prefix}3: fingerprint service "shop/checkout" metric "http.server.request.duration" series: HLL sketch does not decode"#
            )),
            "{message}"
        );

        let mut cut = push("prod", 4, 1);
        let mut service = checkout(&mut cut);
        let mut duration = otel_parity_model::sketch::DurationHistogram::default();
        duration.record_nanos(2_000_000);
        let mut duration = duration.to_proto();
        duration.hdr.truncate(30);
        service.span_operations[0].duration = Some(duration);
        cut.fingerprint
            .as_mut()
            .expect("fingerprint")
            .services
            .insert("shop/checkout".into(), service);
        assert_eq!(
            refusal(call(cut).await),
            (
                Code::InvalidArgument,
                format!(
                    r#"{prefix}4: fingerprint service "shop/checkout" span operation "POST /checkout" duration: HDR histogram is 30 bytes, shorter than its 40-byte header"#
                )
            )
        );

        let mut errors = push("prod", 5, 30);
        let mut service = checkout(&mut errors);
        service.span_operations[0].errors = 31;
        errors
            .fingerprint
            .as_mut()
            .expect("fingerprint")
            .services
            .insert("shop/checkout".into(), service);
        assert_eq!(
            refusal(call(errors).await),
            (
                Code::InvalidArgument,
                format!(
                    r#"{prefix}5: fingerprint service "shop/checkout" span operation "POST /checkout" (SPAN_KIND_SERVER): errors (31) is above spans (30)"#
                )
            )
        );

        // Within the caps: stored.
        call(push("prod", 6, 30)).await.expect("valid push stored");
    });

    let environments: Value =
        serde_json::from_slice(&analyzer.get("/api/v1/environments").body).expect("JSON");
    assert_eq!(environments[0]["name"], "prod", "{environments}");
    assert_eq!(environments[0]["pushes"], 1, "{environments}");
    let text = String::from_utf8_lossy(&analyzer.get("/metrics").body).into_owned();
    assert_eq!(metric(&text, "stored"), 1.0);
    assert_eq!(metric(&text, "invalid"), 5.0);
}
