// One mistake, one message: the wrong receiver of a forward is reported, and nothing else.
#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
}

pub struct Miner;

impl Miner {
    #[axon::forward]
    fn echo(&self, s: Echo) -> Echo {
        s
    }
}

fn main() {
    let _ = Miner.echo(Echo::new("hi".into()));
}
