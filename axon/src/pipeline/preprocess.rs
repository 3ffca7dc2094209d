//! Stage 3: the request's headers become the synapse, stamped with who serves it and who
//! called it (Python's `preprocess`).

use super::refusal::Refusal;
use super::route::Kind;
use crate::keys::ss58;
use crate::keys::Keypair;
use crate::metrics::Reason;
use crate::net::canonical;
use crate::uuid::uuid4;
use crate::wire::{excerpt, signing, HeaderLimits, BITTENSOR_VERSION};
use crate::Synapse;
use http::{HeaderMap, StatusCode};
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The longest dendrite hotkey and uuid read: an SS58 address is 48 characters, a hex
/// public key 66, the uuid Python's dendrite sends 36. Both are repeated in logs and in
/// refusal messages, so a longer one is refused here, before any of that.
pub(crate) const MAX_IDENTITY_LEN: usize = 128;

/// Reads the synapse a request's headers describe; 400 naming the offending header, or
/// a signed field no dendrite sends (see [`signed_fields`]).
pub(crate) fn read<K: Kind>(
    kind: &K,
    headers: &HeaderMap,
    limits: &HeaderLimits,
) -> Result<K::Synapse, Refusal> {
    let refuse = |e: String| {
        Refusal::new(
            Reason::BadHeaders,
            StatusCode::BAD_REQUEST,
            format!(
                "Improperly formatted request. Could not parse headers into synapse of type {}: {e}",
                kind.name()
            ),
        )
    };
    let synapse = kind
        .read_headers(headers, limits)
        .map_err(|e| refuse(e.to_string()))?;
    signed_fields(&synapse).map_err(refuse)?;
    Ok(synapse)
}

/// The dendrite's hotkey and uuid at most [`MAX_IDENTITY_LEN`] bytes, the hotkey not an
/// address of another network than Bittensor's, and the
/// `computed_body_hash` a SHA3-256 hex digest (64 hex digits), as every dendrite sends
/// them. They are signed, so nothing else could verify; refusing them here keeps the
/// refusals and log lines of forged requests small.
fn signed_fields<S: Synapse>(synapse: &S) -> Result<(), String> {
    let common = synapse.common();
    let dendrite = common.dendrite;
    for (header, value) in [
        ("bt_header_dendrite_hotkey", &dendrite.hotkey),
        ("bt_header_dendrite_uuid", &dendrite.uuid),
    ] {
        match value {
            Some(v) if v.len() > MAX_IDENTITY_LEN => {
                return Err(format!(
                    "header `{header}`: value is {} bytes, more than the {MAX_IDENTITY_LEN} a dendrite sends",
                    v.len()
                ))
            }
            _ => {}
        }
    }
    // One spelling per key: a valid address of another SS58 network prefix names a key
    // that has a Bittensor spelling, and every check after this one (blacklist, priority,
    // replay, logs, the handler's `dendrite.hotkey`) would otherwise see two identities.
    // A string that is no address at all is left to the signature check (401, Python's
    // message).
    if let Some(hotkey) = dendrite.hotkey.as_deref() {
        if let Some((prefix, canonical)) = ss58::other_prefix(hotkey) {
            return Err(format!(
                "header `bt_header_dendrite_hotkey`: an SS58 address of network prefix {prefix}; this axon reads Bittensor addresses (prefix 42) only: the same key is {canonical}"
            ));
        }
    }
    match common.computed_body_hash {
        Some(hash) if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Err(format!(
                "header `computed_body_hash`: `{}` is not a SHA3-256 digest (64 hex digits)",
                excerpt(hash)
            ))
        }
        _ => Ok(()),
    }
}

/// The serving side of every call: the axon's hotkey and its instance uuid.
pub(crate) struct Identity {
    keypair: Keypair,
    uuid: String,
}

impl Identity {
    /// The identity of an axon serving with `keypair`, under a fresh instance uuid.
    pub(crate) fn new(keypair: Keypair) -> Self {
        Identity {
            keypair,
            uuid: uuid4(),
        }
    }

    /// The axon's hotkey.
    #[cfg(test)]
    pub(crate) fn hotkey(&self) -> &str {
        self.keypair.ss58()
    }

    /// The instance uuid, sent in `bt_header_axon_uuid`.
    #[cfg(test)]
    pub(crate) fn uuid(&self) -> &str {
        &self.uuid
    }

    /// Fills the axon's terminal (version, uuid, a fresh nonce, status 100, its own hotkey)
    /// and the dendrite's address as the connection shows it.
    ///
    /// Unlike Python, the axon hotkey is the axon's own, not the one the caller addressed:
    /// the signature check names the real receiver, so a request for another hotkey fails.
    pub(crate) fn stamp<S: Synapse>(&self, synapse: &mut S, peer: SocketAddr) {
        let c = synapse.common_mut();
        c.axon.version = Some(BITTENSOR_VERSION);
        c.axon.uuid = Some(self.uuid.clone());
        c.axon.nonce = Some(now_ns());
        c.axon.status_code = Some(100);
        c.axon.hotkey = Some(self.keypair.ss58().to_owned());
        c.dendrite.ip = Some(canonical(peer.ip()).to_string());
        c.dendrite.port = Some(i64::from(peer.port()));
    }

    /// Signs the response as Python's axon does, over
    /// `{axon nonce}.{dendrite hotkey}.{axon hotkey}.{axon uuid}`, into `axon.signature`.
    pub(crate) fn sign<S: Synapse>(&self, synapse: &mut S) {
        let c = synapse.common_mut();
        let message = signing::response_message(
            c.axon.nonce,
            c.dendrite.hotkey.as_deref(),
            c.axon.hotkey.as_deref(),
            c.axon.uuid.as_deref(),
        );
        c.axon.signature = Some(self.keypair.sign(message.as_bytes()));
    }
}

/// Python's `time.time_ns()`.
fn now_ns() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BaseSynapse;

    #[test]
    fn stamp_fills_both_terminals_and_sign_names_the_receiver() {
        let id = Identity::new(Keypair::from_uri("//Bob").unwrap());
        let mut s = BaseSynapse::default();
        s.dendrite.hotkey = Some("5Dendrite".into());
        id.stamp(&mut s, "[::ffff:10.1.2.3]:4567".parse().unwrap());
        assert_eq!(s.dendrite.ip.as_deref(), Some("10.1.2.3"));
        assert_eq!(s.dendrite.port, Some(4567));
        assert_eq!(s.axon.hotkey.as_deref(), Some(id.hotkey()));
        assert_eq!(s.axon.uuid.as_deref(), Some(id.uuid()));
        assert_eq!(
            (s.axon.status_code, s.axon.version),
            (Some(100), Some(BITTENSOR_VERSION))
        );
        assert!(s.axon.nonce.unwrap() > 1_700_000_000_000_000_000);
        assert_eq!(s.axon.signature, None);
        id.sign(&mut s);
        let sig = s.axon.signature.clone().unwrap();
        assert!(sig.starts_with("0x") && sig.len() == 130, "{sig}");
    }

    #[test]
    fn header_errors_name_the_synapse_and_the_header() {
        let mut map = HeaderMap::new();
        map.insert("timeout", "soon".parse().unwrap());
        let kind = super::super::Compiled::<BaseSynapse>::new();
        let err = read(&kind, &map, &HeaderLimits::default()).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.message.starts_with("Improperly formatted request. Could not parse headers into synapse of type Synapse: header `timeout`"), "{}", err.message);
    }
}
