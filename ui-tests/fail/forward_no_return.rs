#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::forward]
fn echo(synapse: Echo) {
    let _ = synapse;
}
fn main() {}
