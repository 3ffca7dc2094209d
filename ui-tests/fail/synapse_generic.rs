#[axon::synapse]
pub struct Echo<T> {
    pub value: T,
}

fn main() {}
