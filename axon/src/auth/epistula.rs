//! Epistula v2, the signed HTTP of many subnets: `{sha256 of body}.{uuid}.{timestamp}.{signed
//! for}`, sr25519, the `Epistula-*` headers. The `Epistula-Secret-Signature-*` headers differ
//! between implementations and are ignored.

use super::{
    sha256_hex, unhex, AuthError, Authenticator, Caller, Claims, Crypto, Layout, Scheme, Signed,
};
use crate::keys::Keypair;
use std::time::{SystemTime, UNIX_EPOCH};

/// `Epistula-Version`'s value.
pub const VERSION: &str = "2";

/// The protocol version header.
pub const HEADER_VERSION: &str = "Epistula-Version";
/// The time of signing, in milliseconds.
pub const HEADER_TIMESTAMP: &str = "Epistula-Timestamp";
/// The request's uuid.
pub const HEADER_UUID: &str = "Epistula-Uuid";
/// The sender's address (not part of the signed message).
pub const HEADER_SIGNED_BY: &str = "Epistula-Signed-By";
/// The receiver's address (absent when unbound).
pub const HEADER_SIGNED_FOR: &str = "Epistula-Signed-For";
/// The signature, `0x` hex.
pub const HEADER_SIGNATURE: &str = "Epistula-Request-Signature";
/// Every header the signature depends on.
pub(crate) const HEADERS: [&str; 6] = [
    HEADER_VERSION,
    HEADER_TIMESTAMP,
    HEADER_UUID,
    HEADER_SIGNED_BY,
    HEADER_SIGNED_FOR,
    HEADER_SIGNATURE,
];

/// The signed message.
///
/// ```
/// let m = axon::auth::epistula::message(b"", "u-1", "1700000000000", None);
/// assert_eq!(m, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.u-1.1700000000000.");
/// ```
pub fn message(body: &[u8], uuid: &str, timestamp_ms: &str, signed_for: Option<&str>) -> String {
    format!(
        "{}.{uuid}.{timestamp_ms}.{}",
        sha256_hex(body),
        signed_for.unwrap_or("")
    )
}

/// Signs a request: the `Epistula-*` headers, with a fresh uuid and the time now unless
/// given. Epistula is sr25519 only: an ed25519 hotkey is refused.
///
/// ```
/// use axon::auth::epistula;
/// use axon::keys::{Crypto, Keypair};
///
/// let ed = Keypair::from_uri_with("//Bob", Crypto::Ed25519).unwrap();
/// let err = epistula::sign(&ed, b"", None, None, None).unwrap_err();
/// assert_eq!(err.to_string(), "Epistula is signed with sr25519 only, and this hotkey is ed25519: sign with btauth/1");
/// ```
pub fn sign(
    hotkey: &Keypair,
    body: &[u8],
    signed_for: Option<&str>,
    uuid: Option<&str>,
    timestamp_ms: Option<u128>,
) -> Result<Vec<(&'static str, String)>, Sr25519Only> {
    if hotkey.crypto() != Crypto::Sr25519 {
        return Err(Sr25519Only(hotkey.crypto()));
    }
    let uuid = uuid.map_or_else(crate::uuid::uuid4, str::to_owned);
    let timestamp = timestamp_ms
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
        })
        .to_string();
    let signature = hotkey.sign(message(body, &uuid, &timestamp, signed_for).as_bytes());
    let mut headers = vec![
        (HEADER_VERSION, VERSION.to_owned()),
        (HEADER_TIMESTAMP, timestamp),
        (HEADER_UUID, uuid),
        (HEADER_SIGNED_BY, hotkey.ss58().to_owned()),
        (HEADER_SIGNATURE, signature),
    ];
    if let Some(receiver) = signed_for {
        headers.push((HEADER_SIGNED_FOR, receiver.to_owned()));
    }
    Ok(headers)
}

/// A hotkey of another crypto type than sr25519, which Epistula does not sign with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sr25519Only(pub Crypto);

impl std::fmt::Display for Sr25519Only {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Epistula is signed with sr25519 only, and this hotkey is {}: sign with btauth/1",
            self.0
        )
    }
}

impl std::error::Error for Sr25519Only {}

impl Authenticator {
    /// Checks an Epistula v2 request with the rules btauth/1 uses: the receiver, the
    /// freshness window, the sr25519 signature (plain or `<Bytes>`-wrapped), then the uuid
    /// unseen from this hotkey within the window.
    pub fn epistula<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Caller, AuthError> {
        let signed = self.read_epistula(header, now)?;
        self.confirm(&signed, body)
    }

    /// The checks of [`epistula`](Self::epistula) that need no body: the headers' form,
    /// the receiver and freshness at `now`. [`confirm`](Self::confirm) does the rest.
    pub fn read_epistula<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        now: SystemTime,
    ) -> Result<Signed, AuthError> {
        let require = self.config().require_receiver;
        self.admit(read(header, now)?, require)
    }

    /// [`read_epistula`](Self::read_epistula) with the receiver rule of one endpoint.
    pub(crate) fn read_epistula_for<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        now: SystemTime,
        require_receiver: bool,
    ) -> Result<Signed, AuthError> {
        self.admit(read(header, now)?, require_receiver)
    }
}

/// The headers' form.
fn read<'h>(
    header: impl Fn(&str) -> Option<&'h str>,
    now: SystemTime,
) -> Result<Claims, AuthError> {
    let malformed = |m: &str| AuthError::Malformed(m.to_owned());
    if header(HEADER_VERSION).map(str::trim) != Some(VERSION) {
        return Err(malformed(&format!(
            "missing or unsupported {HEADER_VERSION} (expected '{VERSION}')"
        )));
    }
    let timestamp = header(HEADER_TIMESTAMP)
        .ok_or_else(|| malformed(&format!("missing {HEADER_TIMESTAMP}")))?;
    let ms: i64 = timestamp.trim().parse().map_err(|_| {
        malformed(&format!(
            "{HEADER_TIMESTAMP} is not a whole number of milliseconds"
        ))
    })?;
    let uuid = header(HEADER_UUID)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| malformed(&format!("missing {HEADER_UUID}")))?;
    let sender = header(HEADER_SIGNED_BY)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed(&format!("missing {HEADER_SIGNED_BY}")))?;
    let signature = header(HEADER_SIGNATURE)
        .ok_or_else(|| malformed(&format!("missing {HEADER_SIGNATURE}")))?;
    let signature =
        unhex(signature).ok_or_else(|| malformed(&format!("{HEADER_SIGNATURE} is not hex")))?;
    let receiver = header(HEADER_SIGNED_FOR).filter(|r| !r.is_empty());
    Ok(Claims {
        scheme: Scheme::Epistula,
        sender: sender.to_owned(),
        receiver: receiver.map(str::to_owned),
        nonce_ns: ms.saturating_mul(1_000_000),
        crypto: Crypto::Sr25519,
        signature,
        layout: Layout::Epistula {
            uuid: uuid.to_owned(),
            timestamp: timestamp.to_owned(),
        },
        checked_at: now,
    })
}
