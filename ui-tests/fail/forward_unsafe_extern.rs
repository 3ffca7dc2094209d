#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::forward]
unsafe extern "C" fn echo(synapse: Echo) -> Echo {
    synapse
}
fn main() {}
