use otel_parity_testkit::tls::TestCa;

use otel_parity_testkit::e2e::ScratchDir;

use super::*;

fn version(yaml: &str) -> Result<TlsVersion, String> {
    serde_yaml_ng::from_str::<TlsVersion>(yaml).map_err(|e| e.to_string())
}

#[test]
fn min_version_reads_as_the_collector_writes_it() {
    assert_eq!(version("\"1.2\"").unwrap(), TlsVersion::Tls12);
    assert_eq!(version("\"1.3\"").unwrap(), TlsVersion::Tls13);
    assert_eq!(version("1.3").unwrap(), TlsVersion::Tls13);
    assert!(
        version("\"1.1\"")
            .unwrap_err()
            .contains("TLS 1.1 is not supported")
    );
    assert!(
        version("\"2.0\"")
            .unwrap_err()
            .contains("unknown TLS version \"2.0\"")
    );
}

#[test]
fn settings_default_to_tls_1_2_a_reload_every_5s_and_a_10s_handshake() {
    let settings: TlsServerSettings =
        serde_yaml_ng::from_str("cert_file: a.crt\nkey_file: a.key\n").unwrap();
    assert_eq!(
        settings,
        TlsServerSettings::new("a.crt".into(), "a.key".into())
    );
    assert_eq!(settings.reload_interval, Duration::from_secs(5));
    assert_eq!(settings.handshake_timeout, Duration::from_secs(10));
    let error =
        serde_yaml_ng::from_str::<TlsServerSettings>("cert_file: a\nkey_file: b\nca_file: c\n")
            .unwrap_err()
            .to_string();
    assert!(error.contains("unknown field `ca_file`"), "{error}");
}

#[test]
fn unusable_files_are_named() {
    let dir = ScratchDir::new("runtime-tls-files");
    let ca = TestCa::new("test CA");
    let (cert, key) = ca.server("server").write(&dir, "server");
    let (_, other_key) = ca.server("other").write(&dir, "other");
    let missing = dir.join("missing.crt");
    let message =
        |settings: &TlsServerSettings| ServerTls::new(settings, ALPN_HTTP).unwrap_err().to_string();

    let error = message(&TlsServerSettings::new(missing.clone(), key.clone()));
    assert!(
        error.starts_with(&format!("cannot read {}: ", missing.display())),
        "{error}"
    );
    let error = message(&TlsServerSettings::new(key.clone(), key.clone()));
    assert_eq!(
        error,
        format!("TLS {}: no CERTIFICATE in the file", key.display())
    );
    let error = message(&TlsServerSettings::new(cert.clone(), cert.clone()));
    assert!(
        error.starts_with(&format!("TLS {}: no private key", cert.display())),
        "{error}"
    );
    let error = message(&TlsServerSettings::new(cert.clone(), other_key.clone()));
    assert!(
        error.starts_with(&format!(
            "TLS {}: does not fit {}",
            cert.display(),
            other_key.display()
        )),
        "{error}"
    );
    let mut with_bad_ca = TlsServerSettings::new(cert.clone(), key.clone());
    with_bad_ca.client_ca_file = Some(key.clone());
    assert_eq!(
        message(&with_bad_ca),
        format!("TLS {}: no CERTIFICATE in the file", key.display())
    );
    assert!(ServerTls::new(&TlsServerSettings::new(cert, key), ALPN_GRPC).is_ok());
}
