//! `btauth/1`, bittensor 11's signed HTTP (`bittensor.http_auth`): eight signed lines, the
//! `X-Bittensor-*` headers.

use super::{
    sha256_hex, unhex, AuthError, Authenticator, Caller, Claims, Crypto, Layout, Scheme, Signed,
};
use crate::keys::Keypair;
use std::time::{SystemTime, UNIX_EPOCH};

/// The protocol line.
pub const PROTOCOL: &str = "btauth/1";
/// `X-Bittensor-Version`'s value.
pub const VERSION: &str = "1";

/// The headers, named as bittensor 11's `http_auth` names them.
pub const HEADER_VERSION: &str = "X-Bittensor-Version";
/// The sender's address.
pub const HEADER_HOTKEY: &str = "X-Bittensor-Hotkey";
/// The receiver's address (absent when unbound).
pub const HEADER_RECEIVER: &str = "X-Bittensor-Receiver";
/// The nonce, in nanoseconds.
pub const HEADER_NONCE: &str = "X-Bittensor-Nonce";
/// The signature scheme (absent for sr25519).
pub const HEADER_CRYPTO: &str = "X-Bittensor-Crypto";
/// The signature, `0x` hex.
pub const HEADER_SIGNATURE: &str = "X-Bittensor-Signature";
/// Every header the signature depends on.
pub(crate) const HEADERS: [&str; 6] = [
    HEADER_VERSION,
    HEADER_HOTKEY,
    HEADER_RECEIVER,
    HEADER_NONCE,
    HEADER_CRYPTO,
    HEADER_SIGNATURE,
];

/// The exact bytes signed: `btauth/1`, the scheme, the uppercase method, the path with its
/// query as sent, the sha256 hex of the raw body, the nonce (ns), the sender and the
/// receiver (`-` when unbound), joined by newlines. As Python's `build_payload`.
///
/// ```
/// let p = axon::auth::btauth::payload("sr25519", "post", "/v1/x?a=1", b"", 7, "5Sender", None);
/// assert_eq!(
///     String::from_utf8(p).unwrap(),
///     "btauth/1\nsr25519\nPOST\n/v1/x?a=1\n\
///      e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n7\n5Sender\n-"
/// );
/// ```
pub fn payload(
    scheme: &str,
    method: &str,
    path: &str,
    body: &[u8],
    nonce_ns: i128,
    sender: &str,
    receiver: Option<&str>,
) -> Vec<u8> {
    [
        PROTOCOL,
        scheme,
        &method.to_uppercase(),
        path,
        &sha256_hex(body),
        &nonce_ns.to_string(),
        sender,
        receiver.unwrap_or("-"),
    ]
    .join("\n")
    .into_bytes()
}

/// Signs a request with `hotkey` (sr25519 or ed25519): the `X-Bittensor-*` headers, as
/// Python's `http_auth.sign` (a fresh nanosecond nonce unless one is given; `path` exactly
/// as it will be sent, query included; `X-Bittensor-Crypto` only for ed25519).
pub fn sign(
    hotkey: &Keypair,
    method: &str,
    path: &str,
    body: &[u8],
    receiver: Option<&str>,
    nonce_ns: Option<i128>,
) -> Vec<(&'static str, String)> {
    let nonce = nonce_ns.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as i128
    });
    let signed = payload(
        hotkey.crypto().name(),
        method,
        path,
        body,
        nonce,
        hotkey.ss58(),
        receiver,
    );
    let mut headers = vec![
        (HEADER_VERSION, VERSION.to_owned()),
        (HEADER_HOTKEY, hotkey.ss58().to_owned()),
        (HEADER_NONCE, nonce.to_string()),
        (HEADER_SIGNATURE, hotkey.sign(&signed)),
    ];
    if hotkey.crypto() != Crypto::Sr25519 {
        headers.push((HEADER_CRYPTO, hotkey.crypto().name().to_owned()));
    }
    if let Some(receiver) = receiver {
        headers.push((HEADER_RECEIVER, receiver.to_owned()));
    }
    headers
}

/// Python's `int(text)`: surrounding whitespace, a sign, digits with single underscores
/// between them.
fn python_int(text: &str) -> Option<i128> {
    let t = text.trim();
    let (negative, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut n: i128 = 0;
    for c in digits.chars().filter(|&c| c != '_') {
        let d = c.to_digit(10)?;
        // Saturate: a nonce this far out is outside every window anyway.
        n = n.saturating_mul(10).saturating_add(d.into());
    }
    Some(if negative { -n } else { n })
}

/// Python's `parse_crypto_type`.
fn crypto(text: &str) -> Option<Crypto> {
    let t = text.trim().to_lowercase();
    match t.as_str() {
        "sr25519" => Some(Crypto::Sr25519),
        "ed25519" => Some(Crypto::Ed25519),
        _ if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            match t.trim_start_matches('0') {
                "" => Some(Crypto::Ed25519),
                "1" => Some(Crypto::Sr25519),
                _ => None,
            }
        }
        _ => None,
    }
}

impl Authenticator {
    /// Checks a btauth/1 request: `header` looks a header up by name (case-insensitive),
    /// `method` and `path` (with its query) are the request's as received, `body` its raw
    /// bytes. The checks and messages of Python's `http_auth.verify`.
    pub fn btauth<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        method: &str,
        path: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Caller, AuthError> {
        let signed = self.read_btauth(header, method, path, now)?;
        self.confirm(&signed, body)
    }

    /// The checks of [`btauth`](Self::btauth) that need no body: the headers' form, the
    /// receiver and freshness at `now`. [`confirm`](Self::confirm) does the rest.
    pub fn read_btauth<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        method: &str,
        path: &str,
        now: SystemTime,
    ) -> Result<Signed, AuthError> {
        let require = self.config().require_receiver;
        self.admit(read(header, method, path, now)?, require)
    }

    /// [`read_btauth`](Self::read_btauth) with the receiver rule of one endpoint.
    pub(crate) fn read_btauth_for<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        method: &str,
        path: &str,
        now: SystemTime,
        require_receiver: bool,
    ) -> Result<Signed, AuthError> {
        self.admit(read(header, method, path, now)?, require_receiver)
    }
}

/// The headers' form, in Python's order of checks.
fn read<'h>(
    header: impl Fn(&str) -> Option<&'h str>,
    method: &str,
    path: &str,
    now: SystemTime,
) -> Result<Claims, AuthError> {
    let malformed = |m: &str| AuthError::Malformed(m.to_owned());
    if header(HEADER_VERSION) != Some(VERSION) {
        return Err(malformed(&format!(
            "missing or unsupported {HEADER_VERSION} (expected '{VERSION}')"
        )));
    }
    let sender = header(HEADER_HOTKEY)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed(&format!("missing {HEADER_HOTKEY}")))?;
    let nonce =
        header(HEADER_NONCE).ok_or_else(|| malformed(&format!("missing {HEADER_NONCE}")))?;
    let nonce = python_int(nonce)
        .ok_or_else(|| malformed(&format!("{HEADER_NONCE} is not a decimal integer")))?;
    let declared = header(HEADER_CRYPTO);
    let crypto = crypto(declared.unwrap_or("sr25519"))
        .ok_or_else(|| malformed(&format!("unsupported {HEADER_CRYPTO}")))?;
    let signature = header(HEADER_SIGNATURE)
        .ok_or_else(|| malformed(&format!("missing {HEADER_SIGNATURE}")))?;
    let signature =
        unhex(signature).ok_or_else(|| malformed(&format!("{HEADER_SIGNATURE} is not hex")))?;
    let receiver = header(HEADER_RECEIVER);
    Ok(Claims {
        scheme: Scheme::Btauth,
        sender: sender.to_owned(),
        receiver: receiver.map(str::to_owned),
        nonce_ns: nonce.clamp(i64::MIN.into(), i64::MAX.into()) as i64,
        crypto,
        signature,
        layout: Layout::Btauth {
            crypto: crypto.name(),
            declared: declared.is_some(),
            method: method.to_owned(),
            path: path.to_owned(),
            nonce,
        },
        checked_at: now,
    })
}
