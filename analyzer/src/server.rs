//! The running analyzer: push service, HTTP API and periodic evaluation.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use otel_parity_compare::accepted::load_accepted;
use otel_parity_proto::v1::parity_service_server::ParityServiceServer;
use otel_parity_runtime::auth::RequireBearer;
use otel_parity_runtime::grpc::{OtlpStatus, unauthenticated};
use otel_parity_runtime::listen::{bind, served};
use otel_parity_runtime::serve::serve;
use otel_parity_runtime::shutdown::ShutdownTrigger;
use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;
use tower::Layer;

use crate::config::AnalyzerConfig;
use crate::error::Error;
use crate::evaluate::Evaluator;
use crate::exposition::AnalyzerMetrics;
use crate::push_service::PushService;
use crate::security::Security;
use crate::store::{Store, StoreLocation};
use crate::web::http::{ApiState, router};

/// An analyzer with its store open and listeners bound.
pub struct Analyzer {
    config: AnalyzerConfig,
    store: Arc<Store>,
    metrics: Arc<AnalyzerMetrics>,
    evaluator: Arc<Evaluator>,
    http: TcpListener,
    push: TcpListener,
    security: Security,
}

impl Analyzer {
    /// Opens the store (`config.store`, else SQLite under `config.data_dir`)
    /// and binds both listeners.
    pub async fn bind(config: AnalyzerConfig) -> Result<Self, Error> {
        let location = config.store_location()?;
        if let StoreLocation::Sqlite(path) = &location
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| Error::DataDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let store = Arc::new(
            Store::open(&location, config.store_retention())
                .await?
                .with_limits(config.limits),
        );
        let accepted = match &config.accepted_differences {
            Some(path) => load_accepted(path)?,
            None => Vec::new(),
        };
        let metrics = Arc::new(AnalyzerMetrics::with_services_cap(
            config.limits.max_services,
        ));
        metrics.set_coverage_objective(config.evaluation.coverage_objective);
        metrics.set_pending_pushes(store.pending_pushes().await?);
        metrics.set_stored_pushes(store.environments().await?.iter().map(|e| e.pushes).sum());
        let evaluator = Arc::new(Evaluator::new(
            Arc::clone(&store),
            Arc::clone(&metrics),
            config.clone(),
            accepted,
        ));
        let security = Security::new(&config, &metrics)?;
        let http = bind("analyzer HTTP", &config.listen).await?;
        let push = bind("analyzer push", &config.push_listen).await?;
        Ok(Analyzer {
            config,
            store,
            metrics,
            evaluator,
            http,
            push,
            security,
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
        shutdown: impl IntoFuture<Output = (), IntoFuture: Send> + Send + 'static,
    ) -> Result<(), Error> {
        let (http_addr, push_addr) = self.local_addrs();
        tracing::info!(http = ?http_addr, push = ?push_addr, store = %self.store.describe(), "analyzer listening");
        let listeners = ShutdownTrigger::new();
        let max_push = self.config.max_push_size_mib.saturating_mul(1024 * 1024);
        let push_service = ParityServiceServer::new(PushService::new(
            Arc::clone(&self.store),
            Arc::clone(&self.metrics),
        ))
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max_push);
        let security = self.security;
        let routes = tonic::service::Routes::new(
            OtlpStatus::new(push_service).malformed_prefix("malformed push: "),
        )
        .prepare();
        let push_service = RequireBearer::new(security.push_guard, unauthenticated).layer(routes);
        let push_task = tokio::spawn(serve(
            self.push,
            security.push,
            push_service,
            listeners.token(),
        ));
        let api = router(
            ApiState {
                store: Arc::clone(&self.store),
                metrics: Arc::clone(&self.metrics),
                evaluator: Arc::clone(&self.evaluator),
                default_since: self.config.evaluation.since,
            },
            security.http_auth,
        );
        let http_task = tokio::spawn(serve(self.http, security.http, api, listeners.token()));
        let evaluation = tokio::spawn(Arc::clone(&self.evaluator).run());
        let rollups = tokio::spawn(crate::rollup_task::run(
            Arc::clone(&self.store),
            Arc::clone(&self.metrics),
        ));

        shutdown.await;
        listeners.trigger();
        evaluation.abort();
        rollups.abort();
        let push_result = push_task.await;
        let http_result = http_task.await;
        self.store.close().await;
        served("analyzer push", push_result)?;
        served("analyzer HTTP", http_result)?;
        Ok(())
    }
}
