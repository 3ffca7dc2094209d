#[axon::synapse]
pub struct Echo {
    #[serde(rename = "Text")]
    pub text: String,
}

fn main() {}
