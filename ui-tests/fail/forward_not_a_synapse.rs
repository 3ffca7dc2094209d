#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

pub struct Plain {
    pub text: String,
}

#[axon::forward]
async fn echo(synapse: Plain) -> Plain {
    synapse
}
fn main() {}
