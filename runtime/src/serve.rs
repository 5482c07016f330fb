//! Serving HTTP (and gRPC, which is HTTP/2) on a bound listener, the same
//! way for every listener: optional TLS with a handshake timeout, a cap on
//! concurrent connections, a header-read timeout (HTTP/1), a cap on
//! concurrent HTTP/2 streams per connection, idle connections closed, and an
//! orderly stop that lets requests in flight finish.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::connection::{Activity, Connection};
use crate::shutdown::Shutdown;
use crate::tls::ServerTls;

/// A listener's `connections:` section: its limits, each with a safe default.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// Connections open at once; past it new ones are closed at once.
    pub max: usize,
    /// HTTP/2 streams (gRPC calls) open at once on one connection.
    pub max_concurrent_streams: u32,
    /// A connection that moves no byte for this long is closed (HTTP/2 with
    /// a GOAWAY, HTTP/1 between requests).
    #[serde(deserialize_with = "crate::serde_duration::deserialize")]
    pub idle_timeout: Duration,
    /// How long an HTTP/1 client may take to send a request's headers.
    #[serde(deserialize_with = "crate::serde_duration::deserialize")]
    pub read_header_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max: 4096,
            max_concurrent_streams: 100,
            idle_timeout: Duration::from_secs(120),
            read_header_timeout: Duration::from_secs(30),
        }
    }
}

impl ConnectionLimits {
    /// Refuses limits that would stop the listener from serving anything,
    /// naming the key under `section` (`otlp.protocols.grpc.connections`).
    pub fn validate(&self, section: &str) -> Result<(), String> {
        if self.max == 0 || self.max > u32::MAX as usize {
            return Err(format!("{section}.max must be between 1 and {}", u32::MAX));
        }
        if self.max_concurrent_streams == 0 {
            return Err(format!(
                "{section}.max_concurrent_streams must be at least 1"
            ));
        }
        if self.idle_timeout.is_zero() || self.read_header_timeout.is_zero() {
            return Err(format!(
                "{section}.idle_timeout and read_header_timeout must be longer than 0s"
            ));
        }
        Ok(())
    }
}

/// What a listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// gRPC: HTTP/2 only.
    Grpc,
    /// HTTP/1.1 and HTTP/2.
    Http,
}

/// How one listener serves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The listener's name in logs ("OTLP/gRPC").
    pub what: &'static str,
    /// HTTP/2 only, or HTTP/1.1 too.
    pub protocol: Protocol,
    /// TLS; `None`: plaintext.
    pub tls: Option<Arc<ServerTls>>,
    /// Connection limits and timeouts.
    pub limits: ConnectionLimits,
}

/// A response body [`serve`] can send.
pub trait ResponseBody:
    http_body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
    + Send
    + 'static
{
}

impl<B> ResponseBody for B
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
}

/// What [`serve`] serves: a tower service of HTTP requests (an axum
/// `Router`, tonic `Routes`, either with layers).
pub trait HttpService<B: ResponseBody>:
    tower::Service<
        Request<Incoming>,
        Response = Response<B>,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
}

impl<S, B> HttpService<B> for S
where
    B: ResponseBody,
    S: tower::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
}

/// What a server may ask of [`serve_with`] beyond [`ServeOptions`]: how long
/// the stop may wait for requests in flight, and where to count the
/// connections refused at the connection cap.
#[derive(Debug, Clone, Default)]
pub struct ServeControl {
    /// How long connections may take to finish their requests once the
    /// shutdown fired; past it they are closed, requests in flight with them
    /// (their clients get no answer and retry). `None`: as long as they take.
    pub drain_timeout: Option<Duration>,
    /// Counts connections closed at once because `connections.max` were open.
    pub refused_connections: Option<Arc<AtomicU64>>,
}

/// Serves `service` on `listener` until `shutdown`, then stops accepting and
/// waits for the open connections to finish their requests.
pub async fn serve<S: HttpService<B>, B: ResponseBody>(
    listener: TcpListener,
    options: ServeOptions,
    service: S,
    shutdown: Shutdown,
) -> Result<(), std::io::Error> {
    serve_with(
        listener,
        options,
        service,
        shutdown,
        ServeControl::default(),
    )
    .await
}

/// [`serve`], with the drain bounded and refused connections counted as
/// `control` says.
pub async fn serve_with<S: HttpService<B>, B: ResponseBody>(
    listener: TcpListener,
    options: ServeOptions,
    service: S,
    shutdown: Shutdown,
    control: ServeControl,
) -> Result<(), std::io::Error> {
    let limits = options.limits;
    let max = u32::try_from(limits.max).unwrap_or(u32::MAX).max(1);
    let permits = Arc::new(Semaphore::new(max as usize));
    let builder = connection_builder(options.protocol, &limits);
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.stopped() => break,
            // Finished connections are reaped as they end.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!(listener = options.what, %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            if let Some(refused) = &control.refused_connections {
                refused.fetch_add(1, Ordering::Relaxed);
            }
            tracing::debug!(listener = options.what, %peer, max = limits.max, "connection refused: at the connection limit");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let task = ConnectionTask {
            what: options.what,
            peer,
            tls: options.tls.clone(),
            idle_timeout: limits.idle_timeout,
            builder: builder.clone(),
            shutdown: shutdown.clone(),
            _permit: permit,
        };
        connections.spawn(task.run(stream, service.clone()));
    }
    drop(listener);
    let drained = async { while connections.join_next().await.is_some() {} };
    match control.drain_timeout {
        None => drained.await,
        Some(timeout) => {
            if tokio::time::timeout(timeout, drained).await.is_err() {
                let open = connections.len();
                connections.abort_all();
                while connections.join_next().await.is_some() {}
                tracing::warn!(
                    listener = options.what,
                    connections = open,
                    ?timeout,
                    "connections still busy at the drain deadline: closed"
                );
            }
        }
    }
    Ok(())
}

fn connection_builder(protocol: Protocol, limits: &ConnectionLimits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    if protocol == Protocol::Grpc {
        builder = builder.http2_only();
    }
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.read_header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams);
    builder
}

/// One accepted connection, served in its own task.
struct ConnectionTask {
    what: &'static str,
    peer: SocketAddr,
    tls: Option<Arc<ServerTls>>,
    idle_timeout: Duration,
    builder: Builder<TokioExecutor>,
    shutdown: Shutdown,
    /// Released when the connection is done.
    _permit: OwnedSemaphorePermit,
}

impl ConnectionTask {
    async fn run<S: HttpService<B>, B: ResponseBody>(self, stream: TcpStream, service: S) {
        let activity = Activity::new();
        let connection = match &self.tls {
            None => Connection::plain(stream, activity.clone()),
            Some(tls) => {
                let handshake =
                    tokio::time::timeout(tls.handshake_timeout(), tls.acceptor().accept(stream));
                let handshaken = tokio::select! {
                    () = self.shutdown.stopped() => return,
                    handshaken = handshake => handshaken,
                };
                match handshaken {
                    Ok(Ok(stream)) => Connection::tls(stream, activity.clone()),
                    Ok(Err(error)) => {
                        tracing::debug!(listener = self.what, peer = %self.peer, %error, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(listener = self.what, peer = %self.peer, "TLS handshake timed out");
                        return;
                    }
                }
            }
        };
        let served = self
            .builder
            .serve_connection(TokioIo::new(connection), TowerToHyperService::new(service));
        let mut served = pin!(served);
        let mut closing = false;
        let mut check = activity.last() + self.idle_timeout;
        loop {
            tokio::select! {
                result = served.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(listener = self.what, peer = %self.peer, %error, "connection ended with an error");
                    }
                    return;
                }
                () = self.shutdown.stopped(), if !closing => {
                    served.as_mut().graceful_shutdown();
                    closing = true;
                }
                () = tokio::time::sleep_until(check.into()) => {
                    let idle_until = activity.last() + self.idle_timeout;
                    if Instant::now() < idle_until {
                        check = idle_until;
                    } else if closing {
                        // Asked to close and still idle a whole period later.
                        return;
                    } else {
                        tracing::debug!(listener = self.what, peer = %self.peer, "closing an idle connection");
                        served.as_mut().graceful_shutdown();
                        closing = true;
                        check = Instant::now() + self.idle_timeout;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
