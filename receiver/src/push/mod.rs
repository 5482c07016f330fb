//! Pushing fingerprints to the central analyzer (`parity.v1.ParityService`).
//!
//! Every interval the engine's window is ended and queued as one push per
//! environment, tagged with this receiver's instance id, the window and a
//! sequence number. The queue is sent in order; while the analyzer is away
//! pushes wait and are retried with exponential backoff, and the oldest are
//! dropped (and counted) only past `max_pending_windows`. A retried push has
//! the same key, so the analyzer stores it once.
//!
//! With a state directory, queued pushes are also on disk (`spool`) until
//! acknowledged, and the current window's progress is checkpointed
//! (`progress`), so that a restart loses only the window it had not ended,
//! and says how much.

mod progress;
mod spool;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use otel_parity_proto::v1 as pb;
use otel_parity_proto::v1::parity_service_client::ParityServiceClient;
use otel_parity_runtime::auth::ClientToken;
use otel_parity_runtime::reload::Reloading;
use otel_parity_runtime::shutdown::Shutdown;
use tokio::time::{Instant, MissedTickBehavior};
use tonic::codec::CompressionEncoding;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use self::progress::{ProgressFile, WindowCounts, WindowProgress};
use self::spool::Spool;
use crate::Fingerprinter;
use crate::config::{PushConfig, PushTlsConfig};
use crate::error::Error;
use crate::telemetry::{PushResult, ReceiverTelemetry};

/// Backoff between failed attempts: doubling from the first delay to the cap.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(30);
/// How often the current window's progress is checkpointed.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);
/// How often the pusher's CA, certificate and key files are checked for
/// changes (a changed file makes a new connection with the new files).
const TLS_RELOAD_INTERVAL: Duration = Duration::from_secs(5);

/// What the pusher did, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushStats {
    /// Pushes the analyzer acknowledged (new or duplicate).
    pub acknowledged: u64,
    /// Attempts that failed and were retried.
    pub failed_attempts: u64,
    /// Pushes dropped: the queue was full, or the analyzer refused them as invalid.
    pub dropped: u64,
    /// Pushes still queued when the pusher stopped.
    pub undelivered: u64,
}

/// Sends the engine's windows to the analyzer until it is stopped.
pub struct Pusher {
    engine: Arc<Fingerprinter>,
    config: PushConfig,
    client: Reloading<ParityServiceClient<Channel>>,
    token: Option<ClientToken>,
    queue: VecDeque<pb::PushRequest>,
    next_sequence: u64,
    stats: PushStats,
    /// Whether the last attempt failed (the first failure of a run is logged
    /// as a warning, the rest quietly).
    failing: bool,
    telemetry: Arc<ReceiverTelemetry>,
    /// Pending pushes on disk, and the window checkpoint; `None` without a
    /// state directory.
    state: Option<(Spool, ProgressFile)>,
    /// The engine's lifetime totals when the current window started.
    window_baseline: [(u64, u64); 3],
    /// The counts last checkpointed.
    checkpointed: WindowCounts,
}

impl Pusher {
    /// A pusher for `config.analyzer` (`http://host:port`, or `https://…`
    /// checked against `push.tls`); the connection is made lazily, so an
    /// absent analyzer is not an error, but unreadable TLS or token files are.
    pub fn new(
        engine: Arc<Fingerprinter>,
        config: PushConfig,
        analyzer: &str,
        telemetry: Arc<ReceiverTelemetry>,
        state_dir: Option<&std::path::Path>,
    ) -> Result<Pusher, Error> {
        let endpoint = Endpoint::from_shared(analyzer.to_owned())
            .map_err(|source| otel_parity_runtime::Error::Address {
                what: "analyzer",
                value: analyzer.to_owned(),
                source: Box::new(source),
            })?
            .connect_timeout(config.timeout)
            .timeout(config.timeout);
        let https = endpoint.uri().scheme_str() == Some("https");
        let tls = config.tls.clone();
        let files: Vec<_> = [&tls.ca_file, &tls.cert_file, &tls.key_file]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let client = Reloading::new(
            "analyzer client certificate",
            files,
            https.then_some(TLS_RELOAD_INTERVAL),
            move || {
                let endpoint = match https {
                    true => endpoint
                        .clone()
                        .tls_config(client_tls(&tls)?)
                        .map_err(|e| otel_parity_runtime::Error::Address {
                            what: "analyzer",
                            value: endpoint.uri().to_string(),
                            source: Box::new(e),
                        })?,
                    false => endpoint.clone(),
                };
                Ok(ParityServiceClient::new(endpoint.connect_lazy())
                    .send_compressed(CompressionEncoding::Gzip))
            },
        )?;
        let token = config
            .bearer_token_file
            .clone()
            .map(ClientToken::from_file)
            .transpose()?;
        let state = match state_dir {
            Some(dir) => Some((Spool::open(dir)?, ProgressFile::new(dir))),
            None => None,
        };
        let window_baseline = engine.received_totals();
        let mut pusher = Pusher {
            engine,
            config,
            client,
            token,
            queue: VecDeque::new(),
            next_sequence: 0,
            stats: PushStats::default(),
            failing: false,
            telemetry,
            state,
            window_baseline,
            checkpointed: WindowCounts::default(),
        };
        pusher.recover();
        Ok(pusher)
    }

    /// Takes over what a previous run left in the state directory: its
    /// unacknowledged pushes (queued first) and the report of the window it
    /// never ended (logged and in the metrics).
    fn recover(&mut self) {
        let Some((pending, previous)) = self
            .state
            .as_ref()
            .map(|(spool, progress)| (spool.load(), progress.take_previous()))
        else {
            return;
        };
        if !pending.is_empty() {
            tracing::info!(
                pushes = pending.len(),
                "pushes the previous run left unacknowledged will be sent first"
            );
        }
        self.next_sequence = pending.iter().map(|p| p.sequence + 1).max().unwrap_or(0);
        self.telemetry.set_recovered_pushes(pending.len());
        self.queue.extend(pending);
        self.telemetry.set_pending_windows(self.queue.len());
        let mut lost = [(0, 0); 3];
        if let Some(previous) = previous {
            let counts = previous.counts;
            for (i, slot) in lost.iter_mut().enumerate() {
                *slot = (counts.requests[i], counts.items[i]);
            }
            let [traces, metrics, logs] = counts.items;
            tracing::warn!(
                instance = %previous.instance,
                window_start_unix_nano = previous.window_start_unix_nano,
                checkpoint_unix_nano = previous.checkpoint_unix_nano,
                requests = counts.requests.iter().sum::<u64>(),
                items = traces + metrics + logs,
                traces,
                metrics,
                logs,
                "the previous run stopped without pushing its last window: what it had \
                 accepted in it up to its last checkpoint is lost"
            );
        }
        self.telemetry.set_restart_lost(lost);
    }

    /// Pushes every interval until `stop` fires; [`Pusher::finish`] then
    /// pushes the last window.
    pub async fn run(mut self, stop: Shutdown) -> Self {
        let mut ticker = tokio::time::interval(self.config.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticker.tick().await;
        let mut checkpoint = tokio::time::interval(CHECKPOINT_INTERVAL);
        checkpoint.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut retry = FIRST_RETRY;
        let mut next_attempt = Instant::now();
        loop {
            tokio::select! {
                _ = ticker.tick() => self.end_window().await,
                _ = checkpoint.tick(), if self.state.is_some() => self.checkpoint(),
                () = stop.stopped() => break,
                _ = tokio::time::sleep_until(next_attempt), if !self.queue.is_empty() => {
                    if self.send_next().await {
                        retry = FIRST_RETRY;
                        next_attempt = Instant::now();
                    } else {
                        next_attempt = Instant::now() + retry;
                        retry = (retry * 2).min(MAX_RETRY);
                    }
                }
            }
        }
        self
    }

    /// Queues the last window and tries to deliver everything until
    /// `deadline`; what is still queued then stays in the state directory
    /// (if any) for the next run.
    pub async fn finish(mut self, deadline: Instant) -> PushStats {
        self.end_window().await;
        if let Some((_, progress)) = &self.state {
            progress.clear();
        }
        while !self.queue.is_empty() && Instant::now() < deadline {
            if !self.send_next().await {
                tokio::time::sleep(
                    FIRST_RETRY.min(deadline.saturating_duration_since(Instant::now())),
                )
                .await;
            }
        }
        self.stats.undelivered = self.queue.len() as u64;
        if self.stats.undelivered > 0 {
            tracing::warn!(
                pushes = self.stats.undelivered,
                kept = self.state.is_some(),
                "analyzer unreachable at shutdown: fingerprints not delivered{}",
                if self.state.is_some() {
                    " (kept in state_dir for the next run)"
                } else {
                    ""
                }
            );
        }
        self.stats
    }

    /// Writes the current window's progress when it changed.
    fn checkpoint(&mut self) {
        let Some((_, progress)) = &self.state else {
            return;
        };
        let counts = WindowCounts::between(self.window_baseline, self.engine.received_totals());
        if counts == self.checkpointed {
            return;
        }
        progress.write(&WindowProgress {
            instance: self.engine.config().instance.clone(),
            window_start_unix_nano: self.engine.window_start_unix_nano(),
            checkpoint_unix_nano: otel_parity_runtime::time::unix_nanos_now(),
            counts,
        });
        self.checkpointed = counts;
    }

    /// Ends the engine's window and queues one push per environment.
    async fn end_window(&mut self) {
        let engine = Arc::clone(&self.engine);
        let Ok((window, baseline)) = tokio::task::spawn_blocking(move || {
            let window = engine.take_window();
            (window, engine.received_totals())
        })
        .await
        else {
            return;
        };
        self.window_baseline = baseline;
        let instance = self.engine.config().instance.clone();
        for (environment, fingerprint) in window.environments {
            let push = pb::PushRequest {
                environment,
                receiver_instance: instance.clone(),
                window_start_unix_nano: window.window_start_unix_nano,
                window_end_unix_nano: window.window_end_unix_nano,
                sequence: self.next_sequence,
                fingerprint: Some(fingerprint),
            };
            if let Some((spool, _)) = &self.state {
                spool.store(&push);
            }
            self.queue.push_back(push);
            self.next_sequence += 1;
        }
        // The window's pushes are on disk: the checkpoint of what it held goes.
        if let Some((_, progress)) = &self.state {
            progress.clear();
            self.checkpointed = WindowCounts::default();
        }
        while self.queue.len() > self.config.max_pending_windows {
            if let Some(dropped) = self.queue.pop_front() {
                self.forget(dropped.sequence);
                self.stats.dropped += 1;
                self.telemetry.metrics().push_dropped("queue_full", 1);
                tracing::warn!(
                    environment = %dropped.environment,
                    sequence = dropped.sequence,
                    "push queue full: oldest window dropped"
                );
            }
        }
        self.telemetry.set_pending_windows(self.queue.len());
    }

    /// Removes a push that is done with from the state directory.
    fn forget(&self, sequence: u64) {
        if let Some((spool, _)) = &self.state {
            spool.remove(sequence);
        }
    }

    /// Sends the oldest queued push; true when it is done with (acknowledged,
    /// or refused as invalid and dropped), false when it should be retried.
    async fn send_next(&mut self) -> bool {
        let Some(push) = self.queue.front().cloned() else {
            return true;
        };
        let mut request = tonic::Request::new(push);
        if let Some(token) = &self.token
            && let Ok(mut value) = AsciiMetadataValue::try_from(token.authorization().as_bytes())
        {
            value.set_sensitive(true);
            request.metadata_mut().insert("authorization", value);
        }
        let mut client = (*self.client.current()).clone();
        let sequence = request.get_ref().sequence;
        match client.push(request).await {
            Ok(_) => {
                self.queue.pop_front();
                self.forget(sequence);
                self.telemetry.push_attempt(PushResult::Acknowledged);
                self.telemetry.set_pending_windows(self.queue.len());
                self.stats.acknowledged += 1;
                if std::mem::take(&mut self.failing) {
                    tracing::info!("pushes reach the analyzer again");
                }
                true
            }
            Err(status) if status.code() == tonic::Code::InvalidArgument => {
                // Retrying cannot help a push the analyzer calls invalid.
                tracing::error!(error = %status.message(), "analyzer refused a push as invalid; dropped");
                self.queue.pop_front();
                self.forget(sequence);
                self.telemetry.push_attempt(PushResult::Invalid);
                self.telemetry.metrics().push_dropped("invalid", 1);
                self.telemetry.set_pending_windows(self.queue.len());
                self.stats.dropped += 1;
                true
            }
            Err(status) => {
                self.telemetry.push_attempt(PushResult::Failed);
                self.stats.failed_attempts += 1;
                let error = error_chain(&status);
                if std::mem::replace(&mut self.failing, true) {
                    tracing::debug!(code = ?status.code(), %error, "push failed; will retry");
                } else {
                    tracing::warn!(code = ?status.code(), %error, "push failed; retrying with backoff");
                }
                false
            }
        }
    }
}

/// The TLS a push connection uses: the analyzer checked against `ca_file`
/// (else the system's roots), a client certificate when one is configured.
fn client_tls(tls: &PushTlsConfig) -> Result<ClientTlsConfig, otel_parity_runtime::Error> {
    use otel_parity_runtime::tls::{read_certificates, read_private_key};
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|source| otel_parity_runtime::Error::SecretFile {
            path: path.to_owned(),
            source,
        })
    };
    let mut config = ClientTlsConfig::new();
    config = match &tls.ca_file {
        Some(path) => {
            read_certificates(path)?;
            config.ca_certificate(Certificate::from_pem(read(path)?))
        }
        None => config.with_native_roots(),
    };
    if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
        read_certificates(cert)?;
        read_private_key(key)?;
        config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
    }
    if let Some(name) = &tls.server_name {
        config = config.domain_name(name.clone());
    }
    Ok(config)
}

/// A failed push's status with its causes (a TLS refusal is three levels down).
fn error_chain(status: &tonic::Status) -> String {
    let mut text = status.message().to_owned();
    let mut source = std::error::Error::source(status);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
