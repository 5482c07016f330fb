//! The security flags, applied over the configs: `--tls-*` on a command's
//! listeners, the analyzer's token files, the receiver's OTLP token and its
//! way of reaching an `https://` analyzer. A flag replaces the config key it
//! names and leaves the section's other keys as they are.

use otel_parity_analyzer::config::{AnalyzerConfig, ListenerConfig};
use otel_parity_receiver::config::{PushConfig, ReceiverConfig};
use otel_parity_runtime::auth::TokenAuthSettings;
use otel_parity_runtime::tls::TlsServerSettings;

use crate::cli::{AnalyzerTokenArgs, ReceiveArgs, TlsArgs};

impl TlsArgs {
    /// `tls` with the flags' files; unchanged without `--tls-cert-file`.
    fn apply(&self, tls: &mut Option<TlsServerSettings>) {
        let (Some(cert), Some(key)) = (&self.tls_cert_file, &self.tls_key_file) else {
            return;
        };
        let settings = tls.get_or_insert_with(|| TlsServerSettings::new(cert.clone(), key.clone()));
        settings.cert_file = cert.clone();
        settings.key_file = key.clone();
        if let Some(ca) = &self.tls_client_ca_file {
            settings.client_ca_file = Some(ca.clone());
        }
    }

    /// TLS on both OTLP listeners.
    pub fn apply_to_receiver(&self, config: &mut ReceiverConfig) {
        self.apply(&mut config.otlp.protocols.grpc.tls);
        self.apply(&mut config.otlp.protocols.http.tls);
    }

    /// TLS on the analyzer's listeners: HTTP, and push unless `serve`/`demo`
    /// keep it as their own receiver's loopback link.
    pub fn apply_to_analyzer(&self, config: &mut AnalyzerConfig, push_too: bool) {
        let listeners: Vec<&mut ListenerConfig> = if push_too {
            vec![&mut config.http, &mut config.push]
        } else {
            vec![&mut config.http]
        };
        for listener in listeners {
            self.apply(&mut listener.tls);
        }
    }
}

impl AnalyzerTokenArgs {
    /// The token files over `config.auth`.
    pub fn apply(&self, config: &mut AnalyzerConfig) {
        let auth = &mut config.auth;
        for (flag, key) in [
            (&self.push_token_file, &mut auth.push_token_file),
            (&self.api_token_file, &mut auth.api_token_file),
            (&self.metrics_token_file, &mut auth.metrics_token_file),
        ] {
            if let Some(path) = flag {
                *key = Some(path.clone());
            }
        }
    }
}

/// The receiver's security flags over its config.
pub fn apply_receive_flags(args: &ReceiveArgs, config: &mut ReceiverConfig) {
    args.tls.apply_to_receiver(config);
    if let Some(path) = &args.otlp_token_file {
        let auth = Some(TokenAuthSettings {
            token_file: path.clone(),
        });
        config.otlp.protocols.grpc.auth = auth.clone();
        config.otlp.protocols.http.auth = auth;
    }
    let push: &mut PushConfig = &mut config.push;
    for (flag, key) in [
        (&args.analyzer_ca_file, &mut push.tls.ca_file),
        (&args.analyzer_cert_file, &mut push.tls.cert_file),
        (&args.analyzer_key_file, &mut push.tls.key_file),
        (&args.analyzer_token_file, &mut push.bearer_token_file),
    ] {
        if let Some(path) = flag {
            *key = Some(path.clone());
        }
    }
}

/// `serve` and `demo`: TLS on the OTLP listeners (`serve` only: the demo
/// sends its own traffic to them) and the analyzer's HTTP listener, the
/// token files on the analyzer, and the push token for the built-in
/// receiver's pushes.
pub fn apply_all_in_one_flags(
    tls: &TlsArgs,
    tokens: &AnalyzerTokenArgs,
    receiver: &mut ReceiverConfig,
    analyzer: &mut AnalyzerConfig,
    otlp_tls: bool,
) {
    if otlp_tls {
        tls.apply_to_receiver(receiver);
    }
    tls.apply_to_analyzer(analyzer, false);
    tokens.apply(analyzer);
    if let Some(path) = &analyzer.auth.push_token_file {
        receiver.push.bearer_token_file = Some(path.clone());
    }
}
