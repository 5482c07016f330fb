//! An HTTP(S) client for the analyzer's API as the tests talk to it: plaintext, or TLS trusting
//! a test CA (optionally with a client certificate), with or without a bearer token.

use std::time::Duration;

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// How the tests reach an HTTP listener.
#[derive(Debug, Clone, Default)]
pub struct HttpClient {
    ca_pem: Option<String>,
    client: Option<(String, String)>,
    token: Option<String>,
}

/// One answer: status, headers (lower-case names) and body.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl HttpAnswer {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn certificates(pem: &str) -> Vec<Certificate<'static>> {
    ureq::tls::parse_pem(pem.as_bytes())
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect()
}

impl HttpClient {
    /// A plaintext client without a token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts (only) the CA certificate `ca_pem` for https:// URLs.
    pub fn trusting(mut self, ca_pem: &str) -> Self {
        self.ca_pem = Some(ca_pem.to_owned());
        self
    }

    /// Presents this client certificate (PEM) and key (PEM) in TLS handshakes.
    pub fn with_client_cert(mut self, cert_pem: &str, key_pem: &str) -> Self {
        self.client = Some((cert_pem.to_owned(), key_pem.to_owned()));
        self
    }

    /// Sends `Authorization: Bearer <token>`.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    fn agent(&self) -> Result<ureq::Agent, String> {
        let mut tls = TlsConfig::builder();
        if let Some(pem) = &self.ca_pem {
            tls = tls.root_certs(RootCerts::new_with_certs(&certificates(pem)));
        }
        if let Some((cert, key)) = &self.client {
            let key =
                PrivateKey::from_pem(key.as_bytes()).map_err(|e| format!("client key: {e}"))?;
            tls = tls.client_cert(Some(ClientCert::new_with_certs(&certificates(cert), key)));
        }
        Ok(ureq::Agent::config_builder()
            .tls_config(tls.build())
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build()
            .into())
    }

    /// GET `url`: status and body.
    pub fn get(&self, url: &str) -> Result<(u16, String), String> {
        let answer = self.request(url, &[])?;
        Ok((answer.status, answer.body))
    }

    /// GET `url` with extra `headers`: the whole answer, or why there was none.
    pub fn request(&self, url: &str, headers: &[(&str, &str)]) -> Result<HttpAnswer, String> {
        let mut request = self.agent()?.get(url);
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.call().map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("GET {url}: reading the body: {e}"))?;
        Ok(HttpAnswer {
            status,
            headers,
            body,
        })
    }
}
