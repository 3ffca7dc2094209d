#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::verify]
fn verify(synapse: &Echo) -> bool {
    synapse.dendrite.hotkey.is_some()
}
fn main() {}
