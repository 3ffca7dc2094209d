#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::forward]
fn echo() -> Echo {
    Echo::new(String::new())
}
fn main() {}
