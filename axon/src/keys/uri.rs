//! Substrate secret URIs on the development phrase: `//hard`, `/soft` junctions.

use super::{KeyError, KeyErrorKind};
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use schnorrkel::derive::{ChainCode, Derivation};
use schnorrkel::{ExpansionMode, MiniSecretKey};

/// The mini secret key of Substrate's development phrase "bottom drive obey lake curtain
/// smoke basket hold race lonely fit walk" (PBKDF2 of its entropy, as substrate-bip39 does).
const DEV_SEED: [u8; 32] = [
    0xfa, 0xc7, 0x95, 0x9d, 0xbf, 0xe7, 0x2f, 0x05, 0x2e, 0x5a, 0x0c, 0x3c, 0x8d, 0x65, 0x30, 0xf2,
    0x02, 0xb0, 0x2f, 0xd8, 0xf9, 0xf5, 0xca, 0x35, 0x80, 0xec, 0x8d, 0xeb, 0x77, 0x97, 0x47, 0x9e,
];

/// A junction's chain code: a number as 8 little-endian bytes, text SCALE-encoded (compact
/// length, bytes); hashed with blake2b-256 when longer than 32 bytes, zero-padded otherwise.
fn chain_code(junction: &str) -> ChainCode {
    let encoded = match junction.parse::<u64>() {
        Ok(n) => n.to_le_bytes().to_vec(),
        Err(_) => {
            let mut e = compact_len(junction.len());
            e.extend_from_slice(junction.as_bytes());
            e
        }
    };
    let mut code = [0u8; 32];
    if encoded.len() > 32 {
        code.copy_from_slice(&Blake2b::<U32>::digest(&encoded));
    } else {
        code[..encoded.len()].copy_from_slice(&encoded);
    }
    ChainCode(code)
}

/// SCALE's compact encoding of a length.
fn compact_len(n: usize) -> Vec<u8> {
    match n {
        0..=0x3f => vec![(n as u8) << 2],
        0x40..=0x3fff => ((n as u16) << 2 | 1).to_le_bytes().to_vec(),
        0x4000..=0x3fff_ffff => ((n as u32) << 2 | 2).to_le_bytes().to_vec(),
        _ => {
            let bytes = (n as u64).to_le_bytes();
            let len = 8 - bytes.iter().rev().take_while(|b| **b == 0).count();
            let mut out = vec![((len as u8 - 4) << 2) | 3];
            out.extend_from_slice(&bytes[..len]);
            out
        }
    }
}

/// The junctions of `uri` (hard or not, and their text), after the checks both schemes
/// share: it starts with a junction, has no password and no empty junction.
fn junctions(uri: &str) -> Result<Vec<(bool, &str)>, KeyError> {
    if !uri.starts_with('/') {
        return Err(KeyError::new(
            KeyErrorKind::BadUri,
            format!(
                "`{uri}` is not a development key URI: write one like `//Alice` (a wallet's hotkey is loaded from its keyfile instead)"
            ),
        ));
    }
    if uri.contains("///") {
        return Err(KeyError::new(
            KeyErrorKind::BadUri,
            format!("`{uri}`: passwords (`///`) in key URIs are not supported"),
        ));
    }
    let mut junctions = Vec::new();
    let mut rest = uri;
    while !rest.is_empty() {
        let hard = rest.starts_with("//");
        rest = &rest[if hard { 2 } else { 1 }..];
        let end = rest.find('/').unwrap_or(rest.len());
        let junction = &rest[..end];
        if junction.is_empty() {
            return Err(KeyError::new(
                KeyErrorKind::BadUri,
                format!("`{uri}` has an empty junction"),
            ));
        }
        rest = &rest[end..];
        junctions.push((hard, junction));
    }
    Ok(junctions)
}

/// Derives the sr25519 keypair of `uri`, which must start with a junction (`//` or `/`):
/// the phrase is the development phrase; passwords (`///`) and other phrases are refused.
pub(super) fn derive(uri: &str) -> Result<schnorrkel::Keypair, KeyError> {
    let mut pair = MiniSecretKey::from_bytes(&DEV_SEED)
        .map_err(|_| KeyError::new(KeyErrorKind::BadSecret, "development seed"))?
        .expand_to_keypair(ExpansionMode::Ed25519);
    for (hard, junction) in junctions(uri)? {
        let code = chain_code(junction);
        pair = if hard {
            pair.secret
                .hard_derive_mini_secret_key(Some(code), b"")
                .0
                .expand_to_keypair(ExpansionMode::Ed25519)
        } else {
            pair.derived_key_simple(code, []).0
        };
    }
    Ok(pair)
}

/// Derives the ed25519 key of `uri` as Substrate's `ed25519::Pair` does: the development
/// phrase's seed, then for each hard junction blake2b-256 of the SCALE encoding of
/// `("Ed25519HDKD", seed, chain code)`. ed25519 has no soft derivation.
pub(super) fn derive_ed25519(uri: &str) -> Result<ed25519_dalek::SigningKey, KeyError> {
    let mut seed = zeroize::Zeroizing::new(DEV_SEED);
    for (hard, junction) in junctions(uri)? {
        if !hard {
            return Err(KeyError::new(
                KeyErrorKind::BadUri,
                format!(
                    "`{uri}`: ed25519 keys have hard junctions (`//{junction}`) only, not soft ones (`/{junction}`)"
                ),
            ));
        }
        let mut hasher = Blake2b::<U32>::new();
        hasher.update(compact_len(b"Ed25519HDKD".len()));
        hasher.update(b"Ed25519HDKD");
        hasher.update(*seed);
        hasher.update(chain_code(junction).0);
        seed.copy_from_slice(&hasher.finalize());
    }
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}
