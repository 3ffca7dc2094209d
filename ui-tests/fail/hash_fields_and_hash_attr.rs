#[axon::synapse(hash_fields = ["text"])]
pub struct Echo {
    #[hash]
    pub text: String,
}

fn main() {}
