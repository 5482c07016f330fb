//! The running receiver: OTLP gRPC and HTTP listeners, periodic snapshots,
//! and an orderly stop that writes a last snapshot.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use otel_parity_model::snapshot::{self, SnapshotError};
use otel_parity_runtime::auth::{Guard, RequireBearer, TokenAuthSettings};
use otel_parity_runtime::grpc::{OtlpStatus, unauthenticated};
use otel_parity_runtime::listen::{bind, served};
use otel_parity_runtime::serve::{Protocol, ServeOptions, serve};
use otel_parity_runtime::shutdown::ShutdownTrigger;
use otel_parity_runtime::tls::{ALPN_GRPC, ALPN_HTTP, ServerTls, TlsServerSettings};
use tokio::net::TcpListener;
use tower::Layer;

use crate::Fingerprinter;
use crate::config::ReceiverConfig;
use crate::error::Error;
use crate::otlp::grpc::{Logs, Metrics, OtlpGrpcService, Traces};
use crate::otlp::http;
use crate::push_client::Pusher;

/// Listeners bound and ready to serve; binding first makes "address in use"
/// an error before anything starts.
pub struct Receiver {
    config: ReceiverConfig,
    engine: Arc<Fingerprinter>,
    grpc: TcpListener,
    http: TcpListener,
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
        limits: otel_parity_runtime::serve::ConnectionLimits,
    ) -> Result<Self, Error> {
        let alpn = match protocol {
            Protocol::Grpc => ALPN_GRPC,
            Protocol::Http => ALPN_HTTP,
        };
        let tls = match tls {
            Some(settings) => Some(Arc::new(ServerTls::new(settings, alpn)?)),
            None => None,
        };
        let guard = auth.map(TokenAuthSettings::guard).transpose()?;
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
    /// Binds the OTLP listeners of `config`.
    pub async fn bind(config: ReceiverConfig) -> Result<Self, Error> {
        let protocols = &config.otlp.protocols;
        let grpc_security = Security::new(
            "OTLP/gRPC",
            Protocol::Grpc,
            protocols.grpc.tls.as_ref(),
            protocols.grpc.auth.as_ref(),
            protocols.grpc.connections,
        )?;
        let http_security = Security::new(
            "OTLP/HTTP",
            Protocol::Http,
            protocols.http.tls.as_ref(),
            protocols.http.auth.as_ref(),
            protocols.http.connections,
        )?;
        let grpc = bind("OTLP/gRPC", &protocols.grpc.endpoint).await?;
        let http = bind("OTLP/HTTP", &protocols.http.endpoint).await?;
        let engine = Arc::new(Fingerprinter::new(config.engine_config()));
        let pusher = match &config.push.analyzer {
            Some(analyzer) => Some(Pusher::new(
                Arc::clone(&engine),
                config.push.clone(),
                analyzer,
            )?),
            None => None,
        };
        Ok(Receiver {
            config,
            engine,
            grpc,
            http,
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

    /// Serves until `shutdown` completes, writing snapshots every interval and
    /// once more after the listeners have stopped.
    pub async fn serve(
        self,
        shutdown: impl IntoFuture<Output = (), IntoFuture: Send> + Send + 'static,
    ) -> Result<(), Error> {
        let listeners = ShutdownTrigger::new();
        let (grpc_addr, http_addr) = self.local_addrs();
        let Receiver {
            config,
            engine,
            grpc,
            http,
            grpc_security,
            http_security,
            pusher,
        } = self;
        tracing::info!(
            grpc = ?grpc_addr,
            http = ?http_addr,
            grpc_tls = grpc_security.options.tls.is_some(),
            http_tls = http_security.options.tls.is_some(),
            "OTLP receiver listening"
        );

        let grpc_max = config
            .otlp
            .protocols
            .grpc
            .max_recv_msg_size_mib
            .saturating_mul(1024 * 1024);
        let routes = tonic::service::Routes::new(OtlpStatus::new(OtlpGrpcService::<Traces>::new(
            Arc::clone(&engine),
            grpc_max,
        )))
        .add_service(OtlpStatus::new(OtlpGrpcService::<Metrics>::new(
            Arc::clone(&engine),
            grpc_max,
        )))
        .add_service(OtlpStatus::new(OtlpGrpcService::<Logs>::new(
            Arc::clone(&engine),
            grpc_max,
        )))
        .prepare();
        let grpc_service = RequireBearer::new(grpc_security.guard, unauthenticated).layer(routes);
        let grpc_task = tokio::spawn(serve(
            grpc,
            grpc_security.options,
            grpc_service,
            listeners.token(),
        ));

        let router = http::router(
            Arc::clone(&engine),
            config.otlp.protocols.http.max_request_body_size,
        )
        .layer(RequireBearer::new(
            http_security.guard,
            http::unauthenticated,
        ));
        let http_task = tokio::spawn(serve(
            http,
            http_security.options,
            router,
            listeners.token(),
        ));

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
        tracing::info!("shutting down: draining requests");
        listeners.trigger();
        let grpc_result = grpc_task.await;
        let http_result = http_task.await;
        if let Some(task) = snapshot_task {
            let _ = task.await;
        }
        if let Some(path) = &config.snapshot.path {
            write_snapshot(&engine, path).await?;
            tracing::info!(path = %path.display(), "final snapshot written");
        }
        if let Some(task) = push_task {
            stop_pusher.trigger();
            if let Ok(stats) = task.await {
                tracing::info!(
                    acknowledged = stats.acknowledged,
                    undelivered = stats.undelivered,
                    "pusher stopped"
                );
            }
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
