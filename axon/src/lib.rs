#![doc = include_str!("../docs/crate.md")]

extern crate self as axon;

// The modules from the bottom up: each imports only from itself and those declared before
// it (ARCHITECTURE.md; `tests/architecture.rs` checks it). One layer per paragraph, so
// rustfmt keeps the order.

// The protocol: the wire codec and the signed messages, keys, and the axon's chain record.
pub mod wire;

pub mod keys;

#[cfg(feature = "chain")]
pub mod chain;

mod uuid;

mod axon_info;

// Leaves that know nothing of synapses: networking, task helpers, the metrics tables.
mod net;

#[cfg(feature = "tls")]
pub mod tls;

mod task;

mod metrics;

// The replay store shared between processes (Redis).
pub mod replay;

// Handlers and their checks.
pub mod handler;

pub mod verify;

pub mod auth;

// The client side: synapses, and signed HTTP (on `auth`).
pub mod dendrite;

#[cfg(feature = "chain")]
pub mod metagraph;

mod state;

// Signed-HTTP endpoints: declaration, table, policies, extraction (on `auth`, `handler`,
// `state`).
pub mod endpoint;

mod table;

// Serving: the request pipeline, the registry that builds its table and routes, the
// configuration, and the server that binds it all.
mod pipeline;

mod registry;

pub mod config;

#[cfg(feature = "logging")]
pub mod logging;

mod server;

pub use axon_info::AxonInfo;
pub use handler::{Blacklist, HandlerError, HandlerInfo, HandlerKind, Streaming};
/// HTTP status codes, for [`HandlerError::new`].
pub use http::StatusCode;
#[cfg(feature = "chain")]
pub use metagraph::Metagraph;
pub use net::{ProxyError, TrustedProxies};
pub use pipeline::Load;
pub use registry::HandlerProblem;
pub use server::{external_ip, shutdown_signal, Axon, Limits, Problem, Serving, StartupError};
#[cfg(feature = "chain")]
pub use server::{ServeError, Served};
pub use state::State;
pub use table::{Handlers, Route};

#[doc = include_str!("../docs/synapse.md")]
pub use axon_macros::synapse;

#[doc = include_str!("../docs/forward.md")]
pub use axon_macros::forward;
#[doc = include_str!("../docs/model.md")]
pub use axon_macros::model;

#[doc = include_str!("../docs/blacklist.md")]
pub use axon_macros::blacklist;

#[doc = include_str!("../docs/priority.md")]
pub use axon_macros::priority;

#[doc = include_str!("../docs/verify.md")]
pub use axon_macros::verify;

#[doc = include_str!("../docs/endpoint.md")]
pub use axon_macros::endpoint;
pub use wire::{BaseSynapse, DynamicSynapse, PyStr, Synapse, SynapseSchema, TerminalInfo};

#[doc(hidden)]
pub mod __private;
