#[axon::synapse]
pub struct Timed {
    #[hash]
    #[default]
    pub elapsed: std::time::Duration,
}

fn main() {}
