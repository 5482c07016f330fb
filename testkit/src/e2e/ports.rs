//! Free loopback ports, and waiting for a server to listen on one.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use super::poll_until;

/// A loopback port that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("bound listener has no address: {e}"))
        .port()
}

/// `N` loopback ports that were free a moment ago, all different.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let mut ports = [0; N];
    for i in 0..N {
        ports[i] = std::iter::repeat_with(free_port)
            .find(|port| !ports[..i].contains(port))
            .unwrap_or_else(|| unreachable!("repeat_with never ends"));
    }
    ports
}

/// A loopback address on port `port`.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Whether something accepts TCP connections at `addr` right now.
pub fn port_accepts(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Polls `addr` until it accepts TCP connections; false if it did not within `timeout`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    poll_until(timeout, Duration::from_millis(50), || port_accepts(addr))
}
