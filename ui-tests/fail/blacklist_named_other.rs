#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::synapse]
pub struct Other {
    #[default]
    pub n: i64,
}

#[axon::blacklist(Other)]
fn blacklist(synapse: &Echo) -> (bool, String) {
    (synapse.text.is_empty(), String::new())
}
fn main() {}
