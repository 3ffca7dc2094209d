use std::collections::HashMap;

#[axon::synapse]
pub struct Scores {
    #[hash]
    #[default]
    pub scores: HashMap<String, f64>,
}

fn main() {}
