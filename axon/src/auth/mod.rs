//! Signed HTTP beyond the synapse: bittensor 11's `btauth/1` ([`btauth`]) and Epistula v2
//! ([`epistula`]), signed by the client and checked by an [`Authenticator`] with one replay
//! store and one set of rules for both.
//!
//! The checks run in the reference's order: the headers' form, the receiver, freshness,
//! the signature, and only then the replay store (so unauthenticated traffic cannot fill
//! it against a real sender).
//!
//! ```
//! use axon::auth::{btauth, Authenticator, Scheme};
//! use axon::keys::Keypair;
//! use std::time::SystemTime;
//!
//! let miner = Keypair::from_uri("//Alice").unwrap();
//! let validator = Keypair::from_uri("//Bob").unwrap();
//! let body = br#"{"text": "hi"}"#;
//! let headers = btauth::sign(&validator, "POST", "/v1/echo", body, Some(miner.ss58()), None);
//!
//! let auth = Authenticator::new(miner.ss58());
//! let get = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
//! let caller = auth.btauth(get, "POST", "/v1/echo", body, SystemTime::now()).unwrap();
//! assert_eq!((caller.hotkey.as_str(), caller.scheme), (validator.ss58(), Scheme::Btauth));
//! // The same request again is a replay.
//! let err = auth.btauth(get, "POST", "/v1/echo", body, SystemTime::now()).unwrap_err();
//! assert_eq!(err.to_string(), "this nonce was already accepted from this hotkey");
//! ```

pub mod btauth;
pub mod epistula;
mod pins;

pub use pins::{CryptoRegistry, PinError, Pins};

use crate::keys::ss58;
use crate::verify::nonces::Nonces;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which scheme signed a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// bittensor 11's `btauth/1`.
    Btauth,
    /// Epistula v2.
    Epistula,
}

pub use crate::keys::Crypto;

/// The verified sender of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The sender's hotkey: an SS58 address with Bittensor's prefix (42), the one spelling
    /// of its key (another prefix is refused when the headers are read).
    pub hotkey: String,
    /// The scheme that signed it.
    pub scheme: Scheme,
    /// The hotkey it was signed for, if bound to one.
    pub receiver: Option<String>,
    /// Its nonce in nanoseconds (Epistula's millisecond timestamp, scaled).
    pub nonce_ns: i64,
    /// The key's algorithm.
    pub crypto: Crypto,
    /// The client's address (behind a trusted proxy, the one it names), when served by an
    /// axon; `None` from an [`Authenticator`] called directly.
    pub ip: Option<std::net::IpAddr>,
}

/// Why a request failed authentication. The messages are bittensor 11's
/// (`bittensor.http_auth`) for btauth/1, and never echo the signature or payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// A header is missing or does not parse (400).
    Malformed(String),
    /// Signed for another hotkey, or for none where the endpoint requires one (401).
    WrongReceiver(String),
    /// Declared with a crypto type other than the one this server expects of the sender
    /// ([`AuthConfig::pins`]), or one the endpoint does not accept (401). Decided before
    /// the signature is looked at.
    WrongCrypto(String),
    /// Outside the freshness window (401).
    Stale(String),
    /// The signature does not verify (401).
    BadSignature(String),
    /// Accepted already inside the window (401).
    Replayed(String),
}

impl AuthError {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::Malformed(_) => 400,
            _ => 401,
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Malformed(m)
            | AuthError::WrongReceiver(m)
            | AuthError::WrongCrypto(m)
            | AuthError::Stale(m)
            | AuthError::BadSignature(m)
            | AuthError::Replayed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for AuthError {}

/// The rules both schemes share.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// How old a request may be (10 s, btauth/1's default, both ends inclusive).
    pub max_age: Duration,
    /// How far ahead of the clock (2 s).
    pub allowed_skew: Duration,
    /// Refuse requests not bound to this axon's hotkey (true, as btauth/1's default); an
    /// endpoint declared `unbound` accepts them whatever this says, and `false` accepts them
    /// at every endpoint. A request bound to another hotkey is refused either way.
    pub require_receiver: bool,
    /// Which crypto type each sender signs with: a default (sr25519) and per-hotkey pins
    /// (`--auth.default_crypto`, `--auth.crypto SS58=ed25519`). Never the request's
    /// `X-Bittensor-Crypto`, which the sender chooses: a request declaring another crypto
    /// type is refused (401) before its signature is looked at.
    pub pins: Pins,
    /// Asked for the crypto type of a sender with no pin, before the default: a miner's own
    /// account registry. Called on the I/O thread for every signed request before its
    /// signature is checked, so it should be a lookup.
    pub registry: Option<CryptoRegistry>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            max_age: Duration::from_secs(10),
            allowed_skew: Duration::from_secs(2),
            require_receiver: true,
            pins: Pins::default(),
            registry: None,
        }
    }
}

impl AuthConfig {
    /// The crypto type this server expects of the sender whose address is `ss58` and key
    /// `public`: its pin, else the registry's answer, else the default.
    pub fn expected_crypto(&self, ss58: &str, public: &[u8; 32]) -> Crypto {
        self.pins
            .pinned(public)
            .or_else(|| self.registry.as_ref().and_then(|r| r.resolve(ss58)))
            .unwrap_or(self.pins.default)
    }
}

/// Checks btauth/1 and Epistula requests for one axon hotkey, with one replay store.
pub struct Authenticator {
    hotkey: String,
    config: AuthConfig,
    nonces: Arc<Mutex<Nonces>>,
    /// How long an accepted request is remembered at least.
    retention: Duration,
}

/// A request's claims as its headers state them: their form checked, nothing else.
#[derive(Clone, Debug)]
struct Claims {
    scheme: Scheme,
    sender: String,
    receiver: Option<String>,
    nonce_ns: i64,
    crypto: Crypto,
    signature: Vec<u8>,
    layout: Layout,
    checked_at: SystemTime,
}

/// A request's signed claims, read from its headers and checked for receiver, freshness
/// and the sender's address (a Bittensor SS58 address, so one spelling per key);
/// [`Authenticator::confirm`] checks its signature over the body, then replay. The
/// pipeline reads one before reading the body (both schemes sign the body's hash) and
/// confirms it once the body is read.
#[derive(Clone, Debug)]
pub struct Signed {
    claims: Claims,
    /// The sender's public key, decoded from its address.
    public: [u8; 32],
}

/// What, besides the body, the signed message is made of.
#[derive(Clone, Debug)]
enum Layout {
    /// btauth/1: the crypto line (and whether `X-Bittensor-Crypto` was sent), method, path
    /// and full nonce.
    Btauth {
        crypto: &'static str,
        declared: bool,
        method: String,
        path: String,
        nonce: i128,
    },
    /// Epistula: the uuid and the timestamp as sent.
    Epistula { uuid: String, timestamp: String },
}

impl Signed {
    /// The claimed sender (not verified until [`Authenticator::confirm`]): a Bittensor
    /// SS58 address, the one spelling of its key.
    pub fn sender(&self) -> &str {
        &self.claims.sender
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.claims.scheme
    }

    /// The sender's crypto type: the one this server expects of it, which the request
    /// declared too.
    pub fn crypto(&self) -> Crypto {
        self.claims.crypto
    }

    /// The nonce in nanoseconds.
    pub fn nonce_ns(&self) -> i64 {
        self.claims.nonce_ns
    }

    /// The caller it claims to be, for policies that run before the signature is checked.
    pub fn claimed(&self) -> Caller {
        let c = &self.claims;
        Caller {
            hotkey: c.sender.clone(),
            scheme: c.scheme,
            receiver: c.receiver.clone(),
            nonce_ns: c.nonce_ns,
            crypto: c.crypto,
            ip: None,
        }
    }

    fn message(&self, body: &[u8]) -> Vec<u8> {
        let c = &self.claims;
        match &c.layout {
            Layout::Btauth {
                crypto,
                method,
                path,
                nonce,
                ..
            } => btauth::payload(
                crypto,
                method,
                path,
                body,
                *nonce,
                &c.sender,
                c.receiver.as_deref(),
            ),
            Layout::Epistula { uuid, timestamp } => {
                epistula::message(body, uuid, timestamp, c.receiver.as_deref()).into_bytes()
            }
        }
    }

    /// Its key in a shared replay store.
    pub(crate) fn replay_key(&self) -> crate::replay::ReplayKey {
        crate::replay::ReplayKey::new(&self.public, Some(self.id()), self.claims.nonce_ns)
    }

    /// What makes the request unique besides the sender's key and the nonce: every part
    /// of a replay key is signed (btauth/1 signs the nonce and the sender, Epistula its
    /// uuid and timestamp); the sender is its key's bytes, whatever spelling was signed.
    fn id(&self) -> &str {
        match &self.claims.layout {
            Layout::Btauth { .. } => btauth::PROTOCOL,
            Layout::Epistula { uuid, .. } => uuid,
        }
    }
}

/// The header that names a scheme's sender and its receiver.
fn address_headers(scheme: Scheme) -> (&'static str, &'static str) {
    match scheme {
        Scheme::Btauth => (btauth::HEADER_HOTKEY, btauth::HEADER_RECEIVER),
        Scheme::Epistula => (epistula::HEADER_SIGNED_BY, epistula::HEADER_SIGNED_FOR),
    }
}

/// The refusal of an address spelled for another network: 400, naming the header, the
/// prefix and the spelling this axon reads (never the value sent).
fn other_prefix(header: &str, prefix: u16, canonical: &str) -> AuthError {
    AuthError::Malformed(format!(
        "{header} is an SS58 address of network prefix {prefix}; this server reads Bittensor addresses (prefix 42) only: the same key is {canonical}"
    ))
}

impl Authenticator {
    /// An authenticator for the axon hotkey `hotkey` with the default rules.
    pub fn new(hotkey: impl Into<String>) -> Self {
        Self::with_config(hotkey, AuthConfig::default())
    }

    /// An authenticator with `config`.
    pub fn with_config(hotkey: impl Into<String>, config: AuthConfig) -> Self {
        let retention = config.max_age + config.allowed_skew;
        Authenticator {
            hotkey: hotkey.into(),
            config,
            nonces: Arc::default(),
            retention,
        }
    }

    /// An authenticator whose replay store is `nonces`, shared with the synapse verifier,
    /// remembering each request at least `retention` (the widest window of the store's
    /// users), so one store holds every scheme's requests under one rule.
    pub(crate) fn sharing(
        hotkey: impl Into<String>,
        config: AuthConfig,
        nonces: Arc<Mutex<Nonces>>,
        retention: Duration,
    ) -> Self {
        let retention = retention.max(config.max_age + config.allowed_skew);
        Authenticator {
            hotkey: hotkey.into(),
            config,
            nonces,
            retention,
        }
    }

    /// Requests remembered by the replay store.
    pub fn remembered(&self) -> usize {
        self.nonces.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The rules.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// How long an accepted request is remembered at least.
    pub(crate) fn retention(&self) -> Duration {
        self.retention
    }

    /// The refusal of a replay of `signed`.
    pub(crate) fn replayed(&self, signed: &Signed) -> AuthError {
        AuthError::Replayed(match signed.claims.scheme {
            Scheme::Btauth => "this nonce was already accepted from this hotkey".into(),
            Scheme::Epistula => "this uuid was already accepted from this hotkey".into(),
        })
    }

    /// Checks what the headers alone decide, in the reference's order: the receiver
    /// (`require_receiver` overrides the config's rule for one endpoint), freshness at
    /// `now`, then the sender's address and the signature's length (where bittensor 11's
    /// `verify` finds them undecodable). An address of another SS58 network prefix is
    /// refused (400), sender or receiver: each key has one spelling here.
    fn admit(&self, claims: Claims, require_receiver: bool) -> Result<Signed, AuthError> {
        let (sender_header, receiver_header) = address_headers(claims.scheme);
        match claims.receiver.as_deref() {
            None if require_receiver => {
                return Err(AuthError::WrongReceiver(scheme_unbound(claims.scheme)));
            }
            Some(r) if r != self.hotkey => {
                if let Err(ss58::Refused::OtherPrefix { prefix, canonical }) = ss58::bittensor(r) {
                    return Err(other_prefix(receiver_header, prefix, &canonical));
                }
                return Err(AuthError::WrongReceiver(
                    "request was signed for a different receiving hotkey".into(),
                ));
            }
            _ => {}
        }
        let now_ns = nanos(claims.checked_at);
        let nonce = i128::from(claims.nonce_ns);
        if now_ns - nonce > self.config.max_age.as_nanos() as i128 {
            return Err(AuthError::Stale(format!(
                "nonce is older than the {}s freshness window",
                seconds(self.config.max_age)
            )));
        }
        if nonce - now_ns > self.config.allowed_skew.as_nanos() as i128 {
            return Err(AuthError::Stale(format!(
                "nonce is more than {}s in the future",
                seconds(self.config.allowed_skew)
            )));
        }
        let undecodable =
            || AuthError::Malformed("invalid hotkey address or signature encoding".into());
        let public = match ss58::bittensor(&claims.sender) {
            Ok(public) => public,
            Err(ss58::Refused::OtherPrefix { prefix, canonical }) => {
                return Err(other_prefix(sender_header, prefix, &canonical));
            }
            Err(ss58::Refused::Invalid(_)) => return Err(undecodable()),
        };
        // The sender's crypto type is the server's to say, never the request's.
        let expected = self.config.expected_crypto(&claims.sender, &public);
        if claims.crypto != expected {
            return Err(AuthError::WrongCrypto(wrong_crypto(&claims, expected)));
        }
        if claims.signature.len() != 64 {
            return Err(undecodable());
        }
        Ok(Signed { claims, public })
    }

    /// Checks the signature of `signed` over `body`, then that the request was not
    /// accepted before (recording it only now, so unsigned traffic cannot fill the store).
    pub fn confirm(&self, signed: &Signed, body: &[u8]) -> Result<Caller, AuthError> {
        let claims = &signed.claims;
        let message = signed.message(body);
        if !verifies(claims.crypto, &signed.public, &message, &claims.signature)? {
            return Err(AuthError::BadSignature(
                "signature does not verify against the claimed hotkey".into(),
            ));
        }
        let oldest = nanos(claims.checked_at) - self.retention.as_nanos() as i128;
        let oldest = oldest.clamp(i64::MIN.into(), i64::MAX.into()) as i64;
        let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        let key = nonces.key(&signed.public, Some(signed.id()), claims.nonce_ns);
        if !nonces.insert(key, claims.nonce_ns, oldest) {
            return Err(self.replayed(signed));
        }
        Ok(Caller {
            ip: None,
            ..signed.claimed()
        })
    }
}

/// The refusal of a request declaring another crypto type than `expected`: it names the
/// expected type and what the request declared, and nothing of its signature, which was
/// never looked at.
fn wrong_crypto(claims: &Claims, expected: Crypto) -> String {
    match &claims.layout {
        Layout::Btauth { declared, .. } => {
            let declared = match declared {
                true => format!("{} is {}", btauth::HEADER_CRYPTO, claims.crypto),
                false => format!("{} is absent (sr25519)", btauth::HEADER_CRYPTO),
            };
            format!("{declared}, but this server expects {expected} from this hotkey")
        }
        Layout::Epistula { .. } => format!(
            "Epistula requests are sr25519, but this server expects {expected} from this hotkey: sign with btauth/1"
        ),
    }
}

/// Nanoseconds since the epoch.
fn nanos(t: SystemTime) -> i128 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos() as i128
}

fn scheme_unbound(scheme: Scheme) -> String {
    match scheme {
        Scheme::Btauth => format!(
            "missing {}: this server requires receiver-bound requests",
            btauth::HEADER_RECEIVER
        ),
        Scheme::Epistula => format!(
            "missing {}: this server requires receiver-bound requests",
            epistula::HEADER_SIGNED_FOR
        ),
    }
}

/// Python's `f"{seconds:g}"` for whole and simple fractional seconds.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s}")
    }
}

/// Lowercase hex of sha256(`body`).
pub(crate) fn sha256_hex(body: &[u8]) -> String {
    crate::wire::hex(&Sha256::digest(body))
}

/// The signature over `message`, plain or `<Bytes>`-wrapped (as bittensor's verifier
/// accepts both); a signature of the wrong length is malformed, and a key or signature
/// that is not a valid point simply does not verify (as in Python).
fn verifies(
    crypto: Crypto,
    public: &[u8; 32],
    message: &[u8],
    signature: &[u8],
) -> Result<bool, AuthError> {
    let malformed = || AuthError::Malformed("invalid hotkey address or signature encoding".into());
    let signature: [u8; 64] = signature.try_into().map_err(|_| malformed())?;
    // The wrapped form is built only when the plain one does not verify.
    let wrapped = || crate::wire::signing::bytes_wrapped(message);
    Ok(match crypto {
        Crypto::Sr25519 => {
            let (Ok(key), Ok(sig)) = (
                schnorrkel::PublicKey::from_bytes(public),
                schnorrkel::Signature::from_bytes(&signature),
            ) else {
                return Ok(false);
            };
            let ok = |m: &[u8]| {
                key.verify_simple(crate::wire::signing::CONTEXT, m, &sig)
                    .is_ok()
            };
            ok(message) || ok(&wrapped())
        }
        Crypto::Ed25519 => {
            let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(public) else {
                return Ok(false);
            };
            let sig = ed25519_dalek::Signature::from_bytes(&signature);
            key.verify_strict(message, &sig).is_ok() || key.verify_strict(&wrapped(), &sig).is_ok()
        }
    })
}

/// Hex with or without `0x`, read as bittensor 11's `verify` reads a signature
/// (`bytes.fromhex(text.removeprefix("0x"))`): ASCII whitespace is skipped between bytes,
/// never inside one. The signature is not part of any replay key, so its spellings cannot
/// be used to replay a request. (Hand-written because the `hex` crate, used everywhere
/// else, has no such leniency: Python's exact acceptance is the point here.)
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.strip_prefix("0x").unwrap_or(text).as_bytes();
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut bytes = Vec::with_capacity(text.len() / 2);
    let mut at = 0;
    while at < text.len() {
        // ASCII whitespace, as `bytes.fromhex` documents it: space, \t, \n, \v, \f, \r.
        if matches!(text[at], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            at += 1;
            continue;
        }
        let high = digit(text[at])?;
        let low = digit(*text.get(at + 1)?)?;
        bytes.push(high << 4 | low);
        at += 2;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::unhex;

    #[test]
    fn signatures_are_read_as_bytes_fromhex_reads_them() {
        // `bytes.fromhex`'s documented rules, as snapshots of this reader's answers;
        // `tests/probe.rs` asks bittensor 11.3.0 itself about a signature spelled with
        // spaces.
        assert_eq!(unhex("ab cd"), Some(vec![0xab, 0xcd]));
        assert_eq!(unhex(" abcd "), Some(vec![0xab, 0xcd]));
        assert_eq!(unhex("ab\tcd"), Some(vec![0xab, 0xcd]));
        assert_eq!(unhex("ab\x0bcd"), Some(vec![0xab, 0xcd]));
        assert_eq!(unhex("0xAB  cd"), Some(vec![0xab, 0xcd]));
        assert_eq!(unhex("a bcd"), None);
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("abg0"), None);
        assert_eq!(unhex(""), Some(vec![]));
    }
}
