#[axon::synapse(route = "Echo")]
pub struct Echo {
    pub text: String,
}

fn main() {}
