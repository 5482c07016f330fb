//! Senders: one thread per receiver exporting the shop's traces continuously, alternating
//! OTLP/gRPC and OTLP/HTTP (protobuf) as two SDK exporters would, and tallying exactly what the
//! receiver acknowledged (gRPC OK, HTTP 200, no partial rejection) and in which phase of the
//! test. Failures are recorded, not retried: a request the receiver did not acknowledge is not
//! counted, and any failure fails the test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use tonic::transport::{Channel, Endpoint};

use otel_parity_testkit::shop::{Shop, Tally};

/// How long one export may take before it counts as failed.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between two exports of one sender (an SDK's batch delay, shortened).
const PAUSE: Duration = Duration::from_millis(10);

/// Phases of a test, as the senders label their requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The analyzer is up.
    Before = 0,
    /// The analyzer has been killed.
    AnalyzerDown = 1,
    /// The analyzer runs again.
    After = 2,
}

const PHASES: [Phase; 3] = [Phase::Before, Phase::AnalyzerDown, Phase::After];

/// What the test tells its senders: the phase, and when to stop.
#[derive(Debug, Default)]
pub struct Control {
    phase: AtomicUsize,
    stop: AtomicBool,
}

impl Control {
    pub fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as usize, Ordering::SeqCst);
    }

    fn phase(&self) -> Phase {
        PHASES[self.phase.load(Ordering::SeqCst)]
    }
}

/// What one sender did.
#[derive(Debug, Default)]
pub struct SenderReport {
    /// What the receiver acknowledged.
    pub accepted: Tally,
    /// Acknowledged requests per [`Phase`].
    pub acknowledged: [u64; 3],
    /// Every request that was not acknowledged, with its phase and why.
    pub failures: Vec<String>,
}

/// A running sender thread.
pub struct Sender {
    env: &'static str,
    control: Arc<Control>,
    thread: Option<JoinHandle<SenderReport>>,
}

impl Sender {
    /// Starts exporting to the receiver listening on `grpc` and `http` (URLs
    /// `http://127.0.0.1:PORT`), telemetry of environment `env`.
    pub fn start(env: &'static str, grpc: String, http: String, control: Arc<Control>) -> Self {
        let thread_control = Arc::clone(&control);
        let thread = thread::Builder::new()
            .name(format!("sender-{env}"))
            .spawn(move || run(env, &grpc, &http, &thread_control))
            .unwrap_or_else(|e| panic!("cannot start the {env} sender: {e}"));
        Sender {
            env,
            control,
            thread: Some(thread),
        }
    }

    /// Stops the sender (and every sender sharing its [`Control`]) and returns its report.
    pub fn stop(mut self) -> SenderReport {
        self.control.stop.store(true, Ordering::SeqCst);
        let thread = self
            .thread
            .take()
            .unwrap_or_else(|| unreachable!("joined only here"));
        thread
            .join()
            .unwrap_or_else(|_| panic!("the {} sender panicked", self.env))
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.control.stop.store(true, Ordering::SeqCst);
    }
}

fn run(env: &'static str, grpc: &str, http: &str, control: &Control) -> SenderReport {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot build the {env} sender's runtime: {e}"));
    let channel: Channel = runtime.block_on(async {
        Endpoint::from_shared(grpc.to_owned())
            .unwrap_or_else(|e| panic!("bad receiver gRPC URL {grpc}: {e}"))
            .timeout(EXPORT_TIMEOUT)
            .connect_timeout(EXPORT_TIMEOUT)
            .connect_lazy()
    });
    let mut client = TraceServiceClient::new(channel);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(EXPORT_TIMEOUT))
        .build()
        .into();
    let traces_url = format!("{http}/v1/traces");
    let mut report = SenderReport::default();
    let shop = Shop::new(env);
    let mut round = 0u64;
    while !control.stop.load(Ordering::SeqCst) {
        let phase = control.phase();
        // 1 to 4 traces (the shop keeps one request in four), grouped by service.
        let request = shop.traces_request(4 * (1 + round % 4), round);
        let over_grpc = round.is_multiple_of(2);
        let outcome = if over_grpc {
            runtime
                .block_on(client.export(request.clone()))
                .map_err(|status| format!("gRPC {:?}: {}", status.code(), status.message()))
                .and_then(|response| check_partial(response.into_inner().partial_success))
        } else {
            export_http(&agent, &traces_url, &request.encode_to_vec())
        };
        match outcome {
            Ok(()) => {
                report.accepted.add(&request);
                report.acknowledged[phase as usize] += 1;
            }
            Err(reason) => report.failures.push(format!(
                "{env} round {round} ({}, phase {phase:?}): {reason}",
                if over_grpc { "gRPC" } else { "HTTP" }
            )),
        }
        round += 1;
        thread::sleep(PAUSE);
    }
    report
}

fn export_http(agent: &ureq::Agent, url: &str, body: &[u8]) -> Result<(), String> {
    let mut response = agent
        .post(url)
        .header("Content-Type", "application/x-protobuf")
        .send(body)
        .map_err(|e| format!("HTTP: {e}"))?;
    let status = response.status().as_u16();
    let bytes = response
        .body_mut()
        .read_to_vec()
        .map_err(|e| format!("HTTP {status}: reading the body: {e}"))?;
    if status != 200 {
        return Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        ));
    }
    let response = ExportTraceServiceResponse::decode(&*bytes)
        .map_err(|e| format!("HTTP 200 with a body that is not a response ({e})"))?;
    check_partial(response.partial_success)
}

/// A response that rejected spans is not a full acknowledgement.
fn check_partial(partial: Option<ExportTracePartialSuccess>) -> Result<(), String> {
    match partial {
        Some(p) if p.rejected_spans > 0 => Err(format!(
            "partial success: {} spans rejected: {}",
            p.rejected_spans, p.error_message
        )),
        _ => Ok(()),
    }
}
