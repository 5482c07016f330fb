//! The analyzer's listeners as configured: TLS and limits for the push and
//! HTTP listeners, and the token sets each route group accepts (`push` for
//! pushes, `api` for the API, `api` or `metrics` for `/metrics`), every
//! outcome counted in `otel_parity_auth_requests_total`. Read at start-up,
//! so that an unusable certificate or token file stops the analyzer before
//! it serves.

use std::path::Path;
use std::sync::Arc;

use otel_parity_runtime::auth::{Guard, TokenSet};
use otel_parity_runtime::serve::{Protocol, ServeOptions};
use otel_parity_runtime::tls::{ALPN_GRPC, ALPN_HTTP, ServerTls};

use crate::config::{AnalyzerConfig, ListenerConfig};
use crate::error::Error;
use crate::exposition::AnalyzerMetrics;
use crate::web::http::HttpAuth;

/// How the two listeners serve and whom they let in.
pub struct Security {
    /// The push listener's TLS and limits.
    pub push: ServeOptions,
    /// Tokens a push must carry; `None`: any push.
    pub push_guard: Option<Guard>,
    /// The HTTP listener's TLS and limits.
    pub http: ServeOptions,
    /// Tokens for the API and `/metrics`.
    pub http_auth: HttpAuth,
}

impl Security {
    /// Reads the TLS and token files of `config`.
    pub fn new(config: &AnalyzerConfig, metrics: &Arc<AnalyzerMetrics>) -> Result<Self, Error> {
        let auth = &config.auth;
        let push_set = token_set(auth.push_token_file.as_deref())?;
        let api_set = token_set(auth.api_token_file.as_deref())?;
        let metrics_set = token_set(auth.metrics_token_file.as_deref())?;
        let guard = |listener: &'static str, sets: Vec<Arc<TokenSet>>| {
            let counted = Arc::clone(metrics);
            (!sets.is_empty()).then(|| {
                counted.declare_auth_listener(listener);
                Guard::new(sets).observed(Arc::new(move |outcome| {
                    counted.record_auth(listener, outcome)
                }))
            })
        };
        let scrape_sets = api_set.iter().chain(&metrics_set).cloned().collect();
        Ok(Security {
            push: options("analyzer push", Protocol::Grpc, &config.push)?,
            push_guard: guard("push", push_set.into_iter().collect()),
            http: options("analyzer HTTP", Protocol::Http, &config.http)?,
            http_auth: HttpAuth {
                api: guard("api", api_set.into_iter().collect()),
                metrics: guard("metrics", scrape_sets),
            },
        })
    }
}

fn token_set(path: Option<&Path>) -> Result<Option<Arc<TokenSet>>, Error> {
    let set = path.map(TokenSet::from_file).transpose()?;
    Ok(set.map(Arc::new))
}

fn options(
    what: &'static str,
    protocol: Protocol,
    listener: &ListenerConfig,
) -> Result<ServeOptions, Error> {
    let alpn = match protocol {
        Protocol::Grpc => ALPN_GRPC,
        Protocol::Http => ALPN_HTTP,
    };
    let tls = match &listener.tls {
        Some(settings) => Some(Arc::new(ServerTls::new(settings, alpn)?)),
        None => None,
    };
    Ok(ServeOptions {
        what,
        protocol,
        tls,
        limits: listener.connections,
    })
}

#[cfg(test)]
mod tests;
