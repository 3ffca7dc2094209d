//! Keys: sr25519 and ed25519 keypairs, SS58 addresses, and development keys from URIs like
//! `//Alice`.

mod encrypted;
pub(crate) mod ss58;
mod uri;
mod wallet;

pub use encrypted::env_var_name as password_variable;
pub(crate) use ss58::decode as ss58_decode;
pub use ss58::{canonical as canonical_ss58, BITTENSOR_PREFIX};
#[cfg(any(feature = "logging", feature = "tls", feature = "redis"))]
pub(crate) use wallet::expand_home;
pub use wallet::{coldkeypub, coldkeypub_path, hotkey_path, DEFAULT_WALLET_PATH};

use schnorrkel::{ExpansionMode, MiniSecretKey};
use std::fmt;
use std::sync::Arc;

use crate::wire::signing::CONTEXT;

/// Why a key could not be made: its [`kind`](KeyError::kind), a message that names the file
/// or URI and says what to do, and the underlying error as its
/// [`source`](std::error::Error::source) when there is one (the file system's, the JSON
/// parser's).
///
/// ```
/// use axon::keys::{KeyErrorKind, Keypair};
///
/// let err = Keypair::from_uri("Alice").unwrap_err();
/// assert!(err.to_string().contains("//Alice"));
/// assert_eq!(err.kind(), KeyErrorKind::BadUri);
/// ```
#[derive(Clone, Debug)]
pub struct KeyError {
    kind: KeyErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// What kind of problem a [`KeyError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyErrorKind {
    /// Not a development key URI this crate derives.
    BadUri,
    /// A seed or secret key of the wrong size or form.
    BadSecret,
    /// No file where the key should be.
    NoFile,
    /// The file could not be read.
    Unreadable,
    /// The file is not a keyfile (not JSON, no key in it, a key that does not match its
    /// address).
    NotAKeyfile,
    /// The file is encrypted and no password was given.
    Locked,
    /// The password does not open the file.
    WrongPassword,
    /// A legacy encrypted format this crate does not read.
    Legacy,
}

impl KeyError {
    pub(crate) fn new(kind: KeyErrorKind, message: impl Into<String>) -> Self {
        KeyError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same error, caused by `source`.
    pub(crate) fn caused_by(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> KeyErrorKind {
        self.kind
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The signature algorithm of a key: sr25519 (every bittensor hotkey by default) or
/// ed25519 (`btcli wallet create --crypto-type ed`). Its numbers are bittensor's
/// `cryptoType`: 0 for ed25519, 1 for sr25519.
///
/// ```
/// use axon::keys::Crypto;
///
/// assert_eq!("ed".parse::<Crypto>().unwrap(), Crypto::Ed25519);
/// assert_eq!(Crypto::Sr25519.to_string(), "sr25519");
/// assert_eq!(Crypto::default(), Crypto::Sr25519);
/// let err = "rsa".parse::<Crypto>().unwrap_err();
/// assert_eq!(err.to_string(), "`rsa` is not a crypto type: write sr25519 or ed25519 (btcli's sr or ed)");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Crypto {
    /// sr25519, Schnorr signatures on Ristretto (context `substrate`).
    #[default]
    Sr25519,
    /// ed25519 (RFC 8032).
    Ed25519,
}

impl Crypto {
    /// Its name, as btauth/1's payload and `X-Bittensor-Crypto` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Crypto::Sr25519 => "sr25519",
            Crypto::Ed25519 => "ed25519",
        }
    }

    /// bittensor's `cryptoType` number (the keyfiles' field): 0 for ed25519, 1 for sr25519.
    pub fn code(self) -> u8 {
        match self {
            Crypto::Ed25519 => 0,
            Crypto::Sr25519 => 1,
        }
    }

    /// The crypto type of bittensor's `cryptoType` number, if it is one this crate signs
    /// with.
    pub fn from_code(code: i64) -> Option<Crypto> {
        match code {
            0 => Some(Crypto::Ed25519),
            1 => Some(Crypto::Sr25519),
            _ => None,
        }
    }
}

impl fmt::Display for Crypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a [`Crypto`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownCrypto(String);

impl fmt::Display for UnknownCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a crypto type: write sr25519 or ed25519 (btcli's sr or ed)",
            self.0
        )
    }
}

impl std::error::Error for UnknownCrypto {}

impl std::str::FromStr for Crypto {
    type Err = UnknownCrypto;

    /// `sr25519` or `ed25519`, or btcli's `sr` and `ed`, in any case.
    fn from_str(name: &str) -> Result<Crypto, UnknownCrypto> {
        match name.trim().to_ascii_lowercase().as_str() {
            "sr25519" | "sr" => Ok(Crypto::Sr25519),
            "ed25519" | "ed" => Ok(Crypto::Ed25519),
            _ => Err(UnknownCrypto(name.to_owned())),
        }
    }
}

/// A hotkey: an sr25519 or an ed25519 keypair. The secret half wipes itself when dropped.
///
/// ```
/// use axon::keys::{Crypto, Keypair};
///
/// let alice = Keypair::from_uri("//Alice").unwrap();
/// assert_eq!(alice.ss58(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
/// let signature = alice.sign(b"hello");
/// assert!(signature.starts_with("0x") && signature.len() == 130);
///
/// let ed = Keypair::from_uri_with("//Alice", Crypto::Ed25519).unwrap();
/// assert_eq!(ed.ss58(), "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu");
/// assert_eq!(ed.crypto(), Crypto::Ed25519);
/// ```
#[derive(Clone)]
pub struct Keypair {
    inner: Inner,
    ss58: String,
}

#[derive(Clone)]
enum Inner {
    Sr25519(schnorrkel::Keypair),
    Ed25519(ed25519_dalek::SigningKey),
    /// A key whose secret is held elsewhere, which signs on request (see
    /// [`Keypair::external`]).
    External(Arc<External>),
}

struct External {
    public: [u8; 32],
    crypto: Crypto,
    sign: Box<ExternalSign>,
}

/// What signs for an external key: the 64 signature bytes of a message, or why not.
pub type ExternalSign = dyn Fn(&[u8]) -> Result<[u8; 64], String> + Send + Sync;

impl Keypair {
    /// The sr25519 keypair of a 32-byte mini secret key (a wallet's `secretSeed`), expanded
    /// as Substrate does.
    ///
    /// ```
    /// let k = axon::keys::Keypair::from_seed(&[7; 32]).unwrap();
    /// assert_eq!(k.ss58().len(), 48);
    /// ```
    pub fn from_seed(seed: &[u8]) -> Result<Keypair, KeyError> {
        Keypair::from_seed_with(seed, Crypto::Sr25519)
    }

    /// The `crypto` keypair of a 32-byte seed: for sr25519 a mini secret key expanded as
    /// Substrate does, for ed25519 the RFC 8032 secret key (as bittensor's
    /// `Keypair.create_from_seed(seed, crypto_type)`).
    ///
    /// ```
    /// use axon::keys::{Crypto, Keypair};
    /// let sr = Keypair::from_seed_with(&[7; 32], Crypto::Sr25519).unwrap();
    /// let ed = Keypair::from_seed_with(&[7; 32], Crypto::Ed25519).unwrap();
    /// assert_ne!(sr.ss58(), ed.ss58());
    /// ```
    pub fn from_seed_with(seed: &[u8], crypto: Crypto) -> Result<Keypair, KeyError> {
        let seed: &[u8; 32] = seed.try_into().map_err(|_| {
            KeyError::new(
                KeyErrorKind::BadSecret,
                format!("a seed is 32 bytes, not {}", seed.len()),
            )
        })?;
        Ok(match crypto {
            Crypto::Sr25519 => {
                let mini = MiniSecretKey::from_bytes(seed)
                    .map_err(|_| KeyError::new(KeyErrorKind::BadSecret, "a seed is 32 bytes"))?;
                Keypair::from_schnorrkel(mini.expand_to_keypair(ExpansionMode::Ed25519))
            }
            Crypto::Ed25519 => Keypair::from_ed25519(ed25519_dalek::SigningKey::from_bytes(seed)),
        })
    }

    /// An sr25519 development key from a Substrate URI on the well-known development
    /// phrase: `//Alice`, `//Bob`, `//Alice//stash`, `//0`, `//Alice/soft`. For local runs
    /// only: the development phrase is public.
    ///
    /// ```
    /// let bob = axon::keys::Keypair::from_uri("//Bob").unwrap();
    /// assert_eq!(bob.ss58(), "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty");
    /// ```
    pub fn from_uri(uri: &str) -> Result<Keypair, KeyError> {
        uri::derive(uri).map(Keypair::from_schnorrkel)
    }

    /// A development key of `crypto` from a Substrate URI, derived as bittensor's
    /// `Keypair.create_from_uri(uri, crypto_type)`: ed25519 keys have hard junctions
    /// (`//Alice`) only.
    ///
    /// ```
    /// use axon::keys::{Crypto, Keypair};
    /// let bob = Keypair::from_uri_with("//Bob", Crypto::Ed25519).unwrap();
    /// assert_eq!(bob.ss58(), "5GoNkf6WdbxCFnPdAnYYQyCjAKPJgLNxXwPjwTh6DGg6gN3E");
    /// assert!(Keypair::from_uri_with("//Alice/soft", Crypto::Ed25519).is_err());
    /// ```
    pub fn from_uri_with(uri: &str, crypto: Crypto) -> Result<Keypair, KeyError> {
        match crypto {
            Crypto::Sr25519 => Keypair::from_uri(uri),
            Crypto::Ed25519 => uri::derive_ed25519(uri).map(Keypair::from_ed25519),
        }
    }

    fn from_schnorrkel(inner: schnorrkel::Keypair) -> Keypair {
        let ss58 = ss58::encode(&inner.public.to_bytes());
        Keypair {
            inner: Inner::Sr25519(inner),
            ss58,
        }
    }

    /// A key whose secret this process never holds: `sign` signs for it (a hardware key, a
    /// signing service, a binding's own keypair object). `public` and `crypto` say what
    /// it signs as; a probe message is signed and checked against them here, so a signer of
    /// another key or type is refused at once.
    ///
    /// A signer that fails later fails what needed the signature (a request is answered
    /// 500, the reason in the log), never sends a wrong one.
    ///
    /// ```
    /// use axon::keys::{Crypto, Keypair};
    ///
    /// let held = Keypair::from_uri("//Alice").unwrap();
    /// let signer = held.clone();
    /// let external = Keypair::external(held.public(), Crypto::Sr25519, move |m: &[u8]| {
    ///     let hex = signer.sign(m);
    ///     let mut bytes = [0u8; 64];
    ///     for (i, b) in bytes.iter_mut().enumerate() {
    ///         *b = u8::from_str_radix(&hex[2 + 2 * i..4 + 2 * i], 16).unwrap();
    ///     }
    ///     Ok(bytes)
    /// })
    /// .unwrap();
    /// assert_eq!(external.ss58(), held.ss58());
    /// let bob = Keypair::from_uri("//Bob").unwrap();
    /// let wrong = Keypair::external(bob.public(), Crypto::Sr25519, move |_: &[u8]| Ok([0; 64]));
    /// assert!(wrong.is_err());
    /// ```
    pub fn external(
        public: [u8; 32],
        crypto: Crypto,
        sign: impl Fn(&[u8]) -> Result<[u8; 64], String> + Send + Sync + 'static,
    ) -> Result<Keypair, KeyError> {
        let probe = b"axon: does this signer sign for this key?";
        let bad = |why: String| KeyError::new(KeyErrorKind::BadSecret, why);
        let signature = sign(probe).map_err(|e| bad(format!("the signer failed: {e}")))?;
        let valid = match crypto {
            Crypto::Sr25519 => {
                let key = schnorrkel::PublicKey::from_bytes(&public);
                let sig = schnorrkel::Signature::from_bytes(&signature);
                matches!((key, sig), (Ok(k), Ok(s)) if k.verify_simple(CONTEXT, probe, &s).is_ok())
            }
            Crypto::Ed25519 => ed25519_dalek::VerifyingKey::from_bytes(&public).is_ok_and(|k| {
                k.verify_strict(probe, &ed25519_dalek::Signature::from_bytes(&signature))
                    .is_ok()
            }),
        };
        if !valid {
            return Err(bad(format!(
                "the signer does not sign as the {} key {}",
                crypto.name(),
                ss58::encode(&public)
            )));
        }
        Ok(Keypair {
            inner: Inner::External(Arc::new(External {
                public,
                crypto,
                sign: Box::new(sign),
            })),
            ss58: ss58::encode(&public),
        })
    }

    fn from_ed25519(key: ed25519_dalek::SigningKey) -> Keypair {
        let ss58 = ss58::encode(key.verifying_key().as_bytes());
        Keypair {
            inner: Inner::Ed25519(key),
            ss58,
        }
    }

    /// Its signature algorithm.
    pub fn crypto(&self) -> Crypto {
        match &self.inner {
            Inner::Sr25519(_) => Crypto::Sr25519,
            Inner::Ed25519(_) => Crypto::Ed25519,
            Inner::External(external) => external.crypto,
        }
    }

    /// The SS58 address (prefix 42) of the public key.
    ///
    /// ```
    /// # let k = axon::keys::Keypair::from_uri("//Alice").unwrap();
    /// assert!(k.ss58().starts_with('5'));
    /// ```
    pub fn ss58(&self) -> &str {
        &self.ss58
    }

    /// The 32-byte public key.
    ///
    /// ```
    /// # let k = axon::keys::Keypair::from_uri("//Alice").unwrap();
    /// assert_eq!(k.public()[0], 0xd4);
    /// ```
    pub fn public(&self) -> [u8; 32] {
        match &self.inner {
            Inner::Sr25519(pair) => pair.public.to_bytes(),
            Inner::Ed25519(key) => key.verifying_key().to_bytes(),
            Inner::External(external) => external.public,
        }
    }

    /// Signs `message` (sr25519 with context `substrate`, ed25519 as RFC 8032), as `0x`
    /// followed by 128 hex digits: the form of the `bt_header_*_signature` headers.
    ///
    /// ```
    /// # let k = axon::keys::Keypair::from_uri("//Alice").unwrap();
    /// assert_eq!(k.sign(b"x").len(), 130);
    /// ```
    pub fn sign(&self, message: &[u8]) -> String {
        format!("0x{}", hex::encode(self.sign_bytes(message)))
    }

    /// The 64 signature bytes of `message`. An external signer that fails panics here, so
    /// that what needed the signature fails (a request: 500, the cause logged) rather than
    /// carrying a wrong one.
    pub(crate) fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        match &self.inner {
            Inner::Sr25519(pair) => pair.sign_simple(CONTEXT, message).to_bytes(),
            Inner::Ed25519(key) => key.sign(message).to_bytes(),
            Inner::External(external) => match (external.sign)(message) {
                Ok(signature) => signature,
                Err(e) => panic!("the external signer of {} failed: {e}", self.ss58),
            },
        }
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keypair")
            .field("ss58", &self.ss58)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::Keypair;
    use crate::verify::Verifier;
    use crate::BaseSynapse;
    use std::time::{Duration, UNIX_EPOCH};

    /// Addresses printed by bittensor 10.5.0's `Keypair.create_from_uri(uri).ss58_address`.
    /// The secret half of every keypair wipes itself when dropped, as does a seed the
    /// keyfile reader decoded. schnorrkel's secret keys derive `Zeroize` with
    /// `#[zeroize(drop)]` (a `Drop` that wipes) rather than the `ZeroizeOnDrop` marker, so
    /// for them the check is: zeroizable, and a `Drop` of their own (their fields are
    /// plain byte arrays, which need none).
    #[test]
    fn the_secret_key_and_the_seed_are_held_in_wiping_types() {
        fn wiped<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        fn wipes_in_drop<T: zeroize::Zeroize>(_: &T) -> bool {
            std::mem::needs_drop::<T>()
        }
        let alice = Keypair::from_uri("//Alice").unwrap();
        let super::Inner::Sr25519(pair) = &alice.inner else {
            panic!("//Alice is sr25519")
        };
        assert!(wipes_in_drop(&pair.secret));
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let ed = Keypair::from_uri_with("//Alice", super::Crypto::Ed25519).unwrap();
        let super::Inner::Ed25519(key) = &ed.inner else {
            panic!("ed25519")
        };
        wiped_on_drop(key);
        let seed = zeroize::Zeroizing::new(vec![7u8; 32]);
        wiped(&seed);
        let mini = schnorrkel::MiniSecretKey::from_bytes(&seed).unwrap();
        assert!(wipes_in_drop(&mini));
        assert!(!std::mem::needs_drop::<[u8; 64]>());
    }

    #[test]
    fn development_uris_match_bittensor_wallet() {
        for (uri, ss58) in [
            (
                "//Alice",
                "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
            ),
            ("//Bob", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"),
            (
                "//Alice//stash",
                "5GNJqTPyNqANBkUVMN1LPPrxXnFouWXoe2wNSmmEoLctxiZY",
            ),
            ("//0", "5D34dL5prEUaGNQtPPZ3yN5Y6BnkfXunKXXz6fo7ZJbLwRRH"),
            (
                "//Alice/soft",
                "5C8PhJPLE54x23RjmqBcEEnALryCDWdTJM5xLaoL9W8XEpnt",
            ),
            (
                "//Alice/0",
                "5FKxrLQM24ZhLxcaQfJR3uMxMZh5gU6E4CP3yghPJLzCDnHN",
            ),
            (
                "//xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                "5EJWRwGLcZ1KGDHtgrvTEQFjFL715DzcorquPqKBbEEvWQtv",
            ),
        ] {
            assert_eq!(Keypair::from_uri(uri).unwrap().ss58(), ss58, "{uri}");
        }
    }

    #[test]
    fn refuses_uris_it_cannot_derive() {
        for uri in [
            "Alice",
            "bottom drive//Alice",
            "//Alice///pw",
            "//Alice//",
            "",
        ] {
            assert!(Keypair::from_uri(uri).is_err(), "{uri}");
        }
    }

    #[test]
    fn a_signed_dendrite_request_passes_the_default_verify() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        let bob = Keypair::from_uri("//Bob").unwrap();
        let mut s = BaseSynapse::default();
        let nonce = 1_763_000_000_000_000_000i64;
        s.dendrite.hotkey = Some(alice.ss58().into());
        s.dendrite.version = Some(10_005_000);
        s.dendrite.nonce = Some(nonce);
        s.dendrite.uuid = Some("u".into());
        s.computed_body_hash = Some("h".into());
        let message = format!("{nonce}.{}.{}.u.h", alice.ss58(), bob.ss58());
        s.dendrite.signature = Some(alice.sign(message.as_bytes()));
        let now = UNIX_EPOCH + Duration::from_nanos(nonce as u64 + 1);
        Verifier::new(bob.ss58()).verify_at(&s, now).unwrap();
    }
}
