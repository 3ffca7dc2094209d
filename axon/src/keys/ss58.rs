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

/// Decodes an SS58 address into its 32-byte public key, checking the checksum. Any network
/// prefix is accepted, as Python's `Keypair(ss58_address=..)` does.
pub(crate) fn decode(address: &str) -> Result<[u8; 32], String> {
    let raw = bs58::decode(address)
        .into_vec()
        .map_err(|e| format!("Invalid SS58 address: {e}"))?;
    let prefix_len = match raw.first() {
        Some(0..=63) => 1,
        Some(64..=127) => 2,
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
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

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
