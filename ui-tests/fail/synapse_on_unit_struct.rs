#[axon::synapse]
pub struct Ping;

fn main() {}
