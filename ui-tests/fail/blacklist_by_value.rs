#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::blacklist]
fn blacklist(synapse: Echo) -> (bool, String) {
    (synapse.text.is_empty(), String::new())
}
fn main() {}
