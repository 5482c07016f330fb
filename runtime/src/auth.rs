//! Bearer tokens: sets read from files (one token per line, `#` comments;
//! rotation is "add the new one, remove the old one later"), read again when
//! the file changes, compared in constant time and never logged; a tower
//! layer that refuses requests without an accepted token in the protocol's
//! own terms; and the client's side, the token it sends.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Request, Response};
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::reload::Reloading;

/// How often token files are checked for changes.
pub const TOKEN_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// A listener's `auth:` section: the file of the tokens it accepts.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenAuthSettings {
    /// Accepted bearer tokens, one per line.
    pub token_file: PathBuf,
}

impl TokenAuthSettings {
    /// The guard of this section (the file read, an error naming it).
    pub fn guard(&self) -> Result<Guard, Error> {
        Ok(Guard::new(vec![Arc::new(TokenSet::from_file(
            &self.token_file,
        )?)]))
    }
}

/// SHA-256 of a token: what is kept and compared, so that comparisons take
/// the same time whatever the tokens' lengths.
type Digest = [u8; 32];

fn digest(token: &[u8]) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, token).as_ref());
    out
}

/// The tokens of a file: non-empty lines, trimmed, `#` lines left out.
fn read_tokens(path: &Path) -> Result<Vec<String>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::SecretFile {
        path: path.to_owned(),
        source,
    })?;
    let tokens: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if tokens.is_empty() {
        return Err(Error::TokenFile {
            path: path.to_owned(),
            message: "holds no token (one per line)",
        });
    }
    Ok(tokens)
}

/// One set of accepted tokens (`push`, `api`, `metrics`, an OTLP listener's).
#[derive(Debug)]
pub struct TokenSet {
    digests: Reloading<Vec<Digest>>,
}

impl TokenSet {
    /// Reads the token file (an error names it); it is checked for changes
    /// every [`TOKEN_RELOAD_INTERVAL`].
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let file = path.to_owned();
        let digests = Reloading::new(
            "token file",
            vec![path.to_owned()],
            Some(TOKEN_RELOAD_INTERVAL),
            move || {
                let tokens = read_tokens(&file)?;
                Ok(tokens.iter().map(|t| digest(t.as_bytes())).collect())
            },
        )?;
        Ok(TokenSet { digests })
    }

    /// Whether `token` is one of the set's, looking at every token of the
    /// set whatever the answer.
    pub fn accepts(&self, token: &[u8]) -> bool {
        let presented = digest(token);
        let digests = self.digests.current();
        let mut found = subtle::Choice::from(0);
        for known in digests.iter() {
            found |= known.ct_eq(&presented);
        }
        found.into()
    }
}

/// What became of a request's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthOutcome {
    /// A token of an accepted set.
    Accepted,
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    Malformed,
    /// A bearer token that no accepted set holds.
    Invalid,
}

impl AuthOutcome {
    /// The label value in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthOutcome::Accepted => "accepted",
            AuthOutcome::Missing => "missing",
            AuthOutcome::Malformed => "malformed",
            AuthOutcome::Invalid => "invalid",
        }
    }

    /// What the client is told.
    pub fn message(self) -> &'static str {
        match self {
            AuthOutcome::Accepted => "authenticated",
            AuthOutcome::Missing => "a bearer token is required (Authorization: Bearer <token>)",
            AuthOutcome::Malformed => "the Authorization header is not a bearer token",
            AuthOutcome::Invalid => "the bearer token is not accepted here",
        }
    }

    /// `WWW-Authenticate` for an HTTP 401 (RFC 6750).
    pub fn www_authenticate(self) -> HeaderValue {
        match self {
            AuthOutcome::Missing => HeaderValue::from_static("Bearer realm=\"otel-parity\""),
            _ => HeaderValue::from_static("Bearer realm=\"otel-parity\", error=\"invalid_token\""),
        }
    }
}

/// Told of every outcome, for the metrics.
pub type AuthObserver = Arc<dyn Fn(AuthOutcome) + Send + Sync>;

/// The token sets a listener (or a group of routes) accepts: any of them.
#[derive(Clone)]
pub struct Guard {
    sets: Vec<Arc<TokenSet>>,
    observer: Option<AuthObserver>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("sets", &self.sets.len())
            .finish()
    }
}

impl Guard {
    /// A guard accepting a token of any of `sets`.
    pub fn new(sets: Vec<Arc<TokenSet>>) -> Self {
        Guard {
            sets,
            observer: None,
        }
    }

    /// Tells `observer` of every outcome.
    pub fn observed(mut self, observer: AuthObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Judges a request's headers.
    pub fn check(&self, headers: &HeaderMap) -> AuthOutcome {
        let outcome = match bearer_token(headers) {
            Ok(token) if self.sets.iter().any(|set| set.accepts(token)) => AuthOutcome::Accepted,
            Ok(_) => AuthOutcome::Invalid,
            Err(outcome) => outcome,
        };
        if let Some(observer) = &self.observer {
            observer(outcome);
        }
        outcome
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case).
fn bearer_token(headers: &HeaderMap) -> Result<&[u8], AuthOutcome> {
    let value = headers.get(AUTHORIZATION).ok_or(AuthOutcome::Missing)?;
    let bytes = value.as_bytes();
    let (scheme, token) = match bytes.iter().position(|b| *b == b' ') {
        Some(space) => (&bytes[..space], bytes[space + 1..].trim_ascii()),
        None => return Err(AuthOutcome::Malformed),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") || token.is_empty() {
        return Err(AuthOutcome::Malformed);
    }
    Ok(token)
}

/// Builds the refusal a protocol gives (gRPC UNAUTHENTICATED, HTTP 401).
pub type Refusal<B> = fn(AuthOutcome, &HeaderMap) -> Response<B>;

/// A tower layer that lets through requests with an accepted token (the
/// `Authorization` header removed, so nothing after it can log it) and
/// answers the rest with `refuse`. Without a guard it lets everything
/// through.
pub struct RequireBearer<B> {
    guard: Option<Arc<Guard>>,
    refuse: Refusal<B>,
}

impl<B> Clone for RequireBearer<B> {
    fn clone(&self) -> Self {
        RequireBearer {
            guard: self.guard.clone(),
            refuse: self.refuse,
        }
    }
}

impl<B> RequireBearer<B> {
    /// Requires a token of `guard` (`None`: no tokens configured).
    pub fn new(guard: Option<Guard>, refuse: Refusal<B>) -> Self {
        RequireBearer {
            guard: guard.map(Arc::new),
            refuse,
        }
    }
}

impl<S, B> tower::Layer<S> for RequireBearer<B> {
    type Service = RequireBearerService<S, B>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireBearerService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`RequireBearer`] wraps around another.
pub struct RequireBearerService<S, B> {
    inner: S,
    layer: RequireBearer<B>,
}

impl<S: Clone, B> Clone for RequireBearerService<S, B> {
    fn clone(&self) -> Self {
        RequireBearerService {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S, ReqBody, B> tower::Service<Request<ReqBody>> for RequireBearerService<S, B>
where
    S: tower::Service<Request<ReqBody>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if let Some(guard) = &self.layer.guard {
            match guard.check(request.headers()) {
                AuthOutcome::Accepted => {
                    request.headers_mut().remove(AUTHORIZATION);
                }
                refused => {
                    tracing::debug!(
                        outcome = refused.as_str(),
                        "request refused: no accepted bearer token"
                    );
                    let response = (self.layer.refuse)(refused, request.headers());
                    return Box::pin(async move { Ok(response) });
                }
            }
        }
        Box::pin(self.inner.call(request))
    }
}

/// The token a client sends: the first token of its file, read again when
/// the file changes.
#[derive(Debug)]
pub struct ClientToken {
    header: Reloading<HeaderValue>,
}

impl ClientToken {
    /// Reads the token file (an error names it).
    pub fn from_file(path: PathBuf) -> Result<Self, Error> {
        let file = path.clone();
        let header =
            Reloading::new(
                "token file",
                vec![path],
                Some(TOKEN_RELOAD_INTERVAL),
                move || {
                    let tokens = read_tokens(&file)?;
                    let mut value = HeaderValue::try_from(format!("Bearer {}", tokens[0]))
                        .map_err(|_| Error::TokenFile {
                            path: file.clone(),
                            message: "the token holds characters a header cannot carry",
                        })?;
                    value.set_sensitive(true);
                    Ok(value)
                },
            )?;
        Ok(ClientToken { header })
    }

    /// `Bearer <token>`, marked sensitive (never printed by `Debug`).
    pub fn authorization(&self) -> HeaderValue {
        (*self.header.current()).clone()
    }
}

#[cfg(test)]
mod tests;
