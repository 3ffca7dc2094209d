#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::forward]
fn echo<S: axon::Synapse>(synapse: S) -> S {
    synapse
}
fn main() {}
