//! SCALE values read and written by the runtime's own type registry: call arguments,
//! transaction extensions, storage keys and values, events. Nothing here knows a subtensor
//! type by heart; the layouts come from the metadata, so a runtime upgrade that keeps the
//! names keeps this working.

use super::ChainError;
use parity_scale_codec::{Compact, Decode, Encode};
use scale_info::form::PortableForm;
use scale_info::{Field, PortableRegistry, TypeDef, TypeDefPrimitive};

/// A value of any runtime type, as the registry describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `bool`.
    Bool(bool),
    /// Any unsigned integer (compact or not), `char` as its code point.
    U(u128),
    /// Any signed integer.
    I(i128),
    /// `str`.
    Str(String),
    /// A sequence or array of `u8`, and a bit sequence's raw bytes.
    Bytes(Vec<u8>),
    /// Any other sequence, array or tuple.
    Seq(Vec<Value>),
    /// A struct: its fields in order, named or not.
    Composite(Vec<(Option<String>, Value)>),
    /// An enum: the variant's name and its fields.
    Variant(String, Vec<(Option<String>, Value)>),
    /// Bytes already encoded as the type asks (a call inside `Sudo.sudo`, say); written
    /// as they are.
    Raw(Vec<u8>),
}

impl Value {
    /// A struct with unnamed fields.
    pub fn tuple(values: impl IntoIterator<Item = Value>) -> Value {
        Value::Composite(values.into_iter().map(|v| (None, v)).collect())
    }

    /// An enum variant with unnamed fields.
    pub fn variant(name: &str, values: impl IntoIterator<Item = Value>) -> Value {
        Value::Variant(
            name.to_owned(),
            values.into_iter().map(|v| (None, v)).collect(),
        )
    }

    /// Looks through single-field wrappers (`AccountId32([u8; 32])`, `Compact<T>` structs).
    pub fn inner(&self) -> &Value {
        match self {
            Value::Composite(fields) if fields.len() == 1 => fields[0].1.inner(),
            other => other,
        }
    }

    /// The named field of a struct (or of an enum variant).
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Composite(fields) | Value::Variant(_, fields) => fields
                .iter()
                .find(|(n, _)| n.as_deref() == Some(name))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// An unsigned integer, through wrappers.
    pub fn as_u128(&self) -> Option<u128> {
        match self.inner() {
            Value::U(n) => Some(*n),
            Value::I(n) => u128::try_from(*n).ok(),
            _ => None,
        }
    }

    /// Bytes, through wrappers.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self.inner() {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The items of a sequence (bytes read as numbers).
    pub fn items(&self) -> Vec<Value> {
        match self.inner() {
            Value::Seq(items) => items.clone(),
            Value::Bytes(b) => b.iter().map(|&x| Value::U(x.into())).collect(),
            _ => Vec::new(),
        }
    }

    /// `Some(x)` for `Option::Some(x)`, `None` for `Option::None` and anything else.
    pub fn some(&self) -> Option<&Value> {
        match self {
            Value::Variant(name, fields) if name == "Some" && fields.len() == 1 => {
                Some(&fields[0].1)
            }
            _ => None,
        }
    }
}

fn mismatch(ty: u32, registry: &PortableRegistry, value: &Value) -> ChainError {
    let path = registry
        .resolve(ty)
        .map(|t| t.path.segments.join("::"))
        .unwrap_or_default();
    ChainError::Unsupported(format!(
        "cannot encode {value:?} as the runtime's type #{ty} {path}"
    ))
}

fn resolve(registry: &PortableRegistry, ty: u32) -> Result<&TypeDef<PortableForm>, ChainError> {
    registry
        .resolve(ty)
        .map(|t| &t.type_def)
        .ok_or_else(|| ChainError::Unsupported(format!("type #{ty} is not in the metadata")))
}

/// Encodes `value` as the registry's type `ty`.
pub fn encode(
    registry: &PortableRegistry,
    ty: u32,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), ChainError> {
    if let Value::Raw(bytes) = value {
        out.extend(bytes);
        return Ok(());
    }
    match resolve(registry, ty)? {
        TypeDef::Composite(c) => encode_fields(registry, &c.fields, value, ty, out),
        TypeDef::Tuple(t) => {
            let items: Vec<Value> = match value {
                Value::Seq(items) => items.clone(),
                Value::Composite(fields) => fields.iter().map(|(_, v)| v.clone()).collect(),
                _ if t.fields.is_empty() => Vec::new(),
                _ => return Err(mismatch(ty, registry, value)),
            };
            if items.len() != t.fields.len() {
                return Err(mismatch(ty, registry, value));
            }
            for (field, item) in t.fields.iter().zip(&items) {
                encode(registry, field.id, item, out)?;
            }
            Ok(())
        }
        TypeDef::Variant(v) => {
            let Value::Variant(name, fields) = value else {
                return Err(mismatch(ty, registry, value));
            };
            let variant = v
                .variants
                .iter()
                .find(|x| &x.name == name)
                .ok_or_else(|| mismatch(ty, registry, value))?;
            out.push(variant.index);
            encode_fields(
                registry,
                &variant.fields,
                &Value::Composite(fields.clone()),
                ty,
                out,
            )
        }
        TypeDef::Sequence(s) => {
            let items = sequence_items(registry, s.type_param.id, value)?;
            Compact(items.len() as u32).encode_to(out);
            encode_items(registry, s.type_param.id, &items, value, out)
        }
        TypeDef::Array(a) => {
            let items = sequence_items(registry, a.type_param.id, value)?;
            if items.len() != a.len as usize {
                return Err(mismatch(ty, registry, value));
            }
            encode_items(registry, a.type_param.id, &items, value, out)
        }
        TypeDef::Primitive(p) => encode_primitive(p, value)
            .ok_or_else(|| mismatch(ty, registry, value))
            .map(|b| out.extend(b)),
        TypeDef::Compact(c) => {
            let n = value
                .as_u128()
                .ok_or_else(|| mismatch(ty, registry, value))?;
            let _ = c;
            Compact(n).encode_to(out);
            Ok(())
        }
        TypeDef::BitSequence(_) => Err(mismatch(ty, registry, value)),
    }
}

fn sequence_items(
    registry: &PortableRegistry,
    item: u32,
    value: &Value,
) -> Result<Vec<Value>, ChainError> {
    match value {
        Value::Bytes(_) | Value::Seq(_) => Ok(value.items()),
        Value::Composite(fields) if fields.len() == 1 => {
            sequence_items(registry, item, &fields[0].1)
        }
        _ => Err(mismatch(item, registry, value)),
    }
}

fn encode_items(
    registry: &PortableRegistry,
    item: u32,
    items: &[Value],
    _whole: &Value,
    out: &mut Vec<u8>,
) -> Result<(), ChainError> {
    for v in items {
        encode(registry, item, v, out)?;
    }
    Ok(())
}

fn encode_fields(
    registry: &PortableRegistry,
    fields: &[Field<PortableForm>],
    value: &Value,
    ty: u32,
    out: &mut Vec<u8>,
) -> Result<(), ChainError> {
    // A one-field struct takes its field's value directly (`AccountId32` from bytes).
    if fields.len() == 1 && !matches!(value, Value::Composite(f) if f.len() == 1) {
        return encode(registry, fields[0].ty.id, value, out);
    }
    let given: Vec<(Option<String>, Value)> = match value {
        Value::Composite(f) => f.clone(),
        _ if fields.is_empty() => Vec::new(),
        _ => return Err(mismatch(ty, registry, value)),
    };
    if given.len() != fields.len() {
        return Err(mismatch(ty, registry, value));
    }
    for (i, field) in fields.iter().enumerate() {
        let v = match &field.name {
            Some(name) => given
                .iter()
                .find(|(n, _)| n.as_deref() == Some(name.as_str()))
                .map(|(_, v)| v)
                .unwrap_or(&given[i].1),
            None => &given[i].1,
        };
        encode(registry, field.ty.id, v, out)?;
    }
    Ok(())
}

fn encode_primitive(p: &TypeDefPrimitive, value: &Value) -> Option<Vec<u8>> {
    let u = || value.as_u128();
    Some(match (p, value.inner()) {
        (TypeDefPrimitive::Bool, Value::Bool(b)) => vec![u8::from(*b)],
        (TypeDefPrimitive::Str, Value::Str(s)) => s.encode(),
        (TypeDefPrimitive::U8, _) => u8::try_from(u()?).ok()?.encode(),
        (TypeDefPrimitive::U16, _) => u16::try_from(u()?).ok()?.encode(),
        (TypeDefPrimitive::U32, _) | (TypeDefPrimitive::Char, _) => {
            u32::try_from(u()?).ok()?.encode()
        }
        (TypeDefPrimitive::U64, _) => u64::try_from(u()?).ok()?.encode(),
        (TypeDefPrimitive::U128, _) => u()?.encode(),
        (TypeDefPrimitive::I8, Value::I(n)) => i8::try_from(*n).ok()?.encode(),
        (TypeDefPrimitive::I16, Value::I(n)) => i16::try_from(*n).ok()?.encode(),
        (TypeDefPrimitive::I32, Value::I(n)) => i32::try_from(*n).ok()?.encode(),
        (TypeDefPrimitive::I64, Value::I(n)) => i64::try_from(*n).ok()?.encode(),
        (TypeDefPrimitive::I128, Value::I(n)) => n.encode(),
        _ => return None,
    })
}

/// Decodes one value of the registry's type `ty` from the front of `input`.
pub fn decode(
    registry: &PortableRegistry,
    ty: u32,
    input: &mut &[u8],
) -> Result<Value, ChainError> {
    decode_depth(registry, ty, input, 0)
}

fn short(what: &str) -> ChainError {
    ChainError::Unsupported(format!("the chain's bytes ended inside {what}"))
}

fn decode_depth(
    registry: &PortableRegistry,
    ty: u32,
    input: &mut &[u8],
    depth: u32,
) -> Result<Value, ChainError> {
    if depth > 64 {
        return Err(ChainError::Unsupported(format!(
            "type #{ty} nests deeper than 64"
        )));
    }
    let d = depth + 1;
    Ok(match resolve(registry, ty)? {
        TypeDef::Composite(c) => Value::Composite(decode_fields(registry, &c.fields, input, d)?),
        TypeDef::Tuple(t) => Value::Seq(
            t.fields
                .iter()
                .map(|f| decode_depth(registry, f.id, input, d))
                .collect::<Result<_, _>>()?,
        ),
        TypeDef::Variant(v) => {
            let index = u8::decode(input).map_err(|_| short("an enum"))?;
            let variant = v
                .variants
                .iter()
                .find(|x| x.index == index)
                .ok_or_else(|| {
                    ChainError::Unsupported(format!("enum type #{ty} has no variant {index}"))
                })?;
            Value::Variant(
                variant.name.clone(),
                decode_fields(registry, &variant.fields, input, d)?,
            )
        }
        TypeDef::Sequence(s) => {
            let len = Compact::<u32>::decode(input)
                .map_err(|_| short("a length"))?
                .0 as usize;
            decode_items(registry, s.type_param.id, len, input, d)?
        }
        TypeDef::Array(a) => decode_items(registry, a.type_param.id, a.len as usize, input, d)?,
        TypeDef::Primitive(p) => decode_primitive(p, input)?,
        TypeDef::Compact(_) => Value::U(
            Compact::<u128>::decode(input)
                .map_err(|_| short("a compact"))?
                .0,
        ),
        TypeDef::BitSequence(_) => {
            let bits = Compact::<u32>::decode(input).map_err(|_| short("bits"))?.0 as usize;
            let bytes = bits.div_ceil(8);
            if input.len() < bytes {
                return Err(short("bits"));
            }
            let (head, rest) = input.split_at(bytes);
            *input = rest;
            Value::Bytes(head.to_vec())
        }
    })
}

fn decode_items(
    registry: &PortableRegistry,
    item: u32,
    len: usize,
    input: &mut &[u8],
    depth: u32,
) -> Result<Value, ChainError> {
    if matches!(
        resolve(registry, item)?,
        TypeDef::Primitive(TypeDefPrimitive::U8)
    ) {
        if input.len() < len {
            return Err(short("bytes"));
        }
        let (head, rest) = input.split_at(len);
        *input = rest;
        return Ok(Value::Bytes(head.to_vec()));
    }
    // Every item takes at least a byte, except zero-sized ones: bound the allocation, and
    // the work a node could ask for with a huge count of nothing.
    if len > input.len() && zero_sized(registry, item) && len > 1 << 16 {
        return Err(ChainError::Unsupported(format!(
            "a sequence of {len} empty items"
        )));
    }
    let mut items = Vec::with_capacity(len.min(input.len()));
    for _ in 0..len {
        items.push(decode_depth(registry, item, input, depth)?);
    }
    Ok(Value::Seq(items))
}

fn decode_fields(
    registry: &PortableRegistry,
    fields: &[Field<PortableForm>],
    input: &mut &[u8],
    depth: u32,
) -> Result<Vec<(Option<String>, Value)>, ChainError> {
    fields
        .iter()
        .map(|f| {
            Ok((
                f.name.clone(),
                decode_depth(registry, f.ty.id, input, depth)?,
            ))
        })
        .collect()
}

fn decode_primitive(p: &TypeDefPrimitive, input: &mut &[u8]) -> Result<Value, ChainError> {
    let e = |_| short("a number");
    Ok(match p {
        TypeDefPrimitive::Bool => Value::Bool(bool::decode(input).map_err(|_| short("a bool"))?),
        TypeDefPrimitive::Char | TypeDefPrimitive::U32 => {
            Value::U(u32::decode(input).map_err(e)?.into())
        }
        TypeDefPrimitive::Str => Value::Str(String::decode(input).map_err(|_| short("a string"))?),
        TypeDefPrimitive::U8 => Value::U(u8::decode(input).map_err(e)?.into()),
        TypeDefPrimitive::U16 => Value::U(u16::decode(input).map_err(e)?.into()),
        TypeDefPrimitive::U64 => Value::U(u64::decode(input).map_err(e)?.into()),
        TypeDefPrimitive::U128 => Value::U(u128::decode(input).map_err(e)?),
        TypeDefPrimitive::I8 => Value::I(i8::decode(input).map_err(e)?.into()),
        TypeDefPrimitive::I16 => Value::I(i16::decode(input).map_err(e)?.into()),
        TypeDefPrimitive::I32 => Value::I(i32::decode(input).map_err(e)?.into()),
        TypeDefPrimitive::I64 => Value::I(i64::decode(input).map_err(e)?.into()),
        TypeDefPrimitive::I128 => Value::I(i128::decode(input).map_err(e)?),
        TypeDefPrimitive::U256 | TypeDefPrimitive::I256 => {
            if input.len() < 32 {
                return Err(short("a 256-bit number"));
            }
            let (head, rest) = input.split_at(32);
            *input = rest;
            Value::Bytes(head.to_vec())
        }
    })
}

/// True when every value of the type encodes to no bytes (`()`, empty structs).
pub fn zero_sized(registry: &PortableRegistry, ty: u32) -> bool {
    match registry.resolve(ty).map(|t| &t.type_def) {
        Some(TypeDef::Composite(c)) => c.fields.iter().all(|f| zero_sized(registry, f.ty.id)),
        Some(TypeDef::Tuple(t)) => t.fields.iter().all(|f| zero_sized(registry, f.id)),
        Some(TypeDef::Array(a)) => a.len == 0 || zero_sized(registry, a.type_param.id),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scale_info::{MetaType, Registry};

    /// A registry holding `T`, and `T`'s id in it.
    fn registry_of<T: scale_info::TypeInfo + 'static>() -> (PortableRegistry, u32) {
        let mut registry = Registry::new();
        let id = registry.register_type(&MetaType::new::<T>()).id;
        (registry.into(), id)
    }

    fn round_trip<T: scale_info::TypeInfo + Encode + 'static>(value: T, expected: Value) {
        let (registry, ty) = registry_of::<T>();
        let bytes = value.encode();
        assert_eq!(decode(&registry, ty, &mut &bytes[..]).unwrap(), expected);
        let mut again = Vec::new();
        encode(&registry, ty, &expected, &mut again).unwrap();
        assert_eq!(again, bytes);
    }

    #[test]
    fn values_round_trip_through_the_registry() {
        round_trip(
            vec![(7u16, true), (9, false)],
            Value::Seq(vec![
                Value::Seq(vec![Value::U(7), Value::Bool(true)]),
                Value::Seq(vec![Value::U(9), Value::Bool(false)]),
            ]),
        );
        round_trip(Some(5u32), Value::variant("Some", [Value::U(5)]));
        round_trip(None::<u32>, Value::variant("None", []));
        round_trip(vec![1u8, 2, 3], Value::Bytes(vec![1, 2, 3]));
        round_trip(-3i64, Value::I(-3));
        round_trip(String::from("hé"), Value::Str("hé".into()));
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_an_error_naming_the_type() {
        let (registry, ty) = registry_of::<u16>();
        let err = encode(&registry, ty, &Value::U(70_000), &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("cannot encode U(70000)"), "{err}");
    }

    #[test]
    fn hostile_bytes_are_errors_with_bounded_work() {
        // A length of a billion bytes with three present: an error, no allocation of it.
        let (registry, ty) = registry_of::<Vec<u8>>();
        let mut bytes = Compact(1_000_000_000u32).encode();
        bytes.extend([1, 2, 3]);
        assert!(decode(&registry, ty, &mut &bytes[..]).is_err());
        // A billion empty items.
        let (registry, ty) = registry_of::<Vec<()>>();
        let bytes = Compact(1_000_000_000u32).encode();
        let err = decode(&registry, ty, &mut &bytes[..]).unwrap_err();
        assert!(err.to_string().contains("empty items"), "{err}");
        // Truncated numbers and enums.
        let (registry, ty) = registry_of::<u64>();
        assert!(decode(&registry, ty, &mut &[1u8, 2][..]).is_err());
        let (registry, ty) = registry_of::<Option<u8>>();
        let err = decode(&registry, ty, &mut &[9u8][..]).unwrap_err();
        assert!(err.to_string().contains("no variant 9"), "{err}");
    }
}
