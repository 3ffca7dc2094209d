#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

pub struct Miner;

impl Miner {
    #[axon::priority]
    unsafe fn priority<T>(&self, synapse: Echo, model: T) {
        let _ = (synapse, model);
    }
}
fn main() {}
