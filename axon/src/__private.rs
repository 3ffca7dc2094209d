//! Support for the code the attribute macros generate. Not a public API: generated code
//! names these items as `::axon::__private::..`.

pub use serde;
use serde::de::{Deserialize, Deserializer, IgnoredAny};

/// A required field: missing is an error even for `Option` (pydantic's rule).
pub fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(d)
}

/// `null` reads as the default (pydantic allows `None` for `Optional[TerminalInfo]`).
pub fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `name` is always the route name, whatever the body says (pydantic's `set_name_type`).
pub fn route_name<'de, D: Deserializer<'de>>(d: D, name: &str) -> Result<Option<String>, D::Error> {
    IgnoredAny::deserialize(d)?;
    Ok(Some(name.to_owned()))
}

pub fn default_timeout() -> Option<f64> {
    Some(12.0)
}

pub fn default_size() -> Option<i64> {
    Some(0)
}

pub fn default_body_hash() -> Option<String> {
    Some(String::new())
}

/// A model field as a `&dyn PyStr`, checked at the user's type.
pub fn as_py_str<T: crate::PyStr>(v: &T) -> &dyn crate::PyStr {
    v
}

/// Writes a model as the dict `model_dump()` makes of it.
pub fn write_model(out: &mut String, fields: &[(&str, &dyn crate::PyStr)]) {
    crate::wire::write_dict_entries(out, fields)
}

pub use crate::handler::hook::{
    check_async, check_inline, forward_async, forward_blocking, Check, Forward,
};
/// The JSON nesting guard the pipeline applies before parsing a body (for the fuzz
/// targets, which check that it keeps `from_json` within its stack).
pub use crate::wire::json::nested_deeper_than;
use crate::{HandlerInfo, HandlerKind};

/// Where a registered handler comes from.
pub const fn handler_info(
    kind: HandlerKind,
    name: &'static str,
    file: &'static str,
    line: u32,
) -> HandlerInfo {
    HandlerInfo::new(kind, name, file, line)
}
use crate::handler::{IntoBlacklist, IntoPriority, IntoVerify};
pub use crate::registry::{Registration, TableBuilder};

/// The name of `S` when it is a synapse, `None` otherwise, without a trait bound (so
/// a type that is not a synapse is reported once, where the table needs it): the
/// generated code calls `(&NameOf::<S>::NEW).synapse_name()` with both traits in scope,
/// and method lookup picks [`KnownName`] when `S: Synapse` holds, [`NoName`] otherwise.
pub struct NameOf<S>(core::marker::PhantomData<S>);

impl<S> NameOf<S> {
    pub const NEW: Self = NameOf(core::marker::PhantomData);
}

pub trait KnownName {
    fn synapse_name(&self) -> Option<&'static str>;
}

impl<S: crate::Synapse> KnownName for NameOf<S> {
    fn synapse_name(&self) -> Option<&'static str> {
        Some(S::NAME)
    }
}

pub trait NoName {
    fn synapse_name(&self) -> Option<&'static str> {
        None
    }
}

impl<S> NoName for &NameOf<S> {}
pub use inventory;

/// A blacklist's result, converted where the user wrote its return type.
pub fn into_blacklist<R: IntoBlacklist>(r: R) -> crate::Blacklist {
    r.into_blacklist()
}

/// A priority's result, converted where the user wrote its return type.
pub fn into_priority<R: IntoPriority>(r: R) -> f64 {
    r.into_priority()
}

/// A verify's result, converted where the user wrote its return type.
pub fn into_verify<R: IntoVerify>(r: R) -> Result<(), crate::HandlerError> {
    r.into_verify()
}

/// Checks, at the user's argument, that it takes the synapse the attribute names.
pub fn named_synapse<Named, Taken: SameSynapse<Named>>() {}

/// `Self` is the synapse `S`.
#[diagnostic::on_unimplemented(
    message = "this handler takes `{Self}` but its attribute names `{S}`",
    label = "expected `{S}` here",
    note = "write the synapse the attribute names, or change the attribute"
)]
pub trait SameSynapse<S> {}
impl<S> SameSynapse<S> for S {}

/// An endpoint's request, as its generated handler takes it.
pub type EndpointRequest = http::Request<axum::body::Body>;

/// An endpoint's answer, converted where the user wrote its return type.
pub fn endpoint_respond<R: crate::endpoint::EndpointResponse>(r: R) -> axum::response::Response {
    r.respond()
}

/// An endpoint's generated handler, erased.
pub fn endpoint_serve<F, Fut>(f: F) -> crate::endpoint::Serve
where
    F: Fn(EndpointRequest) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = axum::response::Response> + Send + 'static,
{
    std::sync::Arc::new(move |request| Box::pin(f(request)))
}

/// Wraps a state value for a `State<T>` argument.
pub fn state_handle<T: ?Sized>(arc: std::sync::Arc<T>) -> crate::State<T> {
    crate::State::from_arc(arc)
}

/// Checks, at the user's type, that a hashed field renders like Python's `str()`.
pub fn hash_field<T: crate::PyStr + ?Sized>(h: &mut crate::wire::BodyHasher, v: &T) {
    h.field(v)
}
