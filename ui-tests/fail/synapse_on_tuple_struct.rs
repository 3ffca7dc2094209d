#[axon::synapse]
pub struct Echo(String, i64);

fn main() {}
