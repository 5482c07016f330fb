//! Listeners and the servers on them. Every server binds before it starts,
//! so that a bad address or a port in use is an error that names the
//! listener before anything serves.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::task::JoinError;

use crate::error::Error;

/// Binds a TCP listener on `value` (`host:port`) for `what` ("OTLP/gRPC").
pub async fn bind(what: &'static str, value: &str) -> Result<TcpListener, Error> {
    let addr: SocketAddr = value.parse().map_err(|source| Error::Address {
        what,
        value: value.to_owned(),
        source: Box::new(source),
    })?;
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { what, addr, source })
}

/// How a spawned server for `what` ended: `Ok` when it stopped cleanly, else
/// its error (or its task's panic) as one naming the server.
pub fn served<E>(what: &'static str, ended: Result<Result<(), E>, JoinError>) -> Result<(), Error>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match ended {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(Error::Serve {
            what,
            source: Box::new(error),
        }),
        Err(panicked) => Err(Error::Serve {
            what,
            source: Box::new(panicked),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_and_reports_the_bound_address() {
        let listener = bind("OTLP/gRPC", "127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    }

    #[tokio::test]
    async fn a_bad_address_names_the_listener_and_the_value() {
        let error = bind("OTLP/gRPC", "not-an-address").await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid OTLP/gRPC address \"not-an-address\": invalid socket address syntax"
        );
    }

    #[tokio::test]
    async fn a_port_in_use_names_the_listener_and_the_address() {
        let taken = bind("analyzer HTTP", "127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let error = bind("analyzer push", &addr).await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("cannot listen on {addr} for analyzer push: ")),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_failed_or_panicked_server_is_named() {
        let clean = tokio::spawn(async { Ok::<(), std::io::Error>(()) }).await;
        assert!(served("OTLP/HTTP", clean).is_ok());
        let failed = tokio::spawn(async { Err(std::io::Error::other("socket closed")) }).await;
        assert_eq!(
            served::<std::io::Error>("OTLP/HTTP", failed)
                .unwrap_err()
                .to_string(),
            "OTLP/HTTP server failed: socket closed"
        );
        let panicked = tokio::spawn(async { panic!("boom") }).await;
        let message = served::<std::io::Error>("analyzer push", panicked)
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("analyzer push server failed: "),
            "{message}"
        );
    }
}
