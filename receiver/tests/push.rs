//! The receiver pushes its windows to an analyzer: in order, tagged for
//! idempotence, retried while the analyzer is away or failing, and nothing
//! accepted is lost or counted twice.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use otel_parity_proto::v1 as pb;
use otel_parity_proto::v1::parity_service_server::{ParityService, ParityServiceServer};
use otel_parity_receiver::ReceiverConfig;
use otel_parity_receiver::server::Receiver;
use parking_lot::Mutex;
use prost::Message;
use tonic::{Request, Response, Status};

/// An analyzer that records pushes by key and refuses the first few.
#[derive(Default)]
struct RecordingAnalyzer {
    pushes: Mutex<BTreeMap<(String, String, u64, u64), pb::PushRequest>>,
    attempts: AtomicU32,
    refuse_first: u32,
}

/// The analyzer as a gRPC service, shared with the test.
struct Service(Arc<RecordingAnalyzer>);

#[tonic::async_trait]
impl ParityService for Service {
    async fn push(
        &self,
        request: Request<pb::PushRequest>,
    ) -> Result<Response<pb::PushResponse>, Status> {
        let analyzer = &self.0;
        if analyzer.attempts.fetch_add(1, Ordering::SeqCst) < analyzer.refuse_first {
            return Err(Status::unavailable("analyzer warming up"));
        }
        let push = request.into_inner();
        let key = (
            push.environment.clone(),
            push.receiver_instance.clone(),
            push.window_start_unix_nano,
            push.sequence,
        );
        let duplicate = analyzer.pushes.lock().insert(key, push).is_some();
        Ok(Response::new(pb::PushResponse { duplicate }))
    }
}

fn spans_request(environment: &str, spans: u8) -> Vec<u8> {
    let string = |key: &str, value: &str| KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    string("service.name", "checkout"),
                    string("deployment.environment.name", environment),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: (1..=spans)
                    .map(|id| Span {
                        trace_id: vec![id; 16],
                        span_id: vec![id; 8],
                        name: "POST /checkout".into(),
                        kind: span::SpanKind::Server as i32,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

async fn start_analyzer(
    addr: SocketAddr,
    analyzer: Arc<RecordingAnalyzer>,
) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("analyzer port is free");
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(
                ParityServiceServer::new(Service(analyzer))
                    .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
            )
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .expect("analyzer serves");
    })
}

fn spans_pushed(analyzer: &RecordingAnalyzer, environment: &str) -> u64 {
    analyzer
        .pushes
        .lock()
        .values()
        .filter(|p| p.environment == environment)
        .filter_map(|p| p.fingerprint.as_ref()?.services.get("checkout"))
        .flat_map(|s| &s.span_operations)
        .map(|op| op.spans)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_reach_an_analyzer_that_starts_late_and_fails_at_first() {
    // Reserve a port for the analyzer, which is not listening yet.
    let analyzer_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = ReceiverConfig::default();
    config.otlp.protocols.grpc.endpoint = "127.0.0.1:0".into();
    config.otlp.protocols.http.endpoint = "127.0.0.1:0".into();
    config.instance_id = Some("receiver-a".into());
    config.push.analyzer = Some(format!("http://{analyzer_addr}"));
    config.push.interval = Duration::from_millis(100);
    config.push.timeout = Duration::from_millis(500);
    let receiver = Receiver::bind(config).await.unwrap();
    let engine = receiver.engine();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(receiver.serve(async {
        let _ = stopped.await;
    }));

    // The analyzer appears half-way, refusing its first three pushes.
    let analyzer = Arc::new(RecordingAnalyzer {
        refuse_first: 3,
        ..Default::default()
    });
    let mut sent = BTreeMap::from([("prod", 0u64), ("staging", 0u64)]);
    for round in 0..20u8 {
        for (environment, spans) in sent.iter_mut() {
            let request = spans_request(environment, 5 + round % 3);
            engine
                .ingest(
                    otel_parity_receiver::Signal::Traces,
                    &request,
                    request.len(),
                )
                .unwrap();
            *spans += u64::from(5 + round % 3);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        if round == 10 {
            start_analyzer(analyzer_addr, Arc::clone(&analyzer)).await;
        }
    }
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();

    assert!(analyzer.attempts.load(Ordering::SeqCst) > analyzer.pushes.lock().len() as u32);
    for (environment, spans) in &sent {
        assert_eq!(
            spans_pushed(&analyzer, environment),
            *spans,
            "{environment}"
        );
    }
    let pushes = analyzer.pushes.lock();
    let sequences: Vec<u64> = pushes.values().map(|p| p.sequence).collect();
    let mut unique = sequences.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        sequences.len(),
        "a sequence number was reused"
    );
    assert!(pushes.values().all(|p| p.receiver_instance == "receiver-a"));
    assert!(
        pushes
            .values()
            .all(|p| p.window_end_unix_nano >= p.window_start_unix_nano)
    );
}
