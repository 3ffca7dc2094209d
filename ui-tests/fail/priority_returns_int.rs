#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::priority]
fn priority(synapse: &Echo) -> i32 {
    synapse.text.len() as i32
}
fn main() {}
