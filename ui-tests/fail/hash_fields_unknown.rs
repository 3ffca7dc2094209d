#[axon::synapse(hash_fields = ["text", "txet", "text"])]
pub struct Echo {
    pub text: String,
    pub n: i64,
}

fn main() {}
