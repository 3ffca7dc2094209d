#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

use std::cell::Cell;

#[axon::forward]
fn echo(synapse: Echo, counter: axon::State<Cell<u64>>) -> Echo {
    counter.set(counter.get() + 1);
    synapse
}
fn main() {}
