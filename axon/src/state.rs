//! Shared state for handlers: values given to [`Axon::state`](crate::Axon::state), reached
//! by type from any handler argument after the synapse.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// An owned handle on a state value, for a handler that keeps it past the call (spawns a
/// task with it, say). A handler argument `&T` borrows the same value for the call.
///
/// ```
/// use axon::{Axon, State, Synapse};
///
/// #[axon::synapse]
/// pub struct Count { #[default] pub n: i64 }
///
/// pub struct Model { pub bias: i64 }
///
/// #[axon::forward]
/// async fn count(mut s: Count, model: State<Model>) -> Count {
///     s.n += model.bias; // State<T> derefs to T
///     s
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handlers = Axon::from_registry().state(Model { bias: 10 }).handlers().unwrap();
/// assert_eq!(handlers.forward(Count { n: 1, ..Count::default() }).await.unwrap().n, 11);
/// # }
/// ```
pub struct State<T: ?Sized>(Arc<T>);

impl<T: ?Sized> State<T> {
    /// The shared `Arc` itself.
    ///
    /// ```
    /// # let s = axon::__private::state_handle(std::sync::Arc::new(5));
    /// assert_eq!(*s.into_arc(), 5);
    /// ```
    pub fn into_arc(self) -> Arc<T> {
        self.0
    }

    pub(crate) fn from_arc(arc: Arc<T>) -> Self {
        State(arc)
    }
}

impl<T: ?Sized> Clone for State<T> {
    fn clone(&self) -> Self {
        State(self.0.clone())
    }
}

impl<T: ?Sized> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&&*self.0).finish()
    }
}

/// The state values of one axon, by type. (Public only to be named by
/// [`CallerCheck`](crate::endpoint::CallerCheck); not reachable from outside.)
#[doc(hidden)]
#[derive(Clone, Default)]
pub struct States {
    values: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl States {
    /// Adds a value; `false` when one of the same type was there (it is replaced).
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) -> bool {
        self.values
            .insert(TypeId::of::<T>(), Arc::new(value))
            .is_none()
    }

    /// The value of type `T`.
    /// Inserts a value already shared, keeping its `Arc` (replacing any of its type).
    pub(crate) fn insert_arc<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.values.insert(TypeId::of::<T>(), value);
    }

    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let any = self.values.get(&TypeId::of::<T>())?.clone();
        any.downcast::<T>().ok()
    }
}
