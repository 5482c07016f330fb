//! The running analyzer: push service, HTTP API and periodic evaluation.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use otel_parity_proto::v1::parity_service_server::ParityServiceServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::codec::CompressionEncoding;

use crate::config::AnalyzerConfig;
use crate::evaluate::Evaluator;
use crate::exposition::AnalyzerMetrics;
use crate::push_service::{PushServer, PushService};
use crate::store::Store;
use crate::web::http::{ApiState, router};
use otel_parity_compare::accepted::load_accepted;

/// Why the analyzer could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("invalid {what} address {value:?}: {reason}")]
    Address {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("cannot listen on {addr} for {what}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Accepted(#[from] otel_parity_compare::accepted::AcceptedError),
    #[error("{what} server failed: {reason}")]
    Serve { what: &'static str, reason: String },
}

async fn bind(what: &'static str, value: &str) -> Result<TcpListener, ServeError> {
    let addr: SocketAddr =
        value
            .parse()
            .map_err(|e: std::net::AddrParseError| ServeError::Address {
                what,
                value: value.to_owned(),
                reason: e.to_string(),
            })?;
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { what, addr, source })
}

/// An analyzer with its store open and listeners bound.
pub struct Analyzer {
    config: AnalyzerConfig,
    store: Arc<Store>,
    metrics: Arc<AnalyzerMetrics>,
    evaluator: Arc<Evaluator>,
    http: TcpListener,
    push: TcpListener,
}

impl Analyzer {
    /// Opens the store under `config.data_dir` and binds both listeners.
    pub async fn bind(config: AnalyzerConfig) -> Result<Self, ServeError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let store = Arc::new(Store::open(&config.data_dir.join("otel-parity.db"))?);
        let accepted = match &config.accepted_differences {
            Some(path) => load_accepted(path)?,
            None => Vec::new(),
        };
        let metrics = Arc::new(AnalyzerMetrics::new());
        metrics.set_stored_pushes(store.push_count()?);
        let evaluator = Arc::new(Evaluator::new(
            Arc::clone(&store),
            Arc::clone(&metrics),
            config.clone(),
            accepted,
        ));
        let http = bind("analyzer HTTP", &config.listen).await?;
        let push = bind("analyzer push", &config.push_listen).await?;
        Ok(Analyzer {
            config,
            store,
            metrics,
            evaluator,
            http,
            push,
        })
    }

    /// The bound HTTP and push addresses.
    pub fn local_addrs(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (self.http.local_addr().ok(), self.push.local_addr().ok())
    }

    /// The evaluator (for on-demand reports).
    pub fn evaluator(&self) -> Arc<Evaluator> {
        Arc::clone(&self.evaluator)
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let (http_addr, push_addr) = self.local_addrs();
        tracing::info!(http = ?http_addr, push = ?push_addr, data_dir = %self.config.data_dir.display(), "analyzer listening");
        let (stop_tx, stop_rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let max_push = self.config.max_push_size_mib.saturating_mul(1024 * 1024);
        let push_service = ParityServiceServer::new(PushService::new(
            Arc::clone(&self.store),
            Arc::clone(&self.metrics),
        ))
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max_push);
        let push_server = tonic::transport::Server::builder()
            .add_service(PushServer::new(push_service))
            .serve_with_incoming_shutdown(
                TcpListenerStream::new(self.push),
                stopped(stop_rx.clone()),
            );
        let push_task = tokio::spawn(push_server);
        let api = router(ApiState {
            store: Arc::clone(&self.store),
            metrics: Arc::clone(&self.metrics),
            evaluator: Arc::clone(&self.evaluator),
            default_since: self.config.evaluation.since,
        });
        let http_server =
            axum::serve(self.http, api).with_graceful_shutdown(stopped(stop_rx.clone()));
        let http_task = tokio::spawn(async move { http_server.await });
        let evaluation = tokio::spawn(Arc::clone(&self.evaluator).run());

        shutdown.await;
        let _ = stop_tx.send(true);
        evaluation.abort();
        let push_result = push_task.await;
        let http_result = http_task.await;
        match push_result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(ServeError::Serve {
                    what: "analyzer push",
                    reason: e.to_string(),
                });
            }
            Err(e) => {
                return Err(ServeError::Serve {
                    what: "analyzer push",
                    reason: e.to_string(),
                });
            }
        }
        match http_result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ServeError::Serve {
                what: "analyzer HTTP",
                reason: e.to_string(),
            }),
            Err(e) => Err(ServeError::Serve {
                what: "analyzer HTTP",
                reason: e.to_string(),
            }),
        }
    }
}
