#[axon::synapse]
#[derive(Clone)]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

fn main() {
    let _ = axon::Axon::new().attach(|synapse: &Echo| synapse.clone());
}
