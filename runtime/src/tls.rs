//! TLS for every listener, with rustls (no OpenSSL), configured like the
//! Collector's `configtls`: `cert_file`, `key_file`, `client_ca_file` (mTLS:
//! clients without a certificate from that CA are refused), `min_version`,
//! `reload_interval` (the files are checked that often and read again when
//! they changed, so certificates rotate without a restart), plus the
//! handshake timeout.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use serde::{Deserialize, Deserializer};
use tokio_rustls::TlsAcceptor;

use crate::error::Error;
use crate::reload::Reloading;

/// ALPN for a gRPC listener: HTTP/2 only (gRPC clients insist on it).
pub const ALPN_GRPC: &[&[u8]] = &[b"h2"];
/// ALPN for an HTTP listener: HTTP/2 or HTTP/1.1.
pub const ALPN_HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];

/// One listener's `tls:` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsServerSettings {
    /// The server's certificate chain (PEM), leaf first.
    pub cert_file: PathBuf,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// CA certificates (PEM) that clients must present a certificate from;
    /// unset: no client certificates asked for.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
    /// The oldest TLS version accepted.
    #[serde(default)]
    pub min_version: TlsVersion,
    /// How often the files are checked for changes; `0s`: never.
    #[serde(
        default = "default_reload_interval",
        deserialize_with = "crate::serde_duration::deserialize"
    )]
    pub reload_interval: Duration,
    /// How long a client may take to complete the handshake.
    #[serde(
        default = "default_handshake_timeout",
        deserialize_with = "crate::serde_duration::deserialize"
    )]
    pub handshake_timeout: Duration,
}

fn default_reload_interval() -> Duration {
    Duration::from_secs(5)
}

fn default_handshake_timeout() -> Duration {
    Duration::from_secs(10)
}

impl TlsServerSettings {
    /// Settings for a certificate and key with every other key at its default.
    pub fn new(cert_file: PathBuf, key_file: PathBuf) -> Self {
        TlsServerSettings {
            cert_file,
            key_file,
            client_ca_file: None,
            min_version: TlsVersion::default(),
            reload_interval: default_reload_interval(),
            handshake_timeout: default_handshake_timeout(),
        }
    }
}

/// A TLS protocol version rustls speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVersion {
    /// TLS 1.2 (the Collector's default minimum).
    #[default]
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl TlsVersion {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "1.2" => Ok(TlsVersion::Tls12),
            "1.3" => Ok(TlsVersion::Tls13),
            "1.0" | "1.1" => Err(format!(
                "TLS {text} is not supported: use \"1.2\" or \"1.3\""
            )),
            other => Err(format!(
                "unknown TLS version {other:?}: use \"1.2\" or \"1.3\""
            )),
        }
    }

    fn versions(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        static BOTH: &[&rustls::SupportedProtocolVersion] =
            &[&rustls::version::TLS13, &rustls::version::TLS12];
        static ONLY_13: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
        match self {
            TlsVersion::Tls12 => BOTH,
            TlsVersion::Tls13 => ONLY_13,
        }
    }
}

/// `min_version: "1.3"` as the Collector writes it; an unquoted `1.3` (a
/// YAML number) is read the same way.
impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Text(String),
            Number(f64),
        }
        let text = match Written::deserialize(deserializer)? {
            Written::Text(text) => text,
            Written::Number(number) => format!("{number:.1}"),
        };
        TlsVersion::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The crypto every TLS config here uses (ring), named rather than taken
/// from a process-wide default.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A listener's TLS: the rustls config as of the files' latest valid
/// contents, and the handshake timeout.
#[derive(Debug)]
pub struct ServerTls {
    config: Reloading<rustls::ServerConfig>,
    handshake_timeout: Duration,
}

impl ServerTls {
    /// Reads the files of `settings` (an error names the file) and keeps
    /// them under watch; `alpn` is [`ALPN_GRPC`] or [`ALPN_HTTP`].
    pub fn new(
        settings: &TlsServerSettings,
        alpn: &'static [&'static [u8]],
    ) -> Result<Self, Error> {
        let mut files = vec![settings.cert_file.clone(), settings.key_file.clone()];
        files.extend(settings.client_ca_file.clone());
        let for_load = settings.clone();
        let config = Reloading::new(
            "TLS certificate",
            files,
            Some(settings.reload_interval),
            move || server_config(&for_load, alpn),
        )?;
        Ok(ServerTls {
            config,
            handshake_timeout: settings.handshake_timeout,
        })
    }

    /// An acceptor with the current certificate: each new handshake gets the
    /// latest, connections already up keep theirs.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.current())
    }

    /// How long a client may take to complete the handshake.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }
}

fn server_config(
    settings: &TlsServerSettings,
    alpn: &[&[u8]],
) -> Result<rustls::ServerConfig, Error> {
    let certs = read_certificates(&settings.cert_file)?;
    let key = read_private_key(&settings.key_file)?;
    let provider = crypto_provider();
    let tls_error = |path: &Path, message: String| Error::Tls {
        path: path.to_owned(),
        message,
    };
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(settings.min_version.versions())
        .map_err(|e| tls_error(&settings.cert_file, e.to_string()))?;
    let builder = match &settings.client_ca_file {
        Some(ca_file) => {
            let roots = read_roots(ca_file)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| tls_error(ca_file, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        tls_error(
            &settings.cert_file,
            format!("does not fit {}: {e}", settings.key_file.display()),
        )
    })?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::SecretFile {
        path: path.to_owned(),
        source,
    })
}

/// Every certificate of PEM text (certificates that do not parse are left out).
pub fn read_certificates_from_pem(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// Every certificate of a PEM file; an error when there is none.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let pem = read_file(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls {
            path: path.to_owned(),
            message: format!("not PEM certificates: {e}"),
        })?;
    if certs.is_empty() {
        return Err(Error::Tls {
            path: path.to_owned(),
            message: "no CERTIFICATE in the file".into(),
        });
    }
    Ok(certs)
}

/// The private key of a PEM file.
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    let pem = read_file(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| Error::Tls {
        path: path.to_owned(),
        message: format!("no private key: {e}"),
    })
}

/// The CA certificates of a PEM file as trust roots.
pub fn read_roots(path: &Path) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    for cert in read_certificates(path)? {
        roots.add(cert).map_err(|e| Error::Tls {
            path: path.to_owned(),
            message: format!("not a CA certificate: {e}"),
        })?;
    }
    Ok(roots)
}

#[cfg(test)]
mod tests;
