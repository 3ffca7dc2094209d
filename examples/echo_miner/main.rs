//! The echo miner: a synapse and its handlers, declared with attributes only, collected by
//! `Axon::from_registry()`. No wiring code: the attributes check each signature at compile
//! time and register the handler.
//!
//! Until the server lands, this builds the handler table, lists the routes a validator can
//! call, and runs one `Echo` request through the blacklist, priority and forward in-process,
//! printing the response body a dendrite would receive.
//!
//! Python twin of the synapse:
//!
//! ```python
//! class Echo(bt.Synapse):
//!     text: str
//!     n: int
//!     out: Optional[str] = None
//!     required_hash_fields: ClassVar[tuple[str, ...]] = ("text", "n")
//! ```
//!
//! Run: `cargo run --example echo_miner [-- TEXT N]`

use axon::{Axon, Blacklist, State, Synapse};
use std::sync::atomic::{AtomicU64, Ordering};

/// Python: `class Echo(bt.Synapse): text: str; n: int; out: Optional[str] = None`.
#[axon::synapse]
#[derive(Debug, Clone, PartialEq)]
pub struct Echo {
    #[hash]
    pub text: String,
    #[hash]
    pub n: i64,
    #[default]
    pub out: Option<String>,
}

/// Shared state: how many requests were answered.
#[derive(Default)]
pub struct Served(AtomicU64);

/// Answers with the text reversed.
#[axon::forward]
async fn echo(mut synapse: Echo, served: State<Served>) -> Echo {
    synapse.out = Some(synapse.text.chars().rev().collect());
    served.0.fetch_add(1, Ordering::Relaxed);
    synapse
}

/// Refuses empty texts before anything else runs.
#[axon::blacklist]
fn refuse_empty(synapse: &Echo) -> Blacklist {
    if synapse.text.is_empty() {
        Blacklist::Deny("empty text".into())
    } else {
        Blacklist::Allow
    }
}

/// Serves short texts first.
#[axon::priority]
fn short_first(synapse: &Echo) -> f64 {
    -(synapse.text.len() as f64)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let text = args.next().unwrap_or_else(|| "hello".to_owned());
    let n = match args.next().map(|a| a.parse::<i64>()) {
        None => 3,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("echo_miner: N must be an integer: {e}");
            std::process::exit(2);
        }
    };

    let handlers = match Axon::from_registry().state(Served::default()).handlers() {
        Ok(handlers) => handlers,
        Err(e) => {
            eprintln!("echo_miner: {e}");
            std::process::exit(1);
        }
    };
    for route in handlers.routes() {
        println!("/{:<8} forward {}", route.synapse, route.forward.name());
        for hook in [route.blacklist, route.priority, route.verify]
            .into_iter()
            .flatten()
        {
            println!("{:9} {} {}", "", hook.kind(), hook.name());
        }
    }

    let request = Echo::new(text, n);
    println!();
    println!("POST /{} body_hash={}", Echo::NAME, request.body_hash());
    if let Blacklist::Deny(reason) = handlers.blacklist(&request).await {
        println!("403 Forbidden. Key is blacklisted: {reason}.");
        return;
    }
    if let Some(priority) = handlers.priority(&request).await {
        println!("priority {priority}");
    }
    match handlers.forward(request).await {
        Ok(response) => {
            let body = response.to_json().expect("an Echo always serializes");
            println!("200 {}", String::from_utf8_lossy(&body));
        }
        Err(e) => println!("{e}"),
    }
}
