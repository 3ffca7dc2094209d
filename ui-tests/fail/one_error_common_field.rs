// One mistake, one message: the clashing field is reported, and the rest of the program
// (a forward taking the synapse, `new`, the common field read) raises nothing more.
#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    pub timeout: f64,
}

#[axon::forward]
fn echo(s: Echo) -> Echo {
    s
}

fn main() {
    let s = Echo::new("hi".into());
    let _: Option<f64> = s.timeout;
}
