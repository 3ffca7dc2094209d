#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

pub struct Model;

#[axon::forward]
fn echo(synapse: Echo, model: Model) -> Echo {
    let _ = model;
    synapse
}
fn main() {}
