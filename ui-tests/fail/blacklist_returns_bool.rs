#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::blacklist]
async fn blacklist(synapse: &Echo) -> bool {
    synapse.text.is_empty()
}
fn main() {}
