#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

fn main() {
    let _ = axon::Axon::new().blacklist(|synapse: &Echo| synapse.text.is_empty());
}
