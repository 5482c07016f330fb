//! What the shared plumbing can fail at, in its users' terms: a config file
//! that cannot be read or is invalid, an address that does not parse or
//! cannot be listened on, TLS or token files that cannot be used, a server
//! that stopped with an error.

use std::net::SocketAddr;
use std::path::PathBuf;

/// A server's or command's plumbing failed; every variant names the file,
/// address or server concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config file (receiver, analyzer, all-in-one) could not be read.
    #[error("cannot read config file {path}: {source}")]
    ConfigRead {
        /// The config file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// A config document does not parse or does not fit its type.
    #[error("invalid config {origin}: {source}")]
    Config {
        /// The file (and section) the document came from.
        origin: String,
        /// What is wrong, naming the key.
        source: YamlError,
    },
    /// A config whose values its own checks refuse (a zero interval, …).
    #[error("invalid config {origin}: {message}")]
    ConfigValue {
        /// The file (and section) the document came from.
        origin: String,
        /// Which key is wrong and why.
        message: String,
    },
    /// An address that does not parse.
    #[error("invalid {what} address {value:?}: {source}")]
    Address {
        /// What the address is for ("OTLP/gRPC", "analyzer").
        what: &'static str,
        /// The address as given.
        value: String,
        /// Why it does not parse.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An address that cannot be listened on (in use, not local, …).
    #[error("cannot listen on {addr} for {what}: {source}")]
    Bind {
        /// What the listener is for.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// A certificate, key or token file that cannot be read.
    #[error("cannot read {path}: {source}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// TLS files that can be read but not used (no certificate in the PEM,
    /// a key that does not match, a CA that is not one).
    #[error("TLS {path}: {message}")]
    Tls {
        /// The file concerned (the certificate when the pair does not fit).
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A token file without a token in it, or with one a header cannot carry.
    #[error("token file {path}: {message}")]
    TokenFile {
        /// The token file.
        path: PathBuf,
        /// What is wrong with it.
        message: &'static str,
    },
    /// A server that stopped with an error (or whose task panicked).
    #[error("{what} server failed: {source}")]
    Serve {
        /// Which server.
        what: &'static str,
        /// Why it stopped.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// What is wrong with a YAML document: its syntax, an `${env:…}` reference,
/// or a key that does not fit the type it is read into.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// The text is not YAML.
    #[error("{0}")]
    Syntax(serde_yaml_ng::Error),
    /// An `${env:…}` reference without its closing brace.
    #[error("unterminated ${{env:…}} in {text:?}")]
    UnterminatedEnv {
        /// The string holding the reference.
        text: String,
    },
    /// The document as a whole has the wrong shape (a list instead of a
    /// mapping, …).
    #[error("{0}")]
    Document(serde_yaml_ng::Error),
    /// A key that is unknown, has the wrong type or a bad value.
    #[error("{path}: {source}")]
    Key {
        /// The key's path, as in `limits.max_services` or `rules[2].level`.
        path: String,
        /// What is wrong with it.
        source: serde_yaml_ng::Error,
    },
}
