//! TLS for the MQTT connection, as AWS IoT Core wants it: the server checked
//! against a CA (Amazon Root CA 1 for AWS), an X.509 client certificate and
//! its private key, and optionally ALPN (`x-amzn-mqtt-ca` to use port 443).
//! rustls with the ring provider, built here so that no process-wide crypto
//! provider has to be installed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

/// The ALPN protocol AWS IoT Core needs for MQTT with a client certificate on port 443.
pub const AWS_IOT_ALPN: &str = "x-amzn-mqtt-ca";

/// TLS settings (PEM files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    /// The CA certificate(s) that sign the broker's certificate.
    pub ca_file: PathBuf,
    /// The device's certificate chain and private key (PKCS#8, PKCS#1 or SEC1),
    /// for brokers that authenticate clients by certificate (AWS IoT does).
    pub client_auth: Option<(PathBuf, PathBuf)>,
    /// ALPN protocols to offer, e.g. [`AWS_IOT_ALPN`]; empty for none.
    pub alpn: Vec<String>,
}

/// Why the TLS settings cannot be used.
#[derive(Debug)]
pub struct TlsError(String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

fn pem_error(path: &Path, what: &str, e: impl fmt::Display) -> TlsError {
    TlsError(format!("{}: {what}: {e}", path.display()))
}

impl TlsConfig {
    /// The rustls client configuration: reads and checks every file.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let mut roots = RootCertStore::empty();
        let cas = CertificateDer::pem_file_iter(&self.ca_file)
            .map_err(|e| pem_error(&self.ca_file, "cannot read the CA certificates", e))?;
        for ca in cas {
            let ca = ca.map_err(|e| pem_error(&self.ca_file, "bad CA certificate", e))?;
            roots
                .add(ca)
                .map_err(|e| pem_error(&self.ca_file, "unusable CA certificate", e))?;
        }
        if roots.is_empty() {
            return Err(TlsError(format!(
                "{}: no CA certificate in the file",
                self.ca_file.display()
            )));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(format!("TLS protocol versions: {e}")))?
            .with_root_certificates(roots);
        let mut config = match &self.client_auth {
            None => builder.with_no_client_auth(),
            Some((cert_file, key_file)) => {
                let chain = CertificateDer::pem_file_iter(cert_file)
                    .map_err(|e| pem_error(cert_file, "cannot read the certificate", e))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| pem_error(cert_file, "bad certificate", e))?;
                if chain.is_empty() {
                    return Err(TlsError(format!(
                        "{}: no certificate in the file",
                        cert_file.display()
                    )));
                }
                let key = PrivateKeyDer::from_pem_file(key_file)
                    .map_err(|e| pem_error(key_file, "cannot read the private key", e))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| pem_error(key_file, "the key does not fit the certificate", e))?
            }
        };
        config.alpn_protocols = self.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_empty_files_are_reported_with_their_path() {
        let dir = std::env::temp_dir().join(format!("ota-tls-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let missing = TlsConfig {
            ca_file: dir.join("nope.pem"),
            client_auth: None,
            alpn: vec![],
        };
        let e = missing.client_config().unwrap_err().to_string();
        assert!(e.contains("nope.pem"), "{e}");
        let no_ca = TlsConfig {
            ca_file: empty.clone(),
            client_auth: None,
            alpn: vec![],
        };
        let e = no_ca.client_config().unwrap_err().to_string();
        assert!(e.contains("no CA certificate"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
