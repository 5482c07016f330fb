//! The running receiver: OTLP gRPC and HTTP listeners sharing one admission
//! budget, its own telemetry listener, periodic snapshots, the pusher, and an
//! orderly stop within the grace period: requests in flight drained (half of
//! it at most), then the last window pushed and the snapshot written.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use otel_parity_model::snapshot::{self, SnapshotError};
use otel_parity_runtime::auth::{Guard, RequireBearer, TokenAuthSettings};
use otel_parity_runtime::grpc::unauthenticated;
use otel_parity_runtime::listen::{bind, served};
use otel_parity_runtime::serve::{
    ConnectionLimits, Protocol, ServeControl, ServeOptions, serve, serve_with,
};
use otel_parity_runtime::shutdown::ShutdownTrigger;
use otel_parity_runtime::tls::{ALPN_GRPC, ALPN_HTTP, ServerTls, TlsServerSettings};
use tokio::net::TcpListener;
use tower::Layer;

use crate::Fingerprinter;
use crate::admission::{InflightBudget, StreamCap};
use crate::config::ReceiverConfig;
use crate::error::Error;
use crate::otlp::grpc::{Logs, Metrics, OtlpGrpcService, Traces};
use crate::otlp::http;
use crate::otlp::intake::Intake;
use crate::push::Pusher;
use crate::telemetry::{self, ReceiverTelemetry};

/// Listeners bound and ready to serve; binding first makes "address in use"
/// an error before anything starts.
pub struct Receiver {
    config: ReceiverConfig,
    engine: Arc<Fingerprinter>,
    intake: Intake,
    telemetry: Arc<ReceiverTelemetry>,
    grpc: TcpListener,
    http: TcpListener,
    /// The telemetry listener, when there is one.
    telemetry_listener: Option<TcpListener>,
    /// How each listener serves (TLS, limits) and the tokens it requires.
    grpc_security: Security,
    http_security: Security,
    pusher: Option<Pusher>,
}

/// A listener's TLS, limits and tokens, read at bind time so that a bad
/// certificate or token file stops the receiver before it serves.
struct Security {
    options: ServeOptions,
    guard: Option<Guard>,
}

impl Security {
    fn new(
        what: &'static str,
        protocol: Protocol,
        tls: Option<&TlsServerSettings>,
        auth: Option<&TokenAuthSettings>,
        limits: ConnectionLimits,
        telemetry: &Arc<ReceiverTelemetry>,
    ) -> Result<Self, Error> {
        let (alpn, otlp) = match protocol {
            Protocol::Grpc => (ALPN_GRPC, telemetry::Protocol::Grpc),
            Protocol::Http => (ALPN_HTTP, telemetry::Protocol::Http),
        };
        let tls = match tls {
            Some(settings) => Some(Arc::new(ServerTls::new(settings, alpn)?)),
            None => None,
        };
        let guard = auth
            .map(TokenAuthSettings::guard)
            .transpose()?
            .map(|guard| guard.observed(telemetry.auth_observer(otlp)));
        Ok(Security {
            options: ServeOptions {
                what,
                protocol,
                tls,
                limits,
            },
            guard,
        })
    }
}

impl Receiver {
    /// Binds the OTLP listeners of `config`, and its telemetry listener.
    pub async fn bind(config: ReceiverConfig) -> Result<Self, Error> {
        let engine = Arc::new(Fingerprinter::new(config.engine_config()));
        let budget = InflightBudget::new(config.max_inflight_bytes(), config.admission.retry_after);
        let telemetry = ReceiverTelemetry::new(
            Arc::clone(&engine),
            Arc::clone(&budget),
            config.telemetry.not_ready_after,
        );
        let protocols = &config.otlp.protocols;
        let grpc_security = Security::new(
            "OTLP/gRPC",
            Protocol::Grpc,
            protocols.grpc.tls.as_ref(),
            protocols.grpc.auth.as_ref(),
            protocols.grpc.connections,
            &telemetry,
        )?;
        let http_security = Security::new(
            "OTLP/HTTP",
            Protocol::Http,
            protocols.http.tls.as_ref(),
            protocols.http.auth.as_ref(),
            protocols.http.connections,
            &telemetry,
        )?;
        let grpc = bind("OTLP/gRPC", &protocols.grpc.endpoint).await?;
        let http = bind("OTLP/HTTP", &protocols.http.endpoint).await?;
        let telemetry_listener = match config.telemetry.endpoint.as_deref() {
            Some(endpoint) if !endpoint.is_empty() => {
                Some(bind("receiver telemetry", endpoint).await?)
            }
            _ => None,
        };
        let pusher = match &config.push.analyzer {
            Some(analyzer) => Some(Pusher::new(
                Arc::clone(&engine),
                config.push.clone(),
                analyzer,
                Arc::clone(&telemetry),
                config.state_dir.as_deref(),
            )?),
            None => None,
        };
        let streams = StreamCap::new(config.admission.max_grpc_streams);
        let intake = Intake::new(Arc::clone(&engine), budget, streams, Arc::clone(&telemetry));
        Ok(Receiver {
            config,
            engine,
            intake,
            telemetry,
            grpc,
            http,
            telemetry_listener,
            grpc_security,
            http_security,
            pusher,
        })
    }

    /// The fingerprint engine, shared with the listeners.
    pub fn engine(&self) -> Arc<Fingerprinter> {
        Arc::clone(&self.engine)
    }

    /// The bound gRPC and HTTP addresses.
    pub fn local_addrs(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (self.grpc.local_addr().ok(), self.http.local_addr().ok())
    }

    /// The bound telemetry address, when there is a telemetry listener.
    pub fn telemetry_addr(&self) -> Option<SocketAddr> {
        self.telemetry_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` completes, writing snapshots every interval and
    /// once more after the listeners have stopped, and pushing the last
    /// window, all within `shutdown.grace_period` of the signal.
    pub async fn serve(
        self,
        shutdown: impl IntoFuture<Output = (), IntoFuture: Send> + Send + 'static,
    ) -> Result<(), Error> {
        let listeners = ShutdownTrigger::new();
        let (grpc_addr, http_addr) = self.local_addrs();
        let telemetry_addr = self.telemetry_addr();
        let Receiver {
            config,
            engine,
            intake,
            telemetry,
            grpc,
            http,
            telemetry_listener,
            grpc_security,
            http_security,
            pusher,
        } = self;
        tracing::info!(
            grpc = ?grpc_addr,
            http = ?http_addr,
            telemetry = ?telemetry_addr,
            grpc_tls = grpc_security.options.tls.is_some(),
            http_tls = http_security.options.tls.is_some(),
            inflight_budget_bytes = intake.budget().limit(),
            "OTLP receiver listening"
        );
        let grace = config.shutdown.grace_period;
        let control = |protocol| ServeControl {
            drain_timeout: Some(grace / 2),
            refused_connections: Some(telemetry.refused_connections(protocol)),
        };

        let grpc_max = config
            .otlp
            .protocols
            .grpc
            .max_recv_msg_size_mib
            .saturating_mul(1024 * 1024);
        let routes =
            tonic::service::Routes::new(OtlpGrpcService::<Traces>::new(intake.clone(), grpc_max))
                .add_service(OtlpGrpcService::<Metrics>::new(intake.clone(), grpc_max))
                .add_service(OtlpGrpcService::<Logs>::new(intake.clone(), grpc_max))
                .prepare();
        let grpc_service = RequireBearer::new(grpc_security.guard, unauthenticated).layer(routes);
        let grpc_task = tokio::spawn(serve_with(
            grpc,
            grpc_security.options,
            grpc_service,
            listeners.token(),
            control(telemetry::Protocol::Grpc),
        ));

        let router = http::router(
            intake.clone(),
            config.otlp.protocols.http.max_request_body_size,
        )
        .layer(RequireBearer::new(
            http_security.guard,
            http::unauthenticated,
        ));
        let http_task = tokio::spawn(serve_with(
            http,
            http_security.options,
            router,
            listeners.token(),
            control(telemetry::Protocol::Http),
        ));

        // The telemetry listener stops last, so /readyz says "shutting down"
        // while the rest stops.
        let stop_telemetry = ShutdownTrigger::new();
        let telemetry_task = telemetry_listener.map(|listener| {
            let options = ServeOptions {
                what: "receiver telemetry",
                protocol: Protocol::Http,
                tls: None,
                limits: ConnectionLimits::default(),
            };
            let router = telemetry::router(Arc::clone(&telemetry));
            tokio::spawn(serve(listener, options, router, stop_telemetry.token()))
        });
        telemetry.set_listening();

        let snapshot_task = config.snapshot.path.clone().map(|path| {
            let engine = Arc::clone(&engine);
            let interval = config.snapshot.interval;
            let stop = listeners.token();
            tokio::spawn(async move {
                let mut ticker = tokio::time::interval(interval);
                ticker.tick().await;
                loop {
                    tokio::select! {
                        _ = ticker.tick() => {}
                        () = stop.stopped() => return,
                    }
                    if let Err(error) = write_snapshot(&engine, &path).await {
                        tracing::warn!(%error, "snapshot not written; will retry next interval");
                    }
                }
            })
        });

        // The pusher stops after the listeners, so the last window it
        // pushes holds every request they accepted.
        let stop_pusher = ShutdownTrigger::new();
        let push_task = pusher.map(|pusher| tokio::spawn(pusher.run(stop_pusher.token())));

        shutdown.await;
        let stopping = Instant::now();
        let deadline = stopping + grace;
        telemetry.set_stopping();
        tracing::info!(?grace, "shutting down: draining requests");
        listeners.trigger();
        let grpc_result = grpc_task.await;
        let http_result = http_task.await;
        let drained = stopping.elapsed();
        if let Some(task) = snapshot_task {
            let _ = task.await;
        }
        if let Some(path) = &config.snapshot.path {
            write_snapshot(&engine, path).await?;
            tracing::info!(path = %path.display(), "final snapshot written");
        }
        if let Some(task) = push_task {
            stop_pusher.trigger();
            if let Ok(pusher) = task.await {
                let stats = pusher.finish(deadline.into()).await;
                tracing::info!(
                    acknowledged = stats.acknowledged,
                    undelivered = stats.undelivered,
                    "pusher stopped"
                );
            }
        }
        tracing::info!(
            drained_ms = drained.as_millis() as u64,
            stopped_ms = stopping.elapsed().as_millis() as u64,
            grace_ms = grace.as_millis() as u64,
            "receiver stopped"
        );
        stop_telemetry.trigger();
        if let Some(task) = telemetry_task {
            served("receiver telemetry", task.await)?;
        }
        served("OTLP/gRPC", grpc_result)?;
        served("OTLP/HTTP", http_result)?;
        Ok(())
    }
}

async fn write_snapshot(engine: &Arc<Fingerprinter>, path: &std::path::Path) -> Result<(), Error> {
    let engine = Arc::clone(engine);
    let path = path.to_owned();
    let path_for_error = path.clone();
    tokio::task::spawn_blocking(move || snapshot::write(&path, &engine.snapshot()))
        .await
        .map_err(|e| SnapshotError::Write {
            path: path_for_error,
            source: std::io::Error::other(e),
        })?
        .map_err(Error::from)
}
