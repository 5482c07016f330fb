//! The running receiver: OTLP gRPC and HTTP listeners, periodic snapshots,
//! and an orderly stop that writes a last snapshot.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use otel_parity_model::snapshot::{self, SnapshotError};
use otel_parity_runtime::grpc::OtlpStatus;
use otel_parity_runtime::listen::{bind, served};
use otel_parity_runtime::shutdown::ShutdownTrigger;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

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
    pusher: Option<Pusher>,
}

impl Receiver {
    /// Binds the OTLP listeners of `config`.
    pub async fn bind(config: ReceiverConfig) -> Result<Self, Error> {
        let grpc = bind("OTLP/gRPC", &config.otlp.protocols.grpc.endpoint).await?;
        let http = bind("OTLP/HTTP", &config.otlp.protocols.http.endpoint).await?;
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
            pusher,
        } = self;
        tracing::info!(grpc = ?grpc_addr, http = ?http_addr, "OTLP receiver listening");

        let grpc_max = config
            .otlp
            .protocols
            .grpc
            .max_recv_msg_size_mib
            .saturating_mul(1024 * 1024);
        let grpc_server = tonic::transport::Server::builder()
            .add_service(OtlpStatus::new(OtlpGrpcService::<Traces>::new(
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
            .serve_with_incoming_shutdown(
                TcpListenerStream::new(grpc),
                listeners.token().into_future(),
            );
        let grpc_task = tokio::spawn(grpc_server);

        let router = http::router(
            Arc::clone(&engine),
            config.otlp.protocols.http.max_request_body_size,
        );
        let http_server =
            axum::serve(http, router).with_graceful_shutdown(listeners.token().into_future());
        let http_task = tokio::spawn(async move { http_server.await });

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
