//! The miner's server. [`Axon`] is the builder: handlers and state (`builder.rs`), then the
//! serving settings (`settings.rs`); [`start`](Axon::start) plans, binds and launches
//! (`start.rs`) a [`Serving`] server (`running.rs`), which [`stop`](Axon::stop) drains.
//! Around them: the listener (`listen`, `connections`, `descriptors`), the operations
//! endpoints (`operations`), the external address (`external_ip`), signals, and publishing
//! on chain (`publish`).

mod builder;
mod connections;
mod descriptors;
pub mod external_ip;
mod handshakes;
mod limits;
mod listen;
mod operations;
mod problem;
#[cfg(feature = "chain")]
mod publish;
mod running;
mod settings;
mod signal;
mod start;

pub use builder::Axon;
pub use limits::Limits;
pub use problem::{Problem, StartupError};
#[cfg(feature = "chain")]
pub use publish::{ServeError, Served};
pub use running::Serving;
pub use signal::shutdown_signal;
