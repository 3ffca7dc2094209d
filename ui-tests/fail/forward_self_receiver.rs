#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

pub struct Miner;

impl Miner {
    #[axon::forward]
    fn echo(&self, synapse: Echo) -> Echo {
        synapse
    }
}
fn main() {}
