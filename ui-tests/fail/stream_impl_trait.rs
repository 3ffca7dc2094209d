#[axon::synapse]
pub struct Tokens {
    #[hash]
    pub prompt: String,
}

#[axon::forward]
async fn generate(synapse: Tokens) -> impl Iterator<Item = String> {
    synapse.prompt.split(' ').map(str::to_owned).collect::<Vec<_>>().into_iter()
}
fn main() {}
