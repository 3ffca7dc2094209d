#[axon::synapse(name = "text-gen")]
pub struct TextGen {
    pub text: String,
}

fn main() {}
