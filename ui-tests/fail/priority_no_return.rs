#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::priority]
fn priority(synapse: &Echo) {
    let _ = synapse;
}
fn main() {}
