#[axon::synapse]
pub enum Echo {
    Text(String),
}

fn main() {}
