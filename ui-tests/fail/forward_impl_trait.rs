#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::forward]
fn echo(synapse: impl axon::Synapse) -> Echo {
    let _ = synapse;
    Echo::new(String::new())
}
fn main() {}
