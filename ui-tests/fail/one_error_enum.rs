// One mistake, one message: `#[synapse]` on an enum is reported, and a forward taking it
// does not add "`Echo` is not a synapse".
#[axon::synapse]
pub enum Echo {
    Text(String),
}

#[axon::forward]
fn echo(s: Echo) -> Echo {
    s
}

fn main() {}
