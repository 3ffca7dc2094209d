#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::forward]
pub struct Handler {
    pub echo: Echo,
}
fn main() {}
