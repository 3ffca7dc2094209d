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

use crate::keys::ss58;
use crate::verify::nonces::Nonces;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which scheme signed a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// bittensor 11's `btauth/1`.
    Btauth,
    /// Epistula v2.
    Epistula,
}

/// The signature algorithm of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crypto {
    /// sr25519 (every bittensor hotkey by default).
    Sr25519,
    /// ed25519.
    Ed25519,
}

/// The verified sender of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The sender's hotkey (SS58).
    pub hotkey: String,
    /// The scheme that signed it.
    pub scheme: Scheme,
    /// The hotkey it was signed for, if bound to one.
    pub receiver: Option<String>,
    /// Its nonce in nanoseconds (Epistula's millisecond timestamp, scaled).
    pub nonce_ns: i64,
    /// The key's algorithm.
    pub crypto: Crypto,
}

/// Why a request failed authentication. The messages are bittensor 11's
/// (`bittensor.http_auth`) for btauth/1, and never echo the signature or payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// A header is missing or does not parse (400).
    Malformed(String),
    /// Signed for another hotkey, or for none where the endpoint requires one (401).
    WrongReceiver(String),
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
    /// Refuse requests not bound to this axon's hotkey (true, as btauth/1's default).
    pub require_receiver: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            max_age: Duration::from_secs(10),
            allowed_skew: Duration::from_secs(2),
            require_receiver: true,
        }
    }
}

/// Checks btauth/1 and Epistula requests for one axon hotkey, with one replay store.
pub struct Authenticator {
    hotkey: String,
    config: AuthConfig,
    nonces: Mutex<Nonces>,
}

/// What a request claims, scheme aside.
pub(crate) struct Claim<'a> {
    sender: &'a str,
    receiver: Option<&'a str>,
    nonce_ns: i64,
    crypto: Crypto,
    signature: Vec<u8>,
    message: Vec<u8>,
    /// What makes the request unique besides sender and nonce (Epistula's uuid).
    id: &'a str,
}

impl Authenticator {
    /// An authenticator for the axon hotkey `hotkey` with the default rules.
    pub fn new(hotkey: impl Into<String>) -> Self {
        Self::with_config(hotkey, AuthConfig::default())
    }

    /// An authenticator with `config`.
    pub fn with_config(hotkey: impl Into<String>, config: AuthConfig) -> Self {
        Authenticator {
            hotkey: hotkey.into(),
            config,
            nonces: Mutex::new(Nonces::default()),
        }
    }

    /// Requests remembered by the replay store.
    pub fn remembered(&self) -> usize {
        self.nonces.lock().unwrap().len()
    }

    /// Checks a claim in order: receiver, freshness, signature, replay.
    fn check(
        &self,
        claim: Claim<'_>,
        scheme: Scheme,
        now: SystemTime,
    ) -> Result<Caller, AuthError> {
        match claim.receiver {
            None if self.config.require_receiver => {
                return Err(AuthError::WrongReceiver(scheme_unbound(scheme)));
            }
            Some(r) if r != self.hotkey => {
                return Err(AuthError::WrongReceiver(
                    "request was signed for a different receiving hotkey".into(),
                ));
            }
            _ => {}
        }
        let now_ns = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as i128;
        let nonce = i128::from(claim.nonce_ns);
        let max_age = self.config.max_age.as_nanos() as i128;
        let skew = self.config.allowed_skew.as_nanos() as i128;
        if now_ns - nonce > max_age {
            return Err(AuthError::Stale(format!(
                "nonce is older than the {}s freshness window",
                seconds(self.config.max_age)
            )));
        }
        if nonce - now_ns > skew {
            return Err(AuthError::Stale(format!(
                "nonce is more than {}s in the future",
                seconds(self.config.allowed_skew)
            )));
        }
        let public = ss58::decode(claim.sender).map_err(|_| {
            AuthError::Malformed("invalid hotkey address or signature encoding".into())
        })?;
        if !signed(claim.crypto, &public, &claim.message, &claim.signature)? {
            return Err(AuthError::BadSignature(
                "signature does not verify against the claimed hotkey".into(),
            ));
        }
        let oldest = (now_ns - max_age - skew).clamp(i64::MIN.into(), i64::MAX.into()) as i64;
        let mut nonces = self.nonces.lock().unwrap();
        let key = nonces.key(claim.sender, Some(claim.id), claim.nonce_ns);
        if !nonces.insert(key, claim.nonce_ns, oldest) {
            return Err(AuthError::Replayed(match scheme {
                Scheme::Btauth => "this nonce was already accepted from this hotkey".into(),
                Scheme::Epistula => "this uuid was already accepted from this hotkey".into(),
            }));
        }
        Ok(Caller {
            hotkey: claim.sender.to_owned(),
            scheme,
            receiver: claim.receiver.map(str::to_owned),
            nonce_ns: claim.nonce_ns,
            crypto: claim.crypto,
        })
    }
}

fn scheme_unbound(scheme: Scheme) -> String {
    match scheme {
        Scheme::Btauth => {
            "missing X-Bittensor-Receiver: this server requires receiver-bound requests".into()
        }
        Scheme::Epistula => {
            "missing Epistula-Signed-For: this server requires receiver-bound requests".into()
        }
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
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The signature over `message`, plain or `<Bytes>`-wrapped (as bittensor's verifier
/// accepts both); a signature of the wrong length is malformed, and a key or signature
/// that is not a valid point simply does not verify (as in Python).
fn signed(
    crypto: Crypto,
    public: &[u8; 32],
    message: &[u8],
    signature: &[u8],
) -> Result<bool, AuthError> {
    let malformed = || AuthError::Malformed("invalid hotkey address or signature encoding".into());
    let signature: [u8; 64] = signature.try_into().map_err(|_| malformed())?;
    let mut wrapped = Vec::with_capacity(message.len() + 15);
    wrapped.extend_from_slice(b"<Bytes>");
    wrapped.extend_from_slice(message);
    wrapped.extend_from_slice(b"</Bytes>");
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
            ok(message) || ok(&wrapped)
        }
        Crypto::Ed25519 => {
            let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(public) else {
                return Ok(false);
            };
            let sig = ed25519_dalek::Signature::from_bytes(&signature);
            key.verify_strict(message, &sig).is_ok() || key.verify_strict(&wrapped, &sig).is_ok()
        }
    })
}

/// Hex with or without `0x`.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    crate::keys::hex_bytes(text.strip_prefix("0x").unwrap_or(text)).ok()
}
