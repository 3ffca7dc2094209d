//! Signed extrinsics: the call, the transaction extensions the runtime's metadata lists,
//! signed with sr25519 by the hotkey (or any key).

use super::metadata::Metadata;
use super::scale::{self, Value};
use super::storage::blake2_256;
use super::ChainError;
use crate::keys::Keypair;
use parity_scale_codec::{Compact, Encode};

/// What the extensions sign beyond the call: the runtime, the chain and the account.
pub struct Signing<'a> {
    pub(crate) metadata: &'a Metadata,
    pub(crate) spec_version: u32,
    pub(crate) tx_version: u32,
    pub(crate) genesis: [u8; 32],
    pub(crate) nonce: u64,
}

/// The bytes an extension puts in the extrinsic, and the bytes it only signs.
fn extension(name: &str, s: &Signing<'_>) -> Option<(Value, Value)> {
    let none = || Value::tuple([]);
    Some(match name {
        "CheckSpecVersion" => (none(), Value::U(s.spec_version.into())),
        "CheckTxVersion" => (none(), Value::U(s.tx_version.into())),
        "CheckGenesis" => (none(), Value::Bytes(s.genesis.to_vec())),
        // Immortal: the nonce already makes the transaction single-use.
        "CheckMortality" | "CheckEra" => (
            Value::variant("Immortal", []),
            Value::Bytes(s.genesis.to_vec()),
        ),
        "CheckNonce" => (Value::U(s.nonce.into()), none()),
        "ChargeTransactionPayment" => (Value::U(0), none()),
        "ChargeAssetTxPayment" => (
            Value::Composite(vec![
                (Some("tip".into()), Value::U(0)),
                (Some("asset_id".into()), Value::variant("None", [])),
            ]),
            none(),
        ),
        "CheckMetadataHash" => (
            Value::Composite(vec![(Some("mode".into()), Value::variant("Disabled", []))]),
            Value::variant("None", []),
        ),
        _ => return None,
    })
}

/// The signed extrinsic of `call` by `signer`, ready for `author_submitAndWatchExtrinsic`.
pub fn sign(call: &[u8], signer: &Keypair, s: &Signing<'_>) -> Result<Vec<u8>, ChainError> {
    let types = s.metadata.types();
    let mut extra = Vec::new();
    let mut additional = Vec::new();
    for (name, extra_ty, additional_ty) in s.metadata.extensions() {
        match extension(name, s) {
            Some((e, a)) => {
                scale::encode(types, extra_ty, &e, &mut extra)?;
                scale::encode(types, additional_ty, &a, &mut additional)?;
            }
            // A runtime's own extensions carry no bytes (subtensor's do not); one that does
            // is one this client cannot fill.
            None if scale::zero_sized(types, extra_ty) && scale::zero_sized(types, additional_ty) => {}
            None => {
                return Err(ChainError::Unsupported(format!(
                    "the runtime asks for transaction extension {name}, which carries data this client does not know how to fill"
                )))
            }
        }
    }
    let mut payload = Vec::with_capacity(call.len() + extra.len() + additional.len());
    payload.extend(call);
    payload.extend(&extra);
    payload.extend(&additional);
    let signature = if payload.len() > 256 {
        signer.sign_bytes(&blake2_256(&payload))
    } else {
        signer.sign_bytes(&payload)
    };

    if s.metadata.extrinsic_version() != 4 {
        return Err(ChainError::Unsupported(format!(
            "the runtime's extrinsic format is version {}; this client signs version 4",
            s.metadata.extrinsic_version()
        )));
    }
    let mut body = vec![0x80 | 4];
    let address = Value::variant("Id", [Value::Bytes(signer.public().to_vec())]);
    scale::encode(
        types,
        s.metadata.extrinsic_param("Address")?,
        &address,
        &mut body,
    )?;
    // MultiSignature's variant for the signer's key.
    let variant = match signer.crypto() {
        crate::keys::Crypto::Sr25519 => "Sr25519",
        crate::keys::Crypto::Ed25519 => "Ed25519",
    };
    let sig = Value::variant(variant, [Value::Bytes(signature.to_vec())]);
    scale::encode(
        types,
        s.metadata.extrinsic_param("Signature")?,
        &sig,
        &mut body,
    )?;
    body.extend(extra);
    body.extend(call);
    let mut out = Compact(body.len() as u32).encode();
    out.extend(body);
    Ok(out)
}
