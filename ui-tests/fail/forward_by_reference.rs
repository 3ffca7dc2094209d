#[axon::synapse]
#[derive(Clone)]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::forward]
fn echo(synapse: &Echo) -> Echo {
    synapse.clone()
}
fn main() {}
