use axon::Streaming;

#[axon::synapse]
pub struct Tokens {
    #[hash]
    pub prompt: String,
}

#[axon::synapse]
pub struct Other {
    #[default]
    pub text: String,
}

#[axon::forward]
async fn generate(synapse: Tokens) -> Streaming<Other> {
    let _ = synapse;
    Streaming::new(Other::default(), |chunks| async move { chunks.send("x").await })
}
fn main() {}
