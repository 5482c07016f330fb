//! A layer-4 load balancer on loopback, as a Kubernetes Service is: each new
//! TCP connection goes to the next backend that accepts it (round robin),
//! and bytes are copied both ways until either side closes. A backend that
//! dies breaks its connections; clients reconnect and land on a live one.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use super::ports::loopback;

/// A running balancer; it stops accepting when dropped.
#[derive(Debug)]
pub struct Balancer {
    addr: SocketAddr,
    stopped: Arc<AtomicBool>,
    /// Connections handed to each backend so far, in backend order.
    handed: Arc<Vec<AtomicUsize>>,
}

impl Balancer {
    /// Listens on a free loopback port and balances over `backends`.
    pub fn start(backends: Vec<SocketAddr>) -> Balancer {
        let listener =
            TcpListener::bind(loopback(0)).unwrap_or_else(|e| panic!("balancer cannot bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("balancer has no address: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("balancer listener: {e}"));
        let stopped = Arc::new(AtomicBool::new(false));
        let handed = Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
        let balancer = Balancer {
            addr,
            stopped: Arc::clone(&stopped),
            handed: Arc::clone(&handed),
        };
        thread::spawn(move || {
            let mut next = 0;
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        for attempt in 0..backends.len() {
                            let index = (next + attempt) % backends.len();
                            if let Ok(backend) = TcpStream::connect_timeout(
                                &backends[index],
                                Duration::from_millis(200),
                            ) {
                                handed[index].fetch_add(1, Ordering::SeqCst);
                                next = index + 1;
                                splice(client, backend);
                                break;
                            }
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        balancer
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, as a receiver's `--analyzer` takes it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections handed to each backend so far.
    pub fn handed(&self) -> Vec<usize> {
        self.handed
            .iter()
            .map(|n| n.load(Ordering::SeqCst))
            .collect()
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
    }
}

/// Copies bytes between `a` and `b` in both directions until either closes.
fn splice(a: TcpStream, b: TcpStream) {
    let pipe = |mut from: TcpStream, mut to: TcpStream| {
        thread::spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            loop {
                match from.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
        });
    };
    match (a.try_clone(), b.try_clone()) {
        (Ok(a2), Ok(b2)) => {
            pipe(a, b2);
            pipe(b, a2);
        }
        _ => {
            let _ = a.shutdown(Shutdown::Both);
            let _ = b.shutdown(Shutdown::Both);
        }
    }
}
