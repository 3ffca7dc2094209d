#[axon::synapse(timeout = "60")]
pub struct Quoted {
    #[default]
    pub text: String,
}

#[axon::synapse(timeout = 0)]
pub struct Zero {
    #[default]
    pub text: String,
}

#[axon::synapse(timeout = -1.0)]
pub struct Negative {
    #[default]
    pub text: String,
}

fn main() {
    // The synapses stay usable after the error.
    let _ = (Quoted::default(), Zero::default(), Negative::default());
}
