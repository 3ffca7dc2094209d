//! Every handler form the attributes accept: sync and async, each return shape, state by
//! reference and by handle, and an attribute naming its synapse.

use axon::{Axon, Blacklist, HandlerError, HandlerKind, State};

#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::synapse(name = "Count")]
pub struct CountSynapse {
    #[default]
    pub n: i64,
}

pub struct Model {
    pub prefix: String,
}

pub struct Limits {
    pub max: i64,
}

#[axon::forward]
async fn echo(mut synapse: Echo, model: &Model, limits: State<Limits>) -> Result<Echo, HandlerError> {
    let _ = limits.max;
    synapse.out = Some(format!("{}{}", model.prefix, synapse.text));
    Ok(synapse)
}

#[axon::blacklist(Echo)]
async fn echo_blacklist(synapse: &Echo, model: &Model) -> Blacklist {
    if synapse.text.starts_with(&model.prefix) {
        Blacklist::Deny("already prefixed".into())
    } else {
        Blacklist::Allow
    }
}

#[axon::priority]
fn echo_priority(synapse: &Echo) -> f64 {
    synapse.text.len() as f64
}

#[axon::verify]
async fn echo_verify(synapse: &Echo) -> Result<(), std::io::Error> {
    let _ = synapse;
    Ok(())
}

#[axon::forward(CountSynapse)]
fn count(mut synapse: CountSynapse, limits: &Limits) -> CountSynapse {
    synapse.n = synapse.n.min(limits.max);
    synapse
}

#[axon::blacklist]
fn count_blacklist(synapse: &CountSynapse) -> (bool, String) {
    (synapse.n < 0, "negative".into())
}

#[axon::priority]
async fn count_priority(synapse: &CountSynapse, limits: State<Limits>) -> f64 {
    (limits.max - synapse.n) as f64
}

#[axon::verify]
fn count_verify(synapse: &CountSynapse) -> Result<(), HandlerError> {
    let _ = synapse;
    Ok(())
}

fn main() {
    let handlers = Axon::from_registry()
        .state(Model { prefix: "> ".into() })
        .state(Limits { max: 10 })
        .handlers()
        .unwrap();
    assert_eq!(
        handlers.synapses().collect::<Vec<_>>(),
        ["Synapse", "Count", "Echo"]
    );
    let route = handlers.route("Echo").unwrap();
    assert!(route.forward.name().ends_with("::echo"));
    assert_eq!(route.blacklist.unwrap().kind(), HandlerKind::Blacklist);
    assert!(route.priority.unwrap().name().ends_with("::echo_priority"));
    assert!(route.verify.unwrap().name().ends_with("::echo_verify"));
    let count = handlers.route("Count").unwrap();
    assert!(count.synapse_type.ends_with("CountSynapse"));
}
