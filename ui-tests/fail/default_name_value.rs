#[axon::synapse]
pub struct Echo {
    #[default = 3]
    pub n: i64,
}

fn main() {}
