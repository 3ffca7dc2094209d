#[axon::synapse]
#[derive(Debug, Default, serde::Serialize)]
pub struct Echo {
    #[default]
    pub text: String,
}

fn main() {}
