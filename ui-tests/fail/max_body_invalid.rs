#[axon::synapse(max_body = 0)]
pub struct Upload {
    pub data: String,
}

#[axon::synapse(max_body = "64MB")]
pub struct Upload2 {
    pub data: String,
}

fn main() {}
