#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::forward]
async fn echo(synapse: Echo) -> String {
    synapse.text
}
fn main() {}
