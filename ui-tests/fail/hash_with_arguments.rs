#[axon::synapse]
pub struct Echo {
    #[hash(order = 2)]
    pub text: String,
}

fn main() {}
