//! SS58 addresses: Substrate's base58 account encoding of an sr25519 public key.

use blake2::{Blake2b512, Digest};

/// The generic Substrate network prefix, which Bittensor uses.
pub const BITTENSOR_PREFIX: u8 = 42;

/// The checksum: the first two bytes of blake2b-512 over `SS58PRE` and the payload.
fn checksum(payload: &[u8]) -> [u8; 2] {
    let mut hasher = Blake2b512::new();
    hasher.update(b"SS58PRE");
    hasher.update(payload);
    let hash = hasher.finalize();
    [hash[0], hash[1]]
}

/// Encodes a public key as an SS58 address with prefix 42.
pub(crate) fn encode(public: &[u8; 32]) -> String {
    let mut raw = Vec::with_capacity(35);
    raw.push(BITTENSOR_PREFIX);
    raw.extend_from_slice(public);
    let sum = checksum(&raw);
    raw.extend_from_slice(&sum);
    bs58::encode(raw).into_string()
}

/// Decodes an SS58 address into its network prefix and 32-byte public key, checking the
/// checksum. Any network prefix is accepted, as Python's `Keypair(ss58_address=..)` does.
fn decode_prefixed(address: &str) -> Result<(u16, usize, [u8; 32]), String> {
    let raw = bs58::decode(address)
        .into_vec()
        .map_err(|e| format!("Invalid SS58 address: {e}"))?;
    // One byte for prefixes 0-63, two for 64-16383 (their bits interleaved, as the SS58
    // spec lays them out).
    let (prefix, prefix_len) = match raw.as_slice() {
        [b0 @ 0..=63, ..] => (u16::from(*b0), 1),
        [b0 @ 64..=127, b1, ..] => {
            let lower = (u16::from(*b0 & 0b0011_1111) << 2) | u16::from(*b1 >> 6);
            (lower | (u16::from(*b1 & 0b0011_1111) << 8), 2)
        }
        _ => return Err("Invalid SS58 address: Length is bad".into()),
    };
    if raw.len() != prefix_len + 32 + 2 {
        return Err("Invalid SS58 address: Length is bad".into());
    }
    let (body, sum) = raw.split_at(prefix_len + 32);
    if checksum(body) != *sum {
        return Err("Invalid SS58 address: Invalid checksum".into());
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&body[prefix_len..]);
    Ok((prefix, prefix_len, key))
}

/// Decodes an SS58 address of any network prefix into its 32-byte public key.
pub(crate) fn decode(address: &str) -> Result<[u8; 32], String> {
    decode_prefixed(address).map(|(_, _, key)| key)
}

/// Why an address is not a hotkey as this axon reads one from the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not an SS58 address at all (bittensor_wallet's message).
    Invalid(String),
    /// A valid address of another network prefix (or prefix 42 in the two-byte form):
    /// the same key has another spelling, `canonical`.
    OtherPrefix { prefix: u16, canonical: String },
}

/// The public key of `address` when it is spelled as Bittensor spells it: SS58 with the
/// one-byte network prefix 42. Base58 is one-to-one on byte strings without leading zero
/// bytes, so each key has exactly one such spelling; every other spelling of the same key
/// (another prefix, the two-byte form) is [`Refused::OtherPrefix`], naming the canonical
/// one. Python's `Keypair(ss58_address=..)` accepts every prefix and keeps the string.
pub(crate) fn bittensor(address: &str) -> Result<[u8; 32], Refused> {
    match decode_prefixed(address) {
        Ok((prefix, 1, key)) if prefix == u16::from(BITTENSOR_PREFIX) => Ok(key),
        Ok((prefix, _, key)) => Err(Refused::OtherPrefix {
            prefix,
            canonical: encode(&key),
        }),
        Err(e) => Err(Refused::Invalid(e)),
    }
}

/// The network prefix and Bittensor spelling of `address` when it is a valid address of
/// another prefix (see [`bittensor`]); `None` when it is spelled as Bittensor spells it, or
/// is no address at all. Costs one base58 decode when the first byte is 42, as it is for
/// every address a Bittensor client sends (the checksum is left to the signature check).
pub(crate) fn other_prefix(address: &str) -> Option<(u16, String)> {
    let mut raw = [0u8; 40];
    match bs58::decode(address).onto(&mut raw[..]) {
        Ok(35) if raw[0] == BITTENSOR_PREFIX => None,
        _ => match bittensor(address) {
            Err(Refused::OtherPrefix { prefix, canonical }) => Some((prefix, canonical)),
            _ => None,
        },
    }
}

/// The Bittensor spelling (SS58, network prefix 42) of an address given in any network's
/// SS58 format: for hotkeys an operator configures (a deny list, an allow list), so that
/// they compare equal to the addresses the axon accepts from the network, which are always
/// spelled this way.
///
/// ```
/// // //Alice under the Polkadot prefix (0), and as Bittensor spells her.
/// let alice = axon::keys::canonical_ss58("15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5").unwrap();
/// assert_eq!(alice, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
/// assert!(axon::keys::canonical_ss58("5Bad").is_err());
/// ```
pub fn canonical(address: &str) -> Result<String, String> {
    match bittensor(address) {
        Ok(_) => Ok(address.to_owned()),
        Err(Refused::OtherPrefix { canonical, .. }) => Ok(canonical),
        Err(Refused::Invalid(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::{bittensor, canonical, checksum, decode, encode, other_prefix, Refused};

    /// `key` under `prefix`, one byte below 64 and two from 64 (or when `two` asks for it).
    fn encode_with(prefix: u16, key: &[u8; 32], two: bool) -> String {
        let mut raw = match (prefix, two) {
            (0..=63, false) => vec![prefix as u8],
            _ => vec![
                ((prefix & 0b1111_1100) >> 2) as u8 | 0b0100_0000,
                ((prefix >> 8) as u8) | ((prefix & 0b11) << 6) as u8,
            ],
        };
        raw.extend_from_slice(key);
        let sum = checksum(&raw);
        raw.extend_from_slice(&sum);
        bs58::encode(raw).into_string()
    }

    #[test]
    fn every_other_spelling_of_a_key_names_the_bittensor_one() {
        let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
        let key = decode(alice).unwrap();
        assert_eq!(bittensor(alice), Ok(key));
        // The Polkadot spelling, a well-known constant of Substrate's docs.
        assert_eq!(
            encode_with(0, &key, false),
            "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5"
        );
        for (prefix, two) in [
            (0, false),
            (2, false),
            (63, false),
            (64, true),
            (100, true),
            (16383, true),
            (42, true),
        ] {
            let other = encode_with(prefix, &key, two);
            assert_eq!(decode(&other), Ok(key), "{prefix}: any prefix decodes");
            assert_eq!(
                bittensor(&other),
                Err(Refused::OtherPrefix {
                    prefix,
                    canonical: alice.into()
                }),
                "{other}"
            );
            assert_eq!(canonical(&other).as_deref(), Ok(alice));
        }
        assert_eq!(canonical(alice).as_deref(), Ok(alice));
        assert_eq!(other_prefix(alice), None);
        assert_eq!(
            other_prefix(&encode_with(2, &key, false)),
            Some((2, alice.to_owned()))
        );
        assert_eq!(other_prefix("5Bad"), None);
        assert!(matches!(bittensor("5Bad"), Err(Refused::Invalid(_))));
        assert!(canonical("5Bad").is_err());
    }

    #[test]
    fn alice() {
        // `Keypair.create_from_uri("//Alice").public_key.hex()` in bittensor_wallet.
        let key = decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY").unwrap();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        );
        assert_eq!(
            encode(&key),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
    }

    #[test]
    fn refusals_name_the_problem() {
        assert_eq!(
            decode("5Bad").unwrap_err(),
            "Invalid SS58 address: Length is bad"
        );
        assert_eq!(
            decode("").unwrap_err(),
            "Invalid SS58 address: Length is bad"
        );
        // Alice with the last character changed: same length, wrong checksum.
        assert_eq!(
            decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ").unwrap_err(),
            "Invalid SS58 address: Invalid checksum"
        );
        assert!(decode("0OIl")
            .unwrap_err()
            .starts_with("Invalid SS58 address: "));
    }
}
