#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::synapse]
pub struct Other {
    #[default]
    pub n: i64,
}

#[axon::forward(Other)]
fn echo(synapse: Echo) -> Echo {
    synapse
}
fn main() {}
