//! TLS to the server through rustls, as libpq's `sslmode` asks: the certificate checked for
//! the host (`verify-full`), for a trusted root only (`verify-ca`), or not at all (`prefer`,
//! `require`: encryption against a passive listener, as libpq gives).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme,
};

use super::config::{SslMode, Target};

/// The rustls client configuration for `target`'s mode and roots.
///
/// # Errors
/// A sentence when the root certificate file cannot be read or holds no certificate, or the
/// system has no roots to check against.
pub fn client_config(target: &Target) -> Result<rustls::ClientConfig, String> {
    // ring, not aws-lc-rs: it builds without cmake on every machine we run on. What ring
    // lacks is post-quantum key exchange, which the distributions' PostgreSQL servers
    // (OpenSSL 3.0) do not offer to use anyway.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let checks_roots = match target.ssl {
        SslMode::VerifyFull | SslMode::VerifyCa => true,
        SslMode::Require => target.root_cert.is_some(),
        SslMode::Prefer | SslMode::Disable => false,
    };
    let roots = match checks_roots {
        true => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots(target)?), provider.clone())
                .build()
                .map_err(|e| format!("TLS: {e}"))?,
        ),
        false => None,
    };
    let verifier = Arc::new(Checks {
        roots,
        any_name: target.ssl != SslMode::VerifyFull,
        algorithms: provider.signature_verification_algorithms,
    });
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// `sslrootcert`'s certificates, or the system's.
fn roots(target: &Target) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match &target.root_cert {
        Some(file) => {
            let shown = file.display();
            for cert in CertificateDer::pem_file_iter(file)
                .map_err(|e| format!("cannot read the root certificate {shown}: {e}"))?
            {
                let cert =
                    cert.map_err(|e| format!("the root certificate {shown} is not PEM: {e}"))?;
                store
                    .add(cert)
                    .map_err(|e| format!("the root certificate {shown}: {e}"))?;
            }
            if store.is_empty() {
                return Err(format!("the root certificate {shown} holds no certificate"));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(
                    "this system has no root certificates to check the server's against: give one with sslrootcert or PGSSLROOTCERT"
                        .into(),
                );
            }
        }
    }
    Ok(store)
}

/// What is checked of the server's certificate: with `roots`, that one of them signed it (and,
/// unless `any_name`, for the host connected to: `verify-full`); without, nothing (`prefer`,
/// `require` without a root, as libpq). The handshake's signatures are checked either way.
#[derive(Debug)]
struct Checks {
    roots: Option<Arc<WebPkiServerVerifier>>,
    any_name: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Checks {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        match roots.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.any_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
