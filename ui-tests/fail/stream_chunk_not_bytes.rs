use axon::Streaming;

#[axon::synapse]
pub struct Tokens {
    #[hash]
    pub prompt: String,
}

#[axon::forward]
async fn generate(synapse: Tokens) -> Streaming<Tokens> {
    Streaming::new(synapse, |chunks| async move {
        chunks.send(42u32).await
    })
}
fn main() {}
