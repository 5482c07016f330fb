//! A minimal HTTP/1.1 client on a raw TCP stream: it sends exactly the bytes it is given
//! (headers and body), which no well-behaved HTTP library would, and reads the response whole.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use prost::Message;
use serde_json::Value;

/// How long one HTTP exchange may take.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);

/// `google.rpc.Status`, the body of OTLP/HTTP error responses.
#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    /// The gRPC status code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// What went wrong, for people.
    #[prost(string, tag = "2")]
    pub message: String,
}

/// gRPC code INVALID_ARGUMENT, as a `google.rpc.Status` code.
pub const INVALID_ARGUMENT: i32 = 3;
/// gRPC code RESOURCE_EXHAUSTED.
pub const RESOURCE_EXHAUSTED: i32 = 8;

/// An HTTP response, read whole.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers, as sent (name, value).
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The Content-Type without parameters, lower-cased.
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// Status, headers and the start of the body, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "HTTP {} {:?} body ({} bytes): {}",
            self.status,
            self.headers,
            self.body.len(),
            String::from_utf8_lossy(&self.body[..self.body.len().min(500)])
        )
    }

    /// The body as `google.rpc.Status` (protobuf).
    pub fn rpc_status(&self) -> RpcStatus {
        assert_eq!(
            self.media_type(),
            "application/x-protobuf",
            "error body should be protobuf: {}",
            self.describe()
        );
        RpcStatus::decode(&*self.body).unwrap_or_else(|e| {
            panic!(
                "error body is not a google.rpc.Status ({e}): {}",
                self.describe()
            )
        })
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        assert_eq!(
            self.media_type(),
            "application/json",
            "body should be JSON: {}",
            self.describe()
        );
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.describe()))
    }
}

/// Sends one HTTP/1.1 request on a new connection (`Connection: close`) and reads the response.
/// A body the server stops reading (it answered early) is not an error: the response counts.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut stream = TcpStream::connect_timeout(&addr, EXCHANGE_TIMEOUT)
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    stream
        .set_read_timeout(Some(EXCHANGE_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(EXCHANGE_TIMEOUT)))
        .unwrap_or_else(|e| panic!("cannot set socket timeouts: {e}"));
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: otel-parity-e2e\r\n\
         Connection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .unwrap_or_else(|e| panic!("cannot send request head to {addr}: {e}"));
    // The server may answer (413, 415) and close without reading the whole body.
    if let Err(e) = stream.write_all(body).and_then(|()| stream.flush()) {
        assert!(
            matches!(
                e.kind(),
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
            ),
            "cannot send request body to {addr}: {e}"
        );
    }
    let mut raw = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A reset after the response (the server closed with body bytes unread).
            Err(e) if e.kind() == ErrorKind::ConnectionReset && !raw.is_empty() => break,
            Err(e) => panic!(
                "reading the response from {addr} failed after {} bytes: {e}",
                raw.len()
            ),
        }
    }
    parse_http_response(&raw).unwrap_or_else(|e| {
        panic!(
            "bad HTTP response from {addr} ({e}): {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

fn parse_http_response(raw: &[u8]) -> Result<HttpResponse, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|e| format!("head not UTF-8: {e}"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(format!("status line {status_line:?}"));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            line.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| format!("header line {line:?}"))
        })
        .collect::<Result<_, _>>()?;
    let rest = &raw[end + 4..];
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|e| format!("content-length {length:?}: {e}"))?;
        rest.get(..length)
            .ok_or_else(|| format!("body has {} of {length} bytes", rest.len()))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("chunk size line")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("chunk size {size_text:?}: {e}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(rest.get(..size).ok_or("short chunk")?);
        rest = rest.get(size + 2..).ok_or("chunk without CRLF")?;
    }
}

/// The OTLP/HTTP protobuf media type.
pub const PROTOBUF: &str = "application/x-protobuf";
/// The OTLP/JSON media type.
pub const JSON: &str = "application/json";
