//! The certificates and token files of one test, made in the test: a server CA and its
//! server certificate (for localhost and 127.0.0.1), a client CA and a client certificate, a
//! stranger CA with its own client certificate, an expired server certificate, and token files.

use std::path::{Path, PathBuf};

use otel_parity_testkit::e2e::{HttpClient, ScratchDir};
use otel_parity_testkit::tls::{CertifiedKey, TestCa};

/// The push token receivers use.
pub const PUSH_TOKEN: &str = "push-token-7f3a9c";
/// The API token people and the UI use.
pub const API_TOKEN: &str = "api-token-2b81d4";
/// The scrape-only token Prometheus uses.
pub const METRICS_TOKEN: &str = "metrics-token-c05e11";

/// Files of one test's PKI.
pub struct Pki {
    dir: ScratchDir,
    /// The CA that signed the servers' certificates.
    pub ca: TestCa,
    pub ca_file: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// The CA whose client certificates the servers accept (mTLS).
    pub client_ca_file: PathBuf,
    pub client: CertifiedKey,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A CA nobody trusts, and a client certificate from it.
    pub stranger_ca_file: PathBuf,
    pub stranger_cert: PathBuf,
    pub stranger_key: PathBuf,
    /// A server certificate from `ca` that expired in 2021.
    pub expired_cert: PathBuf,
    pub expired_key: PathBuf,
    /// Token files: `push`, `api`, `metrics` (one token each).
    pub push_tokens: PathBuf,
    pub api_tokens: PathBuf,
    pub metrics_tokens: PathBuf,
}

impl Pki {
    /// Makes every certificate and token file in a new scratch directory.
    pub fn new() -> Pki {
        let dir = ScratchDir::new("pki");
        let path = dir.path().to_owned();
        let ca = TestCa::new("otel-parity test server CA");
        let clients = TestCa::new("otel-parity test client CA");
        let stranger = TestCa::new("stranger CA");
        let (server_cert, server_key) = ca.server("analyzer.test").write(&path, "server");
        let client = clients.client("receiver-prod");
        let (client_cert, client_key) = client.write(&path, "client");
        let (stranger_cert, stranger_key) = stranger.client("intruder").write(&path, "stranger");
        let (expired_cert, expired_key) = ca.expired_server("expired.test").write(&path, "expired");
        Pki {
            ca_file: ca.write(&path, "ca"),
            client_ca_file: clients.write(&path, "client-ca"),
            stranger_ca_file: stranger.write(&path, "stranger-ca"),
            ca,
            server_cert,
            server_key,
            client,
            client_cert,
            client_key,
            stranger_cert,
            stranger_key,
            expired_cert,
            expired_key,
            push_tokens: token_file(&path, "push-tokens", &[PUSH_TOKEN]),
            api_tokens: token_file(&path, "api-tokens", &[API_TOKEN]),
            metrics_tokens: token_file(&path, "metrics-tokens", &[METRICS_TOKEN]),
            dir,
        }
    }

    /// A token file `name` in this test's directory.
    pub fn token_file(&self, name: &str, tokens: &[&str]) -> PathBuf {
        token_file(self.dir.path(), name, tokens)
    }

    /// The analyzer flags of this PKI: TLS on both listeners with the server certificate,
    /// mTLS with the client CA when `mtls`, then `tokens` (`("--api-token-file", file)`, …).
    pub fn analyzer_flags(&self, mtls: bool, tokens: &[(&str, &Path)]) -> Vec<String> {
        let mut pairs = vec![
            ("--tls-cert-file", self.server_cert.as_path()),
            ("--tls-key-file", self.server_key.as_path()),
        ];
        if mtls {
            pairs.push(("--tls-client-ca-file", self.client_ca_file.as_path()));
        }
        pairs.extend_from_slice(tokens);
        flags(&pairs)
    }

    /// A client trusting the server CA, without a client certificate or token.
    pub fn https_client(&self) -> HttpClient {
        HttpClient::new().trusting(&self.ca.cert_pem())
    }

    /// A client trusting the server CA and presenting the trusted client certificate.
    pub fn mtls_client(&self) -> HttpClient {
        self.https_client()
            .with_client_cert(&self.client.cert_pem, &self.client.key_pem)
    }
}

/// Writes `tokens`, one per line, under a comment, as an operator would.
fn token_file(dir: &Path, name: &str, tokens: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let text = format!("# {name}, newest first\n{}\n", tokens.join("\n"));
    otel_parity_testkit::tls::write(&path, &text);
    path
}

/// Command-line flags with file values: `--flag FILE …`.
pub fn flags(pairs: &[(&str, &Path)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(flag, path)| [(*flag).to_owned(), arg(path)])
        .collect()
}

/// `path` as an argument.
pub fn arg(path: &Path) -> String {
    path.display().to_string()
}
