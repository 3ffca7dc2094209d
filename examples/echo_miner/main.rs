//! The echo miner's synapse, on the wire.
//!
//! Until the server lands, this prints what a Python dendrite would send for an `Echo`
//! request, computed by the Rust codec: the headers, the JSON body and its body hash. Compare
//! it with Python:
//!
//! ```python
//! class Echo(bt.Synapse):
//!     text: str
//!     n: int
//!     out: Optional[str] = None
//!     required_hash_fields: ClassVar[tuple[str, ...]] = ("text", "n")
//! Echo(text="hello", n=3).body_hash
//! ```
//!
//! Run: `cargo run --example echo_miner [-- TEXT N]`

use axon::Synapse;

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

fn main() {
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
    let echo = Echo::new(text, n);
    println!("POST /{}", Echo::NAME);
    for (name, value) in echo.to_headers().iter() {
        println!("{name}: {value}");
    }
    let body = echo.to_json().expect("an Echo always serializes");
    println!();
    println!("{}", String::from_utf8_lossy(&body));
    println!();
    println!("body_hash = {}", echo.body_hash());
}
