//! The closure forms of handlers, for [`Axon::attach`](crate::Axon::attach) and friends.
//!
//! Each trait is implemented for `Fn` closures (and functions) of the right shape, plain or
//! returning a future; the `M` parameter only tells the two apart and is always inferred.

use super::hook::{check_inline, forward_async, forward_blocking, Check, Forward};
use super::{
    Blacklist, BoxFuture, HandlerError, IntoBlacklist, IntoForward, IntoPriority, IntoVerify,
};
use std::future::Future;
use std::sync::Arc;

/// Marks a closure whose result is the answer itself.
#[doc(hidden)]
pub enum Plain {}

/// Marks a closure that returns a future.
#[doc(hidden)]
pub enum Async {}

/// A closure usable as the forward of synapse `S`: `Fn(S) -> R` or `Fn(S) -> impl Future<Output = R>`
/// with `R` = `S` or `Result<S, E>`.
///
/// ```
/// use axon::{Axon, BaseSynapse};
///
/// let plain = Axon::new().attach(|s: BaseSynapse| s);
/// let async_ = Axon::new().attach(|s: BaseSynapse| async move { s });
/// # let _ = (plain, async_);
/// ```
#[diagnostic::on_unimplemented(
    message = "this closure cannot be a forward",
    label = "a forward takes the synapse by value and returns it: `|synapse: MySynapse| synapse`",
    note = "it may also return `Result<MySynapse, axon::HandlerError>`, or a future of either (`async move {{ .. }}`)"
)]
pub trait ForwardFn<S, M>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_forward_handler(self) -> Forward<S>;
}

impl<S, F, R> ForwardFn<S, (Plain, R)> for F
where
    F: Fn(S) -> R + Send + Sync + 'static,
    R: IntoForward<S>,
{
    fn into_forward_handler(self) -> Forward<S> {
        forward_blocking(self)
    }
}

impl<S, F, Fut> ForwardFn<S, (Async, Fut)> for F
where
    F: Fn(S) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoForward<S>,
{
    fn into_forward_handler(self) -> Forward<S> {
        forward_async(self)
    }
}

/// Defines the closure trait of one check kind (blacklist, priority, verify).
macro_rules! check_fn {
    ($(#[$doc:meta])* $name:ident, $method:ident, $out:ty, $into:ident, $conv:ident, $message:literal, $label:literal) => {
        $(#[$doc])*
        #[diagnostic::on_unimplemented(
            message = $message,
            label = $label
        )]
        pub trait $name<S, M>: Send + Sync + 'static {
            #[doc(hidden)]
            fn $method(self) -> Check<S, $out>;
        }

        impl<S, F, R> $name<S, (Plain, R)> for F
        where
            F: Fn(&S) -> R + Send + Sync + 'static,
            R: $into,
        {
            fn $method(self) -> Check<S, $out> {
                check_inline(move |s: &S| self(s).$conv())
            }
        }

        /// The future may not borrow the synapse: copy what it needs first.
        impl<S, F, Fut> $name<S, (Async, Fut)> for F
        where
            S: 'static,
            F: Fn(&S) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: $into,
        {
            fn $method(self) -> Check<S, $out> {
                Check::Async(Arc::new(move |s: &S| -> BoxFuture<'_, $out> {
                    let fut = self(s);
                    Box::pin(async move { fut.await.$conv() })
                }))
            }
        }
    };
}

check_fn!(
    /// A closure usable as a blacklist of `S`: `Fn(&S) -> R` with `R` = `(bool, String)` or
    /// [`Blacklist`], or returning a future of one (that future owns its data: clone what it
    /// needs from the synapse first).
    ///
    /// ```
    /// use axon::{Axon, BaseSynapse, Blacklist};
    ///
    /// let axon = Axon::new().blacklist(|s: &BaseSynapse| match &s.dendrite.hotkey {
    ///     Some(_) => Blacklist::Allow,
    ///     None => Blacklist::Deny("no hotkey".into()),
    /// });
    /// # let _ = axon;
    /// ```
    BlacklistFn,
    into_blacklist_handler,
    Blacklist,
    IntoBlacklist,
    into_blacklist,
    "this closure cannot be a blacklist",
    "a blacklist reads the synapse and returns `(bool, String)` or `axon::Blacklist`: `|synapse: &MySynapse| (false, String::new())`"
);

check_fn!(
    /// A closure usable as the priority of `S`: `Fn(&S) -> f64`, or returning a future of one.
    ///
    /// ```
    /// use axon::{Axon, BaseSynapse};
    ///
    /// let axon = Axon::new().priority(|s: &BaseSynapse| s.timeout.unwrap_or(12.0));
    /// # let _ = axon;
    /// ```
    PriorityFn,
    into_priority_handler,
    f64,
    IntoPriority,
    into_priority,
    "this closure cannot be a priority",
    "a priority reads the synapse and returns `f64`: `|synapse: &MySynapse| 1.0`"
);

check_fn!(
    /// A closure usable as the verify of `S`: `Fn(&S) -> Result<(), E>`, or returning a
    /// future of one. It **replaces** the default signature check for `S`.
    ///
    /// ```
    /// use axon::{Axon, BaseSynapse, HandlerError};
    /// use axon::StatusCode;
    ///
    /// let axon = Axon::new().verify(|s: &BaseSynapse| match s.dendrite.hotkey {
    ///     Some(_) => Ok(()),
    ///     None => Err(HandlerError::new(StatusCode::UNAUTHORIZED, "no hotkey")),
    /// });
    /// # let _ = axon;
    /// ```
    VerifyFn,
    into_verify_handler,
    Result<(), HandlerError>,
    IntoVerify,
    into_verify,
    "this closure cannot be a verify",
    "a verify reads the synapse and returns `Result<(), axon::HandlerError>`: `|synapse: &MySynapse| Ok::<(), axon::HandlerError>(())`"
);
