//! The chain: a subtensor client ([`Subtensor`]) that reads storage and submits signed
//! transactions, with every layout taken from the runtime's own metadata (feature `chain`).
//!
//! It is written over the crates the axon already has plus a SCALE codec, `twox-hash` and a
//! WebSocket client (about 40 crates), not over `subxt` (about 310 crates and fifteen
//! minutes of build): a miner needs a handful of storage maps and one call.
//!
//! ```no_run
//! use axon::chain::{Subtensor, Value};
//! # async fn run() -> Result<(), axon::chain::ChainError> {
//! let subtensor = Subtensor::connect("ws://127.0.0.1:9944").await?;
//! let n = subtensor.storage("SubtensorModule", "SubnetworkN", &[Value::U(1)]).await?;
//! println!("subnet 1 has {:?} neurons", n.and_then(|n| n.as_u128()));
//! # Ok(()) }
//! ```

mod client;
mod extrinsic;
mod metadata;
mod rpc;
mod scale;
mod storage;

pub use client::{Included, Subtensor};
pub use scale::Value;

use std::fmt;
use std::time::Duration;

/// Why a chain operation failed, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainError {
    /// The node could not be reached (or the connection dropped).
    Unreachable {
        /// The endpoint dialled.
        endpoint: String,
        /// What happened.
        cause: String,
    },
    /// The node did not answer in time.
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// The method called.
        what: String,
        /// How long it waited.
        after: Duration,
    },
    /// The node answered a JSON-RPC error.
    Rpc {
        /// The JSON-RPC error code.
        code: i64,
        /// Its message.
        message: String,
        /// Its data, if any.
        data: Option<String>,
    },
    /// The transaction pool refused the transaction before any block (`1010 Invalid
    /// Transaction`, say): the reason the runtime gave.
    Refused(String),
    /// The transaction left the pool without reaching a block.
    Dropped(String),
    /// The transaction is in a block and failed there: the runtime's error name
    /// (`SubtensorModule::HotKeyNotRegisteredInNetwork`) and its documentation.
    Dispatch {
        /// `Pallet::Error`.
        error: String,
        /// The runtime's documentation of the error.
        docs: String,
    },
    /// The subnet does not exist on this chain.
    NoSubnet {
        /// The subnet asked for.
        netuid: u16,
    },
    /// The runtime is one this client cannot handle (a missing item, an unknown layout).
    Unsupported(String),
}

impl ChainError {
    /// A JSON-RPC error at submission is the pool refusing the transaction.
    fn refused(error: ChainError) -> ChainError {
        match error {
            ChainError::Rpc { message, data, .. } => ChainError::Refused(match data {
                Some(data) => format!("{message}: {data}"),
                None => message,
            }),
            other => other,
        }
    }

    /// The runtime error's name, for a transaction that failed in its block.
    pub fn dispatch_error(&self) -> Option<&str> {
        match self {
            ChainError::Dispatch { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Unreachable { endpoint, cause } => write!(
                f,
                "cannot reach the chain at {endpoint}: {cause}; check that the node is up and \
                 --subtensor.network / --subtensor.chain_endpoint (ws:// or wss://)"
            ),
            ChainError::Timeout {
                endpoint,
                what,
                after,
            } => write!(
                f,
                "the chain at {endpoint}: no answer to {what} within {} s; the node is overloaded \
                 or far away, try another endpoint",
                after.as_secs()
            ),
            ChainError::Rpc {
                code,
                message,
                data,
            } => {
                write!(f, "the node refused the request: {message} (code {code})")?;
                match data {
                    Some(data) => write!(f, ": {data}"),
                    None => Ok(()),
                }
            }
            ChainError::Refused(why) => write!(f, "the chain refused the transaction: {why}"),
            ChainError::Dropped(why) => write!(f, "the transaction was not included: {why}"),
            ChainError::Dispatch { error, docs } if docs.is_empty() => {
                write!(f, "the transaction failed on chain: {error}")
            }
            ChainError::Dispatch { error, docs } => {
                write!(f, "the transaction failed on chain: {error} ({docs})")
            }
            ChainError::NoSubnet { netuid } => write!(
                f,
                "subnet {netuid} does not exist on this chain; check --netuid and --subtensor.network"
            ),
            ChainError::Unsupported(what) => write!(
                f,
                "this client cannot handle the chain's runtime: {what}; upgrade axon"
            ),
        }
    }
}

impl std::error::Error for ChainError {}
