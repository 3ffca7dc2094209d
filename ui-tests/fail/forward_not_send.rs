#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

use std::rc::Rc;

async fn tick() {}

#[axon::forward]
async fn echo(synapse: Echo) -> Echo {
    let local = Rc::new(1);
    tick().await;
    drop(local);
    synapse
}
fn main() {}
