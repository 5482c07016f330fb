//! Certificates for TLS tests, made in the test (rcgen): certificate authorities, server
//! certificates for loopback names, client certificates for mTLS, and expired ones, as PEM
//! text or files.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, date_time_ymd,
};

/// The names every test server certificate is valid for.
pub const LOOPBACK_NAMES: &[&str] = &["localhost", "127.0.0.1"];

/// A certificate authority that signs test certificates.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its private key, as PEM.
#[derive(Debug, Clone)]
pub struct CertifiedKey {
    /// The certificate (PEM), leaf only.
    pub cert_pem: String,
    /// Its private key (PEM, PKCS#8).
    pub key_pem: String,
    /// The certificate (DER), to tell which certificate a server presented.
    pub cert_der: Vec<u8>,
}

impl TestCa {
    /// A new CA named `name` (its common name).
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new())
            .unwrap_or_else(|e| panic!("CA params: {e}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("CA key: {e}"));
        let issuer =
            CertifiedIssuer::self_signed(params, key).unwrap_or_else(|e| panic!("CA cert: {e}"));
        TestCa { issuer }
    }

    /// The CA's certificate (PEM), what clients and servers trust.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// Writes the CA certificate to `dir/<name>.pem` and returns the path.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(format!("{name}.pem"));
        write(&path, &self.cert_pem());
        path
    }

    /// A server certificate for [`LOOPBACK_NAMES`], named `common_name`, valid now.
    pub fn server(&self, common_name: &str) -> CertifiedKey {
        self.leaf(
            common_name,
            LOOPBACK_NAMES,
            ExtendedKeyUsagePurpose::ServerAuth,
            false,
        )
    }

    /// A server certificate for [`LOOPBACK_NAMES`] that expired in 2021.
    pub fn expired_server(&self, common_name: &str) -> CertifiedKey {
        self.leaf(
            common_name,
            LOOPBACK_NAMES,
            ExtendedKeyUsagePurpose::ServerAuth,
            true,
        )
    }

    /// A client certificate named `common_name`, for mTLS.
    pub fn client(&self, common_name: &str) -> CertifiedKey {
        self.leaf(common_name, &[], ExtendedKeyUsagePurpose::ClientAuth, false)
    }

    fn leaf(
        &self,
        common_name: &str,
        names: &[&str],
        usage: ExtendedKeyUsagePurpose,
        expired: bool,
    ) -> CertifiedKey {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params =
            CertificateParams::new(names).unwrap_or_else(|e| panic!("leaf params: {e}"));
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("leaf key: {e}"));
        let cert = params
            .signed_by(&key, &self.issuer)
            .unwrap_or_else(|e| panic!("leaf cert: {e}"));
        CertifiedKey {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
        }
    }
}

impl CertifiedKey {
    /// Writes `dir/<name>.crt` and `dir/<name>.key`; returns (certificate, key) paths.
    pub fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        write(&cert, &self.cert_pem);
        write(&key, &self.key_pem);
        (cert, key)
    }
}

/// Replaces `path` atomically (a temporary file renamed over it), as a rotation would.
pub fn write(path: &Path, text: &str) {
    let temporary = path.with_extension("tmp-write");
    fs::write(&temporary, text)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", temporary.display()));
    fs::rename(&temporary, path)
        .unwrap_or_else(|e| panic!("cannot rename to {}: {e}", path.display()));
}
