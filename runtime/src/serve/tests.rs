//! Real sockets, real handshakes: each test starts `serve` on a loopback port and talks to it
//! as a client would.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::Full;
use otel_parity_testkit::tls::{CertifiedKey, TestCa, write};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use otel_parity_testkit::e2e::ScratchDir;

use super::*;
use crate::shutdown::ShutdownTrigger;
use crate::tls::{ALPN_HTTP, TlsServerSettings, TlsVersion};

/// A server answering "hello" after `delay`, counting requests in flight and the most seen.
struct Running {
    addr: SocketAddr,
    stop: ShutdownTrigger,
    task: tokio::task::JoinHandle<Result<(), std::io::Error>>,
    peak: Arc<AtomicUsize>,
}

async fn start(
    protocol: Protocol,
    tls: Option<Arc<ServerTls>>,
    limits: ConnectionLimits,
    delay: Duration,
) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (flight, top) = (Arc::clone(&in_flight), Arc::clone(&peak));
    let service = tower::service_fn(move |_request: Request<Incoming>| {
        let (flight, top) = (Arc::clone(&flight), Arc::clone(&top));
        async move {
            let now = flight.fetch_add(1, Ordering::SeqCst) + 1;
            top.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            flight.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hello"))))
        }
    });
    let stop = ShutdownTrigger::new();
    let options = ServeOptions {
        what: "test",
        protocol,
        tls,
        limits,
    };
    let task = tokio::spawn(serve(listener, options, service, stop.token()));
    Running {
        addr,
        stop,
        task,
        peak,
    }
}

impl Running {
    async fn stop(self) {
        self.stop.trigger();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

fn server_tls(
    dir: &std::path::Path,
    ca: &TestCa,
    client_ca: Option<&TestCa>,
    min_version: TlsVersion,
) -> (Arc<ServerTls>, PathBuf, PathBuf) {
    let (cert, key) = ca.server("server-1").write(dir, "server");
    let mut settings = TlsServerSettings::new(cert.clone(), key.clone());
    settings.client_ca_file = client_ca.map(|c| c.write(dir, "client-ca"));
    settings.min_version = min_version;
    settings.reload_interval = Duration::from_millis(50);
    settings.handshake_timeout = Duration::from_millis(300);
    (
        Arc::new(ServerTls::new(&settings, ALPN_HTTP).unwrap()),
        cert,
        key,
    )
}

/// A rustls client trusting `ca`, optionally with a client certificate, up to `versions`.
fn connector(
    ca: &TestCa,
    client: Option<&CertifiedKey>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    let pem = ca.cert_pem();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(crate::tls::crypto_provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match client {
        Some(client) => builder
            .with_client_auth_cert(
                crate::tls::read_certificates_from_pem(client.cert_pem.as_bytes()),
                rustls::pki_types::PrivateKeyDer::from_pem_slice(client.key_pem.as_bytes())
                    .unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsConnector::from(Arc::new(config))
}

use rustls::pki_types::pem::PemObject;

const ALL: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

async fn handshake(
    connector: &TlsConnector,
    addr: SocketAddr,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

/// Sends one keep-alive HTTP/1.1 GET and reads the answer's head and the 5-byte body.
async fn get<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
) -> std::io::Result<String> {
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.ends_with(b"hello") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed",
            ));
        }
        answer.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// Asserts that one request on `stream` is answered 200.
async fn assert_served<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(stream: &mut S) {
    let answer = get(stream).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
}

/// How long until the server closes `stream` (EOF or reset), up to `limit`.
async fn closed_after<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(
            limit.saturating_sub(started.elapsed()),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn https_is_served_with_the_configured_certificate() {
    let dir = ScratchDir::new("runtime-serve-https");
    let ca = TestCa::new("test CA");
    let (tls, _, _) = server_tls(&dir, &ca, None, TlsVersion::Tls12);
    let server = start(
        Protocol::Http,
        Some(tls),
        ConnectionLimits::default(),
        Duration::ZERO,
    )
    .await;
    let mut stream = handshake(&connector(&ca, None, ALL), server.addr)
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let answer = get(&mut stream).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    // A server of another CA is not trusted.
    let other = TestCa::new("other CA");
    let refused = handshake(&connector(&other, None, ALL), server.addr)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("UnknownIssuer"), "{refused}");
    // Plaintext to the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(server.addr).await.unwrap();
    assert!(get(&mut plain).await.is_err());
    server.stop().await;
}

#[tokio::test]
async fn with_a_client_ca_only_clients_with_its_certificates_are_served() {
    let dir = ScratchDir::new("runtime-serve-mtls");
    let ca = TestCa::new("server CA");
    let clients = TestCa::new("client CA");
    let strangers = TestCa::new("stranger CA");
    let (tls, _, _) = server_tls(&dir, &ca, Some(&clients), TlsVersion::Tls12);
    let server = start(
        Protocol::Http,
        Some(tls),
        ConnectionLimits::default(),
        Duration::ZERO,
    )
    .await;

    let mut trusted = handshake(
        &connector(&ca, Some(&clients.client("receiver-prod")), ALL),
        server.addr,
    )
    .await
    .unwrap();
    assert_served(&mut trusted).await;
    // TLS 1.3 finishes the client's side of the handshake before the server checks the
    // certificate, so the refusal shows on the first read.
    for client in [None, Some(strangers.client("intruder"))] {
        let refused = match handshake(&connector(&ca, client.as_ref(), ALL), server.addr).await {
            Err(error) => error.to_string(),
            Ok(mut stream) => get(&mut stream).await.unwrap_err().to_string(),
        };
        let expected = if client.is_none() {
            "CertificateRequired"
        } else {
            "UnknownCA"
        };
        assert!(refused.contains(expected), "{refused}");
    }
    server.stop().await;
}

#[tokio::test]
async fn min_version_1_3_refuses_tls_1_2_clients() {
    let dir = ScratchDir::new("runtime-serve-minversion");
    let ca = TestCa::new("test CA");
    let (tls, _, _) = server_tls(&dir, &ca, None, TlsVersion::Tls13);
    let server = start(
        Protocol::Http,
        Some(tls),
        ConnectionLimits::default(),
        Duration::ZERO,
    )
    .await;
    let only_12 = connector(&ca, None, &[&rustls::version::TLS12]);
    let refused = handshake(&only_12, server.addr).await.unwrap_err();
    assert!(refused.to_string().contains("ProtocolVersion"), "{refused}");
    let mut stream = handshake(&connector(&ca, None, ALL), server.addr)
        .await
        .unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    assert_served(&mut stream).await;
    server.stop().await;
}

#[tokio::test]
async fn a_rotated_certificate_serves_new_handshakes_and_drops_no_connection() {
    let dir = ScratchDir::new("runtime-serve-rotate");
    let ca = TestCa::new("test CA");
    let (tls, cert, key) = server_tls(&dir, &ca, None, TlsVersion::Tls12);
    let server = start(
        Protocol::Http,
        Some(tls),
        ConnectionLimits::default(),
        Duration::ZERO,
    )
    .await;
    let client = connector(&ca, None, ALL);
    let presented =
        |stream: &TlsStream<TcpStream>| stream.get_ref().1.peer_certificates().unwrap()[0].to_vec();

    let mut before = handshake(&client, server.addr).await.unwrap();
    let first = presented(&before);
    assert_served(&mut before).await;
    let rotated = ca.server("server-2");
    write(&key, &rotated.key_pem);
    write(&cert, &rotated.cert_pem);
    tokio::time::sleep(Duration::from_millis(120)).await;

    let mut after = handshake(&client, server.addr).await.unwrap();
    assert_eq!(
        presented(&after),
        rotated.cert_der,
        "new handshakes get the new certificate"
    );
    assert_ne!(first, rotated.cert_der);
    assert_served(&mut after).await;
    // The connection made before the rotation still serves.
    assert_served(&mut before).await;
    // A broken rotation (a key that does not fit) keeps the last good pair.
    write(&key, &ca.server("server-3").key_pem);
    tokio::time::sleep(Duration::from_millis(120)).await;
    let mut still = handshake(&client, server.addr).await.unwrap();
    assert_eq!(presented(&still), rotated.cert_der);
    assert_served(&mut still).await;
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_never_finishes_the_handshake_is_cut_off() {
    let dir = ScratchDir::new("runtime-serve-handshake");
    let ca = TestCa::new("test CA");
    let (tls, _, _) = server_tls(&dir, &ca, None, TlsVersion::Tls12);
    let limits = ConnectionLimits {
        max: 1,
        ..ConnectionLimits::default()
    };
    let server = start(Protocol::Http, Some(tls), limits, Duration::ZERO).await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let closed = closed_after(&mut silent, Duration::from_secs(5))
        .await
        .expect("closed");
    assert!(
        closed >= Duration::from_millis(250),
        "closed after {closed:?}, before the 300 ms timeout"
    );
    // Its connection slot is free again.
    let mut stream = handshake(&connector(&ca, None, ALL), server.addr)
        .await
        .unwrap();
    assert_served(&mut stream).await;
    server.stop().await;
}

#[tokio::test]
async fn headers_that_take_too_long_are_cut_off() {
    let limits = ConnectionLimits {
        read_header_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    };
    let server = start(Protocol::Http, None, limits, Duration::ZERO).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: local")
        .await
        .unwrap();
    let closed = closed_after(&mut slow, Duration::from_secs(5))
        .await
        .expect("closed");
    assert!(
        closed >= Duration::from_millis(250),
        "closed after {closed:?}"
    );
    let mut prompt = TcpStream::connect(server.addr).await.unwrap();
    assert_served(&mut prompt).await;
    server.stop().await;
}

#[tokio::test]
async fn idle_connections_are_closed_and_busy_ones_kept() {
    let limits = ConnectionLimits {
        idle_timeout: Duration::from_millis(400),
        ..ConnectionLimits::default()
    };
    let server = start(Protocol::Http, None, limits, Duration::ZERO).await;
    let mut busy = TcpStream::connect(server.addr).await.unwrap();
    for _ in 0..6 {
        assert_served(&mut busy).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let closed = closed_after(&mut busy, Duration::from_secs(5))
        .await
        .expect("closed when idle");
    assert!(
        closed >= Duration::from_millis(200),
        "closed after {closed:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn connections_past_the_limit_are_closed_at_once() {
    let server = start(
        Protocol::Http,
        None,
        ConnectionLimits {
            max: 2,
            ..ConnectionLimits::default()
        },
        Duration::ZERO,
    )
    .await;
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    assert!(get(&mut first).await.is_ok() && get(&mut second).await.is_ok());
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    assert!(
        closed_after(&mut third, Duration::from_secs(2))
            .await
            .is_some(),
        "the third connection is closed"
    );
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fourth = TcpStream::connect(server.addr).await.unwrap();
    assert_served(&mut fourth).await;
    server.stop().await;
}

/// The most requests that ran at once when `requests` are sent together on one HTTP/2
/// connection to a server allowing `max_concurrent_streams`.
async fn peak_concurrency(max_concurrent_streams: u32, requests: usize) -> usize {
    let limits = ConnectionLimits {
        max_concurrent_streams,
        ..ConnectionLimits::default()
    };
    let server = start(Protocol::Grpc, None, limits, Duration::from_millis(100)).await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    // One request first, so that the client has the server's SETTINGS before the burst (streams
    // opened before them are refused with REFUSED_STREAM, which clients retry).
    let warm_up = Request::post("http://localhost/")
        .body(Full::new(Bytes::new()))
        .unwrap();
    sender.clone().send_request(warm_up).await.unwrap();
    let mut calls = Vec::new();
    for _ in 0..requests {
        let mut sender = sender.clone();
        calls.push(tokio::spawn(async move {
            let request = Request::post("http://localhost/")
                .body(Full::new(Bytes::new()))
                .unwrap();
            sender.send_request(request).await.unwrap().status()
        }));
    }
    for call in calls {
        assert_eq!(call.await.unwrap(), http::StatusCode::OK);
    }
    let peak = server.peak.load(Ordering::SeqCst);
    server.stop().await;
    peak
}

#[tokio::test]
async fn http2_streams_past_the_limit_wait_for_a_free_one() {
    assert_eq!(peak_concurrency(1, 4).await, 1);
    assert_eq!(peak_concurrency(4, 4).await, 4);
}

#[test]
fn limits_that_would_serve_nothing_are_refused_by_name() {
    let zero = ConnectionLimits {
        max: 0,
        ..ConnectionLimits::default()
    };
    assert_eq!(
        zero.validate("push.connections").unwrap_err(),
        format!("push.connections.max must be between 1 and {}", u32::MAX)
    );
    let no_streams = ConnectionLimits {
        max_concurrent_streams: 0,
        ..ConnectionLimits::default()
    };
    assert!(
        no_streams
            .validate("x")
            .unwrap_err()
            .contains("x.max_concurrent_streams")
    );
    assert!(ConnectionLimits::default().validate("x").is_ok());
}
