//! TLS on the axon's port, beside plain HTTP (feature `tls`).
//!
//! A connection whose first byte opens a TLS handshake record is served over TLS with
//! [`TlsConfig`]'s certificate; any other is served as plain HTTP, as bittensor's Python
//! Dendrite (which speaks only `http://`) expects. The chain holds each neuron's TLS public
//! key (`NeuronCertificates`, written by `serve_axon_tls`): [`TlsKey`] is that key as
//! published, one algorithm byte then the key.
//!
//! | algorithm byte | key | as published |
//! |---|---|---|
//! | 1 | ed25519 | the 32-byte public key |
//! | 2 | ECDSA P-256 | the 33-byte compressed point (SEC 1) |
//!
//! Neither subtensor nor bittensor defines the byte (subtensor stores it, bittensor
//! prepends it); 1 for ed25519 is what the pylon client uses. RSA keys and other curves are
//! served but cannot be published: the chain holds at most 64 key bytes.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The certificate and key the axon serves TLS with.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("axon-tls-doc-{}", std::process::id()));
/// let tls = axon::tls::TlsConfig::generate_in(&dir).unwrap();
/// assert_eq!(tls.public_key().algorithm(), Some(1)); // ed25519
/// // The same key again from the same directory.
/// let again = axon::tls::TlsConfig::generate_in(&dir).unwrap();
/// assert_eq!(again.public_key(), tls.public_key());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    server: Arc<rustls::ServerConfig>,
    key: TlsKey,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("public_key", &self.key)
            .finish_non_exhaustive()
    }
}

/// The server's TLS public key, as the chain would hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsKey {
    /// An ed25519 key (algorithm byte 1).
    Ed25519([u8; 32]),
    /// An ECDSA P-256 key, its point compressed (algorithm byte 2).
    P256([u8; 33]),
    /// A key the chain cannot hold (RSA, another curve): served, never published.
    Unpublishable(&'static str),
}

impl TlsKey {
    /// The algorithm byte published before the key; `None` for a key that cannot be
    /// published.
    pub fn algorithm(&self) -> Option<u8> {
        match self {
            TlsKey::Ed25519(_) => Some(1),
            TlsKey::P256(_) => Some(2),
            TlsKey::Unpublishable(_) => None,
        }
    }

    /// The key's bytes as published (without the algorithm byte).
    pub fn key_bytes(&self) -> Option<&[u8]> {
        match self {
            TlsKey::Ed25519(k) => Some(k),
            TlsKey::P256(k) => Some(k),
            TlsKey::Unpublishable(_) => None,
        }
    }

    /// What `serve_axon_tls` takes as its `certificate`: the algorithm byte, then the key.
    ///
    /// ```
    /// let key = axon::tls::TlsKey::Ed25519([7; 32]);
    /// assert_eq!(key.certificate().unwrap()[..2], [1, 7]);
    /// assert_eq!(key.certificate().unwrap().len(), 33);
    /// ```
    pub fn certificate(&self) -> Option<Vec<u8>> {
        let mut out = vec![self.algorithm()?];
        out.extend_from_slice(self.key_bytes()?);
        Some(out)
    }

    /// A rustls client configuration that accepts a server only when its certificate holds
    /// this key and the server proves it holds the private key (the handshake signature):
    /// no CA and no name are checked, so a self-signed certificate is fine and one of any
    /// other key fails the handshake. It offers HTTP/1.1 by ALPN. A key that cannot be
    /// published accepts no server. The [`Dendrite`](crate::dendrite::Dendrite) pins the
    /// keys the chain holds with it; a client of your own (hyper, reqwest) can too.
    ///
    /// ```
    /// let key = axon::tls::TlsKey::Ed25519([7; 32]);
    /// let config = key.client_config();
    /// assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    /// ```
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(pinned::Pinned {
            key: self.clone(),
            provider: provider.clone(),
        });
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            // ring's provider has every cipher suite of TLS 1.2 and 1.3, so the safe
            // default versions are always available.
            .with_safe_default_protocol_versions()
            .expect("ring's provider supports TLS 1.2 and 1.3")
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// [`certificate`](Self::certificate), or why this key cannot be published.
    pub(crate) fn published(&self) -> Result<Vec<u8>, &'static str> {
        match self {
            TlsKey::Unpublishable(why) => Err(why),
            key => key.certificate().ok_or("a key with no published form"),
        }
    }

    /// The key a chain record holds (`algorithm`, `public_key`), if this project knows the
    /// algorithm and the key has its length.
    pub fn from_chain(algorithm: u8, public_key: &[u8]) -> Option<TlsKey> {
        match algorithm {
            1 => public_key.try_into().ok().map(TlsKey::Ed25519),
            2 => public_key
                .try_into()
                .ok()
                .filter(|k: &[u8; 33]| matches!(k[0], 2 | 3))
                .map(TlsKey::P256),
            _ => None,
        }
    }

    /// The key of a DER certificate (what a client's TLS stack gives as the server's);
    /// `None` when it does not parse.
    ///
    /// ```
    /// assert_eq!(axon::tls::TlsKey::of_certificate(b"not a certificate"), None);
    /// ```
    pub fn of_certificate(der: &[u8]) -> Option<TlsKey> {
        let der = CertificateDer::from(der);
        let certificate = webpki::EndEntityCert::try_from(&der).ok()?;
        Some(TlsKey::from_spki(&certificate.subject_public_key_info()))
    }

    /// The key of a DER SubjectPublicKeyInfo (a certificate's, or a signing key's).
    pub(crate) fn from_spki(spki: &[u8]) -> TlsKey {
        const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
        const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
        const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
        let Some((algorithm, parameters, key)) = spki_parts(spki) else {
            return TlsKey::Unpublishable("an unreadable key");
        };
        match (algorithm, parameters) {
            (ED25519, _) => key
                .try_into()
                .map(TlsKey::Ed25519)
                .unwrap_or(TlsKey::Unpublishable("a malformed ed25519 key")),
            (EC_PUBLIC_KEY, Some(P256)) => match key {
                // Uncompressed: 0x04, X, Y. Compressed: 0x02 or 0x03 (Y's parity), X.
                [0x04, xy @ ..] if xy.len() == 64 => {
                    let mut point = [0u8; 33];
                    point[0] = 2 | (xy[63] & 1);
                    point[1..].copy_from_slice(&xy[..32]);
                    TlsKey::P256(point)
                }
                [2 | 3, ..] if key.len() == 33 => TlsKey::P256(key.try_into().expect("33 bytes")),
                _ => TlsKey::Unpublishable("a malformed P-256 key"),
            },
            (EC_PUBLIC_KEY, _) => TlsKey::Unpublishable("an ECDSA key on a curve other than P-256"),
            (RSA, _) => TlsKey::Unpublishable("an RSA key (too long for the chain's 64 bytes)"),
            _ => TlsKey::Unpublishable("a key of an unknown algorithm"),
        }
    }
}

mod pinned {
    //! The certificate check of [`TlsKey::client_config`].

    use super::TlsKey;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
    use std::sync::Arc;

    /// Accepts exactly the server certificate whose key is `key` (a publishable one), and
    /// the handshake signatures made with it.
    #[derive(Debug)]
    pub(super) struct Pinned {
        pub(super) key: TlsKey,
        pub(super) provider: Arc<rustls::crypto::CryptoProvider>,
    }

    impl ServerCertVerifier for Pinned {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            match TlsKey::of_certificate(end_entity.as_ref()) {
                Some(key) if key == self.key && key.algorithm().is_some() => {
                    Ok(ServerCertVerified::assertion())
                }
                _ => Err(rustls::Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                )),
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
}

/// A SubjectPublicKeyInfo's parts: the algorithm's OID, its parameter OID if it has one,
/// and the key's bytes.
type SpkiParts<'a> = (&'a [u8], Option<&'a [u8]>, &'a [u8]);

/// The parts of a DER SubjectPublicKeyInfo. Hand-written: the structure is three fixed DER
/// elements, and the one crate that parses certificates in the tree (webpki) does not
/// expose them.
fn spki_parts(spki: &[u8]) -> Option<SpkiParts<'_>> {
    let (tag, body, _) = der(spki)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, algorithm, rest) = der(body)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, oid, parameters) = der(algorithm)?;
    if tag != 0x06 {
        return None;
    }
    let parameters = match der(parameters) {
        Some((0x06, p, _)) => Some(p),
        _ => None,
    };
    let (tag, bits, _) = der(rest)?;
    // A BIT STRING whose first byte counts the unused bits: 0 for a key.
    match (tag, bits) {
        (0x03, [0, key @ ..]) => Some((oid, parameters, key)),
        _ => None,
    }
}

/// One DER element: its tag, its contents, and what follows it.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        n if n < 0x80 => (usize::from(n), rest),
        0x81 => {
            let (&n, rest) = rest.split_first()?;
            (usize::from(n), rest)
        }
        0x82 => {
            let (n, rest) = rest.split_at_checked(2)?;
            (usize::from(u16::from_be_bytes([n[0], n[1]])), rest)
        }
        _ => return None,
    };
    let (contents, rest) = rest.split_at_checked(len)?;
    Some((tag, contents, rest))
}

/// Why a certificate or key could not be used.
///
/// ```
/// use std::error::Error;
/// let e = axon::tls::TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
/// assert_eq!(e.kind(), axon::tls::TlsErrorKind::Read);
/// assert!(e.to_string().starts_with("/nonexistent/cert.pem: cannot read it"), "{e}");
/// assert!(e.source().is_some());
/// ```
#[derive(Debug)]
pub struct TlsError {
    kind: TlsErrorKind,
    path: Option<PathBuf>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// What kind of [`TlsError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// A file could not be read or written.
    Read,
    /// The certificate file holds no PEM certificate.
    NoCertificate,
    /// The key file holds no PEM private key (PKCS#8, SEC 1 or PKCS#1).
    NoKey,
    /// The key is of a type rustls cannot sign with.
    UnsupportedKey,
    /// The certificate is not the key's.
    Mismatch,
    /// A key and certificate could not be generated.
    Generate,
}

impl TlsError {
    fn new(kind: TlsErrorKind, path: Option<&Path>) -> Self {
        TlsError {
            kind,
            path: path.map(Path::to_owned),
            source: None,
        }
    }

    fn because(mut self, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> TlsErrorKind {
        self.kind
    }

    /// The file it concerns, if one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}: ", path.display())?;
        }
        f.write_str(match self.kind {
            TlsErrorKind::Read => "cannot read it",
            TlsErrorKind::NoCertificate => "no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
            TlsErrorKind::NoKey => "no PEM private key (PKCS#8, SEC 1 or PKCS#1) in it",
            TlsErrorKind::UnsupportedKey => {
                "a key type TLS cannot sign with (use ECDSA P-256, ed25519 or RSA)"
            }
            TlsErrorKind::Mismatch => {
                "the certificate is not the key's: give the key the certificate was made for"
            }
            TlsErrorKind::Generate => "cannot generate a TLS key and certificate",
        })?;
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        Ok(())
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Serves the one certificate whatever the client asks for.
#[derive(Debug)]
struct OneCertificate(Arc<CertifiedKey>);

impl ResolvesServerCert for OneCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

impl TlsConfig {
    /// The certificate chain (`cert_pem`, the server's certificate first) and its private
    /// key (`key_pem`: PKCS#8, SEC 1 or PKCS#1; ECDSA P-256, ed25519 or RSA). The key's
    /// bytes are wiped once parsed.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<TlsConfig, TlsError> {
        Self::parse(cert_pem, key_pem, None, None)
    }

    /// [`from_pem`](Self::from_pem) from two files (`--axon.tls_cert`, `--axon.tls_key`).
    pub fn from_pem_files(
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<TlsConfig, TlsError> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let read = |path: &Path| {
            std::fs::read(path)
                .map(Zeroizing::new)
                .map_err(|e| TlsError::new(TlsErrorKind::Read, Some(path)).because(e))
        };
        let (cert_pem, key_pem) = (read(cert)?, read(key)?);
        Self::parse(&cert_pem, &key_pem, Some(cert), Some(key))
    }

    /// The key and self-signed certificate kept in `dir` (`key.pem`, `cert.pem`), made
    /// there on first use: an ed25519 key, and a certificate for it valid for 100 years
    /// (callers pin the key published on chain, not a CA's word). The key file is created
    /// readable by its owner only.
    pub fn generate_in(dir: impl AsRef<Path>) -> Result<TlsConfig, TlsError> {
        let dir = dir.as_ref();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        if !cert.exists() && !key.exists() {
            generate(dir, &cert, &key)?;
        }
        Self::from_pem_files(&cert, &key)
    }

    /// Where [`generate_in`](Self::generate_in) keeps a hotkey's TLS key by default:
    /// `~/.bittensor/tls/<hotkey>/` (`--axon.tls_dir`).
    pub fn default_dir(hotkey_ss58: &str) -> PathBuf {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        home.join(".bittensor").join("tls").join(hotkey_ss58)
    }

    /// The public key served, as the chain would hold it.
    pub fn public_key(&self) -> &TlsKey {
        &self.key
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.server.clone())
    }

    fn parse(
        cert_pem: &[u8],
        key_pem: &[u8],
        cert_path: Option<&Path>,
        key_path: Option<&Path>,
    ) -> Result<TlsConfig, TlsError> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| TlsError::new(TlsErrorKind::NoCertificate, cert_path).because(e))?;
        if chain.is_empty() {
            return Err(TlsError::new(TlsErrorKind::NoCertificate, cert_path));
        }
        let mut key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| TlsError::new(TlsErrorKind::NoKey, key_path).because(e))?;
        let signing = rustls::crypto::ring::sign::any_supported_type(&key);
        // The DER copy of the secret, wiped now that ring holds its own form.
        zeroize::Zeroize::zeroize(&mut key);
        let signing = signing
            .map_err(|e| TlsError::new(TlsErrorKind::UnsupportedKey, key_path).because(e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let public = signing.public_key().map(|spki| TlsKey::from_spki(&spki));
        let certified = CertifiedKey::new(chain, signing);
        certified
            .keys_match()
            .map_err(|e| TlsError::new(TlsErrorKind::Mismatch, cert_path).because(e))?;
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::new(TlsErrorKind::UnsupportedKey, key_path).because(e))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(OneCertificate(Arc::new(certified))));
        // The axon speaks HTTP/1.1 only: a client offering h2 gets http/1.1.
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig {
            server: Arc::new(server),
            key: public.unwrap_or(TlsKey::Unpublishable("a key with no public form")),
        })
    }
}

/// Makes an ed25519 key and a self-signed certificate for it in `dir`.
fn generate(dir: &Path, cert: &Path, key: &Path) -> Result<(), TlsError> {
    let failed = |e: rcgen::Error| TlsError::new(TlsErrorKind::Generate, Some(dir)).because(e);
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(failed)?;
    let mut params = rcgen::CertificateParams::new(vec!["axon".to_owned()]).map_err(failed)?;
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2125, 1, 1);
    let certificate = params.self_signed(&pair).map_err(failed)?;
    let key_pem = Zeroizing::new(pair.serialize_pem());
    let io =
        |path: &Path, e: std::io::Error| TlsError::new(TlsErrorKind::Read, Some(path)).because(e);
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    write_private(key, key_pem.as_bytes()).map_err(|e| io(key, e))?;
    std::fs::write(cert, certificate.pem()).map_err(|e| io(cert, e))?;
    Ok(())
}

/// Writes a new file readable by its owner only (0600 on unix).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(alg: &'static rcgen::SignatureAlgorithm) -> (String, String) {
        let pair = rcgen::KeyPair::generate_for(alg).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["axon".to_owned()])
            .unwrap()
            .self_signed(&pair)
            .unwrap();
        (cert.pem(), pair.serialize_pem())
    }

    #[test]
    fn each_key_type_is_read_and_published_or_not() {
        let (cert, key) = made(&rcgen::PKCS_ED25519);
        let tls = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
        assert!(matches!(tls.public_key(), TlsKey::Ed25519(_)));
        assert_eq!(tls.public_key().certificate().unwrap().len(), 33);

        let (cert, key) = made(&rcgen::PKCS_ECDSA_P256_SHA256);
        let tls = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
        let TlsKey::P256(point) = tls.public_key() else {
            panic!("{:?}", tls.public_key())
        };
        assert!(matches!(point[0], 2 | 3));
        assert_eq!(
            TlsKey::from_chain(2, point).as_ref(),
            Some(tls.public_key())
        );

        let (cert, key) = made(&rcgen::PKCS_ECDSA_P384_SHA384);
        let tls = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
        assert_eq!(tls.public_key().certificate(), None);
    }

    #[test]
    fn a_certificate_of_another_key_is_refused() {
        let (cert, _) = made(&rcgen::PKCS_ED25519);
        let (_, key) = made(&rcgen::PKCS_ED25519);
        let e = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), TlsErrorKind::Mismatch);
        let e = TlsConfig::from_pem(b"", key.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), TlsErrorKind::NoCertificate);
        let e = TlsConfig::from_pem(cert.as_bytes(), b"not a key").unwrap_err();
        assert_eq!(e.kind(), TlsErrorKind::NoKey);
    }

    #[test]
    fn the_generated_key_is_kept_and_private() {
        let dir = std::env::temp_dir().join(format!("axon-tls-gen-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = TlsConfig::generate_in(&dir).unwrap();
        let second = TlsConfig::generate_in(&dir).unwrap();
        assert_eq!(first.public_key(), second.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn der_lengths_past_the_input_are_refused() {
        assert_eq!(spki_parts(&[0x30, 0x82, 0xff, 0xff]), None);
        assert_eq!(spki_parts(&[]), None);
        assert!(matches!(
            TlsKey::from_spki(&[0x30, 0x00]),
            TlsKey::Unpublishable(_)
        ));
    }
}
