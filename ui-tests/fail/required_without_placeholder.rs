#[axon::synapse]
pub struct Timed {
    pub elapsed: std::time::Duration,
}

fn main() {}
