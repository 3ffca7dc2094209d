//! The runtime's metadata (V14, what `state_getMetadata` returns from every subtensor
//! runtime): where calls, storage items, errors and transaction extensions are, and their
//! types.

use super::scale::{self, Value};
use super::ChainError;
use frame_metadata::v14::{
    PalletMetadata, RuntimeMetadataV14, StorageEntryMetadata, StorageEntryType,
};
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use parity_scale_codec::Decode;
use scale_info::form::PortableForm;
use scale_info::{PortableRegistry, TypeDef};

/// A runtime's metadata, decoded.
pub struct Metadata {
    inner: RuntimeMetadataV14,
}

/// A storage item's location and layout.
pub struct StorageItem<'a> {
    pub(crate) pallet: &'a str,
    pub(crate) entry: &'a StorageEntryMetadata<PortableForm>,
}

impl Metadata {
    /// Decodes the SCALE bytes of `state_getMetadata`.
    pub fn decode(bytes: &[u8]) -> Result<Metadata, ChainError> {
        let prefixed = RuntimeMetadataPrefixed::decode(&mut &bytes[..]).map_err(|e| {
            ChainError::Unsupported(format!("the runtime's metadata does not decode: {e}"))
        })?;
        match prefixed.1 {
            RuntimeMetadata::V14(inner) => Ok(Metadata { inner }),
            other => Err(ChainError::Unsupported(format!(
                "the runtime answers metadata version {}; this client reads version 14",
                other.version()
            ))),
        }
    }

    /// The type registry.
    pub fn types(&self) -> &PortableRegistry {
        &self.inner.types
    }

    fn pallet(&self, name: &str) -> Result<&PalletMetadata<PortableForm>, ChainError> {
        self.inner
            .pallets
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| ChainError::Unsupported(format!("the runtime has no pallet {name}")))
    }

    /// The encoded call `pallet.call(args)`: pallet index, call index, then each argument
    /// (by name) as the call's type says.
    pub fn call(
        &self,
        pallet: &str,
        call: &str,
        args: &[(&str, Value)],
    ) -> Result<Vec<u8>, ChainError> {
        let p = self.pallet(pallet)?;
        let calls = p
            .calls
            .as_ref()
            .ok_or_else(|| ChainError::Unsupported(format!("pallet {pallet} has no calls")))?;
        let TypeDef::Variant(variants) = &self.resolve(calls.ty.id)? else {
            return Err(ChainError::Unsupported(format!(
                "{pallet}'s calls are not an enum"
            )));
        };
        let variant = variants
            .variants
            .iter()
            .find(|v| v.name == call)
            .ok_or_else(|| {
                ChainError::Unsupported(format!("the runtime has no call {pallet}.{call}"))
            })?;
        let mut out = vec![p.index, variant.index];
        for field in &variant.fields {
            let name = field.name.as_deref().unwrap_or_default();
            let value = args.iter().find(|(n, _)| *n == name).ok_or_else(|| {
                ChainError::Unsupported(format!(
                    "{pallet}.{call} takes an argument `{name}` this client does not know"
                ))
            })?;
            scale::encode(self.types(), field.ty.id, &value.1, &mut out)?;
        }
        Ok(out)
    }

    fn resolve(&self, ty: u32) -> Result<TypeDef<PortableForm>, ChainError> {
        self.types()
            .resolve(ty)
            .map(|t| t.type_def.clone())
            .ok_or_else(|| ChainError::Unsupported(format!("type #{ty} is missing")))
    }

    /// A storage item.
    pub fn storage(&self, pallet: &str, item: &str) -> Result<StorageItem<'_>, ChainError> {
        let p = self.pallet(pallet)?;
        let entry = p
            .storage
            .as_ref()
            .and_then(|s| s.entries.iter().find(|e| e.name == item))
            .ok_or_else(|| {
                ChainError::Unsupported(format!("the runtime has no storage item {pallet}.{item}"))
            })?;
        Ok(StorageItem {
            pallet: &p.name,
            entry,
        })
    }

    /// The name and documentation of module error `error` of the pallet at `index`.
    pub fn module_error(&self, index: u8, error: u8) -> (String, String) {
        let found = self
            .inner
            .pallets
            .iter()
            .find(|p| p.index == index)
            .and_then(|p| {
                let ty = p.error.as_ref()?.ty.id;
                let TypeDef::Variant(v) = self.resolve(ty).ok()? else {
                    return None;
                };
                let variant = v.variants.into_iter().find(|x| x.index == error)?;
                Some((
                    format!("{}::{}", p.name, variant.name),
                    variant.docs.join(" ").trim().to_owned(),
                ))
            });
        found.unwrap_or_else(|| (format!("module error {index}/{error}"), String::new()))
    }

    /// The transaction extensions in order: name, the type of the bytes in the extrinsic,
    /// and the type of the bytes only signed.
    pub fn extensions(&self) -> impl Iterator<Item = (&str, u32, u32)> {
        self.inner
            .extrinsic
            .signed_extensions
            .iter()
            .map(|e| (e.identifier.as_str(), e.ty.id, e.additional_signed.id))
    }

    /// The extrinsic format version (4).
    pub fn extrinsic_version(&self) -> u8 {
        self.inner.extrinsic.version
    }

    /// The type parameter `name` (`Address`, `Signature`) of the extrinsic type.
    pub fn extrinsic_param(&self, name: &str) -> Result<u32, ChainError> {
        let ty = self.types().resolve(self.inner.extrinsic.ty.id);
        ty.and_then(|t| t.type_params.iter().find(|p| p.name == name))
            .and_then(|p| p.ty.as_ref())
            .map(|t| t.id)
            .ok_or_else(|| {
                ChainError::Unsupported(format!(
                    "the runtime's extrinsic type has no {name} parameter"
                ))
            })
    }
}

impl StorageItem<'_> {
    /// The storage key of this item at `keys` (one per hasher; none for a plain item).
    pub fn key(&self, metadata: &Metadata, keys: &[Value]) -> Result<Vec<u8>, ChainError> {
        let mut out = super::storage::prefix(self.pallet, &self.entry.name);
        if let StorageEntryType::Map { hashers, key, .. } = &self.entry.ty {
            let key_types: Vec<u32> = match metadata.resolve(key.id)? {
                TypeDef::Tuple(t) if hashers.len() > 1 => t.fields.iter().map(|f| f.id).collect(),
                _ => vec![key.id],
            };
            if keys.len() > hashers.len() {
                return Err(ChainError::Unsupported(format!(
                    "{}.{} takes {} keys, not {}",
                    self.pallet,
                    self.entry.name,
                    hashers.len(),
                    keys.len()
                )));
            }
            for ((hasher, ty), value) in hashers.iter().zip(key_types).zip(keys) {
                let mut encoded = Vec::new();
                scale::encode(metadata.types(), ty, value, &mut encoded)?;
                super::storage::hash(hasher, &encoded, &mut out);
            }
        }
        Ok(out)
    }

    /// The type of the item's values.
    pub fn value_type(&self) -> u32 {
        match &self.entry.ty {
            StorageEntryType::Plain(ty) => ty.id,
            StorageEntryType::Map { value, .. } => value.id,
        }
    }

    /// Decodes a stored value; `None` (absent) reads as the item's default, which is
    /// `None` again for an optional item without one.
    pub fn value(
        &self,
        metadata: &Metadata,
        bytes: Option<&[u8]>,
    ) -> Result<Option<Value>, ChainError> {
        let ty = self.value_type();
        let optional = matches!(
            self.entry.modifier,
            frame_metadata::v14::StorageEntryModifier::Optional
        );
        let bytes = match bytes {
            Some(b) => b,
            None if optional => return Ok(None),
            None => &self.entry.default[..],
        };
        scale::decode(metadata.types(), ty, &mut &bytes[..]).map(Some)
    }
}
