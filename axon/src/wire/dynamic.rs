//! Run-time synapses: a synapse type described by a [`SynapseSchema`] built while the
//! program runs (a name, its fields, the hashed ones) rather than by a Rust struct, and its
//! values, [`DynamicSynapse`]s. A gateway, a proxy, or a binding to another language serves
//! and calls them exactly as it would a `#[synapse]` struct of the same name and fields.

use super::hash::BodyHasher;
use super::headers::HeaderError;
use super::input_obj::InputObjs;
use super::json::JsonError;
use super::parts::HeaderParts;
use super::synapse::{BaseSynapse, Common, CommonMut, Synapse};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

/// A hash function of a run-time synapse type, in place of the default (Python's `str()` of
/// each hashed field's JSON value): for a binding whose field values render differently in
/// their own language, it gives that language's body hash. An `Err` is the reason it could
/// not (the request is refused with it).
pub type HashFn = dyn Fn(&DynamicSynapse) -> Result<String, String> + Send + Sync;

/// The fields every synapse has: a run-time synapse cannot declare them again.
const COMMON: [&str; 7] = [
    "name",
    "timeout",
    "total_size",
    "header_size",
    "dendrite",
    "axon",
    "computed_body_hash",
];

/// A synapse type described at run time: its route name (Python's class name), its fields
/// in order, each required or with a default, the fields its body hash covers, and
/// optionally its own hash function and body limit. Cheap to clone.
///
/// ```
/// use axon::wire::{DynamicSynapse, SynapseSchema};
/// use axon::Synapse;
/// use serde_json::json;
///
/// // Python: class Echo(bt.Synapse): text: str; out: Optional[str] = None;
/// //         required_hash_fields: ClassVar[tuple[str, ...]] = ("text",)
/// let echo = SynapseSchema::builder("Echo")
///     .required("text")
///     .default("out", json!(null))
///     .hash(["text"])
///     .build()
///     .unwrap();
/// let mut s = DynamicSynapse::new(&echo);
/// s.set("text", json!("hi")).unwrap();
/// assert_eq!(s.route(), "Echo");
/// assert_eq!(s.to_headers().get("bt_header_input_obj_text"), Some("IiI=")); // json.dumps("")
/// ```
#[derive(Clone)]
pub struct SynapseSchema(Arc<Schema>);

struct Schema {
    name: &'static str,
    /// Each field and its default (`None`: required), in declaration order.
    fields: Vec<(String, Option<Value>)>,
    hash_fields: Vec<String>,
    max_body: Option<usize>,
    hash: Option<Arc<HashFn>>,
}

/// What is wrong with a [`SynapseSchema`] being built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaError {
    /// The name cannot be a route: empty, longer than 128 bytes, or holding something other
    /// than letters, digits and `_`.
    BadName(String),
    /// A field named twice.
    DuplicateField(String),
    /// A field every synapse already has (`name`, `timeout`, `dendrite`, ...).
    CommonField(String),
    /// A hashed field that is not a declared field.
    UnknownHashField(String),
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::BadName(name) => write!(
                f,
                "{name:?} cannot name a synapse: use 1 to 128 letters, digits or `_`, as a Python class name"
            ),
            SchemaError::DuplicateField(field) => write!(f, "the field {field:?} is declared twice"),
            SchemaError::CommonField(field) => write!(
                f,
                "the field {field:?} is one every synapse has: declare only the synapse's own fields"
            ),
            SchemaError::UnknownHashField(field) => write!(
                f,
                "the hashed field {field:?} is not a field of the synapse: declare it with `required` or `default`"
            ),
        }
    }
}

impl std::error::Error for SchemaError {}

/// Builds a [`SynapseSchema`]; see [`SynapseSchema::builder`].
#[must_use]
pub struct SchemaBuilder {
    name: String,
    fields: Vec<(String, Option<Value>)>,
    hash_fields: Vec<String>,
    max_body: Option<usize>,
    hash: Option<Arc<HashFn>>,
}

impl SchemaBuilder {
    /// A field without a default: a request must carry it (Python sends a
    /// `bt_header_input_obj_*` placeholder for it).
    pub fn required(mut self, field: &str) -> Self {
        self.fields.push((field.to_owned(), None));
        self
    }

    /// A field with a default, which a request may leave out.
    pub fn default(mut self, field: &str, value: Value) -> Self {
        self.fields.push((field.to_owned(), Some(value)));
        self
    }

    /// The fields the body hash covers, in Python's `required_hash_fields` order.
    pub fn hash<I: IntoIterator<Item = T>, T: Into<String>>(mut self, fields: I) -> Self {
        self.hash_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Computes the body hash with `f` instead of from the hashed fields' JSON values.
    pub fn hash_with(
        mut self,
        f: impl Fn(&DynamicSynapse) -> Result<String, String> + Send + Sync + 'static,
    ) -> Self {
        self.hash = Some(Arc::new(f));
        self
    }

    /// This synapse's own limit on a request body, in bytes (as `#[synapse(max_body = N)]`).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// The schema, or the first thing wrong with it.
    pub fn build(self) -> Result<SynapseSchema, SchemaError> {
        let good = |c: char| c.is_alphanumeric() || c == '_';
        if self.name.is_empty() || self.name.len() > 128 || !self.name.chars().all(good) {
            return Err(SchemaError::BadName(self.name));
        }
        let mut seen = HashSet::new();
        for (field, _) in &self.fields {
            if COMMON.contains(&field.as_str()) {
                return Err(SchemaError::CommonField(field.clone()));
            }
            if !seen.insert(field.as_str()) {
                return Err(SchemaError::DuplicateField(field.clone()));
            }
        }
        if let Some(unknown) = self.hash_fields.iter().find(|h| !seen.contains(h.as_str())) {
            return Err(SchemaError::UnknownHashField(unknown.clone()));
        }
        Ok(SynapseSchema(Arc::new(Schema {
            name: intern(&self.name),
            fields: self.fields,
            hash_fields: self.hash_fields,
            max_body: self.max_body,
            hash: self.hash,
        })))
    }
}

/// The route names of run-time synapse types, each kept once for the life of the process:
/// the handler table and the metrics name routes by `&'static str`, and a program declares
/// a handful of types, so a name is leaked once however many schemas use it.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(kept) = names.get(name) {
        return kept;
    }
    let kept: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(kept);
    kept
}

impl SynapseSchema {
    /// Starts a schema for the synapse type `name` (its route, `POST /{name}`).
    pub fn builder(name: &str) -> SchemaBuilder {
        SchemaBuilder {
            name: name.to_owned(),
            fields: Vec::new(),
            hash_fields: Vec::new(),
            max_body: None,
            hash: None,
        }
    }

    /// The route name.
    pub fn name(&self) -> &'static str {
        self.0.name
    }

    /// The fields without a default, in declaration order.
    pub fn required_fields(&self) -> impl Iterator<Item = &str> {
        let fields = self.0.fields.iter();
        fields.filter(|(_, d)| d.is_none()).map(|(f, _)| f.as_str())
    }

    /// The fields the body hash covers, in hash order.
    pub fn hash_fields(&self) -> &[String] {
        &self.0.hash_fields
    }

    /// This type's own limit on a request body, if any.
    pub fn max_body(&self) -> Option<usize> {
        self.0.max_body
    }

    /// The synapse a request's headers describe (Python's `from_headers`): each required
    /// field from its placeholder, a defaulted one from its header when sent.
    pub fn from_header_parts(&self, parts: HeaderParts<'_>) -> Result<DynamicSynapse, HeaderError> {
        let mut fields = Map::with_capacity(self.0.fields.len());
        for (field, default) in &self.0.fields {
            let value = match default {
                None => parts.required::<Value>(field)?,
                Some(default) => parts
                    .input::<Value>(field)?
                    .unwrap_or_else(|| default.clone()),
            };
            fields.insert(field.clone(), value);
        }
        let base = BaseSynapse {
            name: Some(self.0.name.to_owned()),
            timeout: parts.timeout,
            total_size: parts.total_size,
            header_size: parts.header_size,
            dendrite: parts.dendrite,
            axon: parts.axon,
            computed_body_hash: parts.computed_body_hash,
        };
        Ok(DynamicSynapse {
            base,
            fields,
            schema: self.clone(),
        })
    }

    /// Parses a body as pydantic validates it: unknown keys ignored, a missing defaulted
    /// field defaulted, a missing required one an error, `name` the route name.
    pub fn from_json(&self, bytes: &[u8]) -> Result<DynamicSynapse, JsonError> {
        let mut base = BaseSynapse::from_json(bytes)?;
        base.name = Some(self.0.name.to_owned());
        let mut body: Map<String, Value> = super::json::from_json(bytes)?;
        let mut fields = Map::with_capacity(self.0.fields.len());
        for (field, default) in &self.0.fields {
            let value = match (body.swap_remove(field), default) {
                (Some(value), _) => value,
                (None, Some(default)) => default.clone(),
                (None, None) => {
                    let missing = format!("missing field `{field}`");
                    return Err(JsonError(serde_json::Error::custom(missing)));
                }
            };
            fields.insert(field.clone(), value);
        }
        Ok(DynamicSynapse {
            base,
            fields,
            schema: self.clone(),
        })
    }
}

impl fmt::Debug for SynapseSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.0.fields.iter().map(|(f, _)| f.as_str()).collect();
        f.debug_struct("SynapseSchema")
            .field("name", &self.0.name)
            .field("fields", &fields)
            .field("hash_fields", &self.0.hash_fields)
            .field("max_body", &self.0.max_body)
            .field("hash_with", &self.0.hash.is_some())
            .finish()
    }
}

impl PartialEq for SynapseSchema {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A synapse of a run-time type: the common fields (`base`) and its own fields as JSON
/// values, in its schema's order.
///
/// ```
/// use axon::wire::{DynamicSynapse, SynapseSchema};
/// use axon::Synapse;
/// use serde_json::json;
///
/// let echo = SynapseSchema::builder("Echo").required("text").hash(["text"]).build().unwrap();
/// let parsed = echo.from_json(br#"{"text": "hi", "extra": 1}"#).unwrap();
/// assert_eq!(parsed.get("text"), Some(&json!("hi")));
/// assert_eq!(parsed.get("extra"), None); // unknown keys are ignored, as pydantic does
/// // The body hash is Python's, over `str()` of each hashed field.
/// let mut python = axon::wire::BodyHasher::new();
/// python.field("hi");
/// assert_eq!(parsed.body_hash(), python.finish());
/// assert!(echo.from_json(b"{}").is_err()); // `text` is required
/// ```
#[derive(Clone)]
pub struct DynamicSynapse {
    /// The fields every synapse has.
    pub base: BaseSynapse,
    fields: Map<String, Value>,
    schema: SynapseSchema,
}

impl DynamicSynapse {
    /// A synapse of `schema` with its defaults, and `null` in each required field.
    pub fn new(schema: &SynapseSchema) -> Self {
        let fields = schema.0.fields.iter();
        let fields = fields.map(|(f, d)| (f.clone(), d.clone().unwrap_or(Value::Null)));
        DynamicSynapse {
            base: BaseSynapse {
                name: Some(schema.0.name.to_owned()),
                ..BaseSynapse::default()
            },
            fields: fields.collect(),
            schema: schema.clone(),
        }
    }

    /// Its type.
    pub fn schema(&self) -> &SynapseSchema {
        &self.schema
    }

    /// The value of one of its own fields.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }

    /// Sets one of its own fields; an undeclared field is an error (pydantic would ignore
    /// it, and then it would never reach the wire).
    pub fn set(&mut self, field: &str, value: Value) -> Result<(), UnknownField> {
        match self.fields.get_mut(field) {
            Some(slot) => {
                *slot = value;
                Ok(())
            }
            None => Err(UnknownField(field.to_owned())),
        }
    }

    /// Its own fields, in its schema's order.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// Replaces its own fields from `values`: each declared field takes the value there
    /// (the others keep theirs); keys not declared are ignored.
    pub fn update(&mut self, values: Map<String, Value>) {
        for (field, value) in values {
            if let Some(slot) = self.fields.get_mut(&field) {
                *slot = value;
            }
        }
    }

    /// The body hash: the schema's own function's, or Python's `body_hash` over the hashed
    /// fields' JSON values.
    pub fn try_body_hash(&self) -> Result<String, String> {
        match &self.schema.0.hash {
            Some(hash) => hash(self),
            None => {
                let mut hasher = BodyHasher::new();
                self.hash_fields(&mut hasher);
                Ok(hasher.finish())
            }
        }
    }
}

/// A field that is not one of the synapse's own: see [`DynamicSynapse::set`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownField(pub String);

impl fmt::Display for UnknownField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the synapse has no field {:?}", self.0)
    }
}

impl std::error::Error for UnknownField {}

impl fmt::Debug for DynamicSynapse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicSynapse")
            .field("base", &self.base)
            .field("fields", &self.fields)
            .finish()
    }
}

impl PartialEq for DynamicSynapse {
    fn eq(&self, other: &Self) -> bool {
        self.schema.0.name == other.schema.0.name
            && self.base == other.base
            && self.fields == other.fields
    }
}

/// The common fields then its own, as pydantic writes a subclass's fields after its base's.
impl Serialize for DynamicSynapse {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            #[serde(flatten)]
            base: &'a BaseSynapse,
            #[serde(flatten)]
            fields: &'a Map<String, Value>,
        }
        Flat {
            base: &self.base,
            fields: &self.fields,
        }
        .serialize(serializer)
    }
}

/// Refused: a run-time synapse is read with its schema ([`SynapseSchema::from_json`]).
impl<'de> Deserialize<'de> for DynamicSynapse {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(D::Error::custom(
            "a DynamicSynapse is read with its schema: call SynapseSchema::from_json",
        ))
    }
}

impl Synapse for DynamicSynapse {
    /// Not a route: each schema names its own ([`Synapse::route`]).
    const NAME: &'static str = "DynamicSynapse";
    /// Each schema has its own ([`SynapseSchema::hash_fields`]).
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &[];
    /// Each schema has its own ([`SynapseSchema::required_fields`]).
    const REQUIRED_FIELDS: &'static [&'static str] = &[];

    fn common(&self) -> Common<'_> {
        self.base.common()
    }

    fn common_mut(&mut self) -> CommonMut<'_> {
        self.base.common_mut()
    }

    fn route(&self) -> &'static str {
        self.schema.0.name
    }

    fn max_body(&self) -> Option<usize> {
        self.schema.0.max_body
    }

    fn hash_fields(&self, hasher: &mut BodyHasher) {
        for field in &self.schema.0.hash_fields {
            hasher.field(self.fields.get(field).unwrap_or(&Value::Null));
        }
    }

    fn own_body_hash(&self) -> Option<Result<String, String>> {
        let hash = self.schema.0.hash.as_ref()?;
        Some(hash(self))
    }

    fn input_objs(&self, out: &mut InputObjs<'_>) {
        for (field, default) in &self.schema.0.fields {
            if default.is_none() {
                out.field(field, self.fields.get(field).unwrap_or(&Value::Null));
            }
        }
    }

    fn from_header_parts(_: HeaderParts<'_>) -> Result<Self, HeaderError> {
        Err(HeaderError::BadInputObj {
            header: "name".into(),
            reason:
                "a DynamicSynapse is read with its schema: call SynapseSchema::from_header_parts"
                    .into(),
        })
    }

    fn parse_body(&self, bytes: &[u8]) -> Result<Self, JsonError> {
        self.schema.from_json(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[crate::synapse]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Echo {
        #[hash]
        pub text: String,
        #[hash]
        pub n: i64,
        #[default]
        pub out: Option<String>,
    }

    fn echo_schema() -> SynapseSchema {
        SynapseSchema::builder("Echo")
            .required("text")
            .required("n")
            .default("out", Value::Null)
            .hash(["text", "n"])
            .build()
            .unwrap()
    }

    /// The same values give the same headers, hash and JSON as the compiled synapse of
    /// the same name and fields (whose wire the golden tests hold against Python).
    #[test]
    fn a_dynamic_synapse_is_on_the_wire_as_the_compiled_one() {
        let schema = echo_schema();
        let mut compiled = Echo::new("hé \"x\"".into(), -3);
        compiled.out = Some("out".into());
        compiled.dendrite.hotkey = Some("5Hot".into());
        compiled.timeout = Some(2.5);
        let mut dynamic = DynamicSynapse::new(&schema);
        dynamic.set("text", json!("hé \"x\"")).unwrap();
        dynamic.set("n", json!(-3)).unwrap();
        dynamic.set("out", json!("out")).unwrap();
        dynamic.base.dendrite.hotkey = Some("5Hot".into());
        dynamic.base.timeout = Some(2.5);
        assert_eq!(dynamic.body_hash(), compiled.body_hash());
        assert_eq!(dynamic.to_json().unwrap(), compiled.to_json().unwrap());
        let pairs = |h: crate::wire::Headers| {
            h.iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect::<Vec<_>>()
        };
        assert_eq!(pairs(dynamic.to_headers()), pairs(compiled.to_headers()));

        // And back: from the compiled one's headers and body.
        let map = {
            let mut map = http::HeaderMap::new();
            for (n, v) in compiled.to_headers().iter() {
                map.insert(
                    http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            map
        };
        let from_headers = schema
            .from_header_parts(HeaderParts::from_map(&map).unwrap())
            .unwrap();
        let compiled_from_headers = Echo::from_headers(&map).unwrap();
        assert_eq!(from_headers.get("text"), Some(&json!("")));
        assert_eq!(from_headers.get("n"), Some(&json!(0)));
        assert_eq!(from_headers.base.dendrite, compiled_from_headers.dendrite);
        assert_eq!(from_headers.base.timeout, compiled_from_headers.timeout);
        let body = compiled.to_json().unwrap();
        let parsed = from_headers.parse_body(&body).unwrap();
        assert_eq!(parsed, dynamic);
        assert_eq!(parsed.route(), "Echo");
    }

    #[test]
    fn a_missing_required_field_is_refused_and_a_default_filled() {
        let schema = echo_schema();
        let err = schema.from_json(br#"{"text": "a"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `n`"), "{err}");
        let parsed = schema.from_json(br#"{"text": "a", "n": 1}"#).unwrap();
        assert_eq!(parsed.get("out"), Some(&Value::Null));
        let err = schema
            .from_header_parts(
                HeaderParts::from_pairs([("bt_header_input_obj_text", &b"IiI="[..])]).unwrap(),
            )
            .unwrap_err();
        assert_eq!(
            err,
            HeaderError::Missing {
                header: "bt_header_input_obj_n".into()
            }
        );
    }

    #[test]
    fn a_schema_refuses_what_cannot_be_served() {
        let bad = |b: SchemaBuilder| b.build().unwrap_err();
        assert_eq!(
            bad(SynapseSchema::builder("a/b")),
            SchemaError::BadName("a/b".into())
        );
        assert_eq!(
            bad(SynapseSchema::builder("")),
            SchemaError::BadName("".into())
        );
        assert_eq!(
            bad(SynapseSchema::builder("E")
                .required("x")
                .default("x", json!(1))),
            SchemaError::DuplicateField("x".into())
        );
        assert_eq!(
            bad(SynapseSchema::builder("E").required("timeout")),
            SchemaError::CommonField("timeout".into())
        );
        assert_eq!(
            bad(SynapseSchema::builder("E").required("x").hash(["y"])),
            SchemaError::UnknownHashField("y".into())
        );
        let a = SynapseSchema::builder("Same").build().unwrap();
        let b = SynapseSchema::builder("Same").build().unwrap();
        assert!(std::ptr::eq(a.name(), b.name()), "one name, kept once");
    }

    #[test]
    fn an_own_hash_function_replaces_the_default() {
        let schema = SynapseSchema::builder("H")
            .required("x")
            .hash(["x"])
            .hash_with(|s| match s.get("x") {
                Some(Value::String(x)) => Ok(format!("hash of {x}")),
                _ => Err("x is not text".into()),
            })
            .build()
            .unwrap();
        let mut s = DynamicSynapse::new(&schema);
        assert_eq!(s.own_body_hash(), Some(Err("x is not text".into())));
        s.set("x", json!("a")).unwrap();
        assert_eq!(s.body_hash(), "hash of a");
        assert_eq!(s.to_headers().get("computed_body_hash"), Some("hash of a"));
        assert_eq!(s.set("y", json!(1)), Err(UnknownField("y".into())));
    }
}
