#[axon::synapse]
pub struct Echo {
    pub text: String,
    pub timeout: f64,
    pub dendrite: String,
}

fn main() {}
