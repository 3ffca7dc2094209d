//! Blacklists and priorities of endpoints: plain functions of the claimed [`Caller`] and
//! shared state, run before the signature is checked (as a synapse's are), so a refused
//! sender costs its headers only. The state they take is looked up once, at start.

use crate::auth::Caller;
use crate::handler::{Blacklist, IntoBlacklist, IntoPriority, StateValue};
use crate::state::States;
use std::sync::Arc;

/// A check of the claimed caller, its state bound.
pub type CallerFn<T> = Arc<dyn Fn(&Caller) -> T + Send + Sync>;

/// A function usable as an endpoint's `blacklist = ..` or `priority = ..`: `fn(&Caller)`,
/// `fn(&Caller, &A)` or `fn(&Caller, &A, &B)`, where `A` and `B` are state given with
/// `Axon::state` (a `Metagraph`, say), returning `Out`.
///
/// ```
/// use axon::auth::Caller;
/// use axon::Blacklist;
///
/// struct Allowed(Vec<String>);
///
/// fn known(caller: &Caller, allowed: &Allowed) -> Blacklist {
///     match allowed.0.contains(&caller.hotkey) {
///         true => Blacklist::Allow,
///         false => Blacklist::Deny("Unrecognized hotkey".into()),
///     }
/// }
/// fn check<F: axon::endpoint::CallerCheck<(Allowed,), Blacklist>>(_: F) {}
/// check(known);
/// ```
#[diagnostic::on_unimplemented(
    message = "this function cannot check an endpoint's caller",
    label = "expected `fn(&axon::auth::Caller, &State..) -> {Out}`",
    note = "write `fn name(caller: &axon::auth::Caller) -> {Out}`, with up to two state arguments `&T` after the caller (a `blacklist` may return `(bool, String)` too)"
)]
pub trait CallerCheck<Args, Out>: Send + Sync + 'static {
    /// The check with its state looked up in `states`; the missing state's type name when
    /// one was not given.
    fn bind(self, states: &States) -> Result<CallerFn<Out>, &'static str>;
}

fn lookup<T: StateValue>(states: &States) -> Result<Arc<T>, &'static str> {
    states.get::<T>().ok_or(std::any::type_name::<T>())
}

impl<F, O> CallerCheck<(), O> for F
where
    F: Fn(&Caller) -> O + Send + Sync + 'static,
{
    fn bind(self, _: &States) -> Result<CallerFn<O>, &'static str> {
        Ok(Arc::new(self))
    }
}

impl<F, O, A: StateValue> CallerCheck<(A,), O> for F
where
    F: Fn(&Caller, &A) -> O + Send + Sync + 'static,
{
    fn bind(self, states: &States) -> Result<CallerFn<O>, &'static str> {
        let a = lookup::<A>(states)?;
        Ok(Arc::new(move |c: &Caller| self(c, &a)))
    }
}

impl<F, O, A: StateValue, B: StateValue> CallerCheck<(A, B), O> for F
where
    F: Fn(&Caller, &A, &B) -> O + Send + Sync + 'static,
{
    fn bind(self, states: &States) -> Result<CallerFn<O>, &'static str> {
        let (a, b) = (lookup::<A>(states)?, lookup::<B>(states)?);
        Ok(Arc::new(move |c: &Caller| self(c, &a, &b)))
    }
}

/// A blacklist check with its result converted.
pub(crate) fn blacklist<R: IntoBlacklist + 'static>(f: CallerFn<R>) -> CallerFn<Blacklist> {
    Arc::new(move |c: &Caller| f(c).into_blacklist())
}

/// A priority check with its result converted.
pub(crate) fn priority<R: IntoPriority + 'static>(f: CallerFn<R>) -> CallerFn<f64> {
    Arc::new(move |c: &Caller| f(c).into_priority())
}
