//! Every handler form the attributes accept: sync and async, each return shape, state by
//! reference and by handle, and an attribute naming its synapse.

use axon::{Axon, BaseSynapse, Blacklist, HandlerError, HandlerKind, State, Streaming};

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

#[axon::synapse]
pub struct Tokens {
    #[hash]
    pub prompt: String,
}

#[axon::synapse]
pub struct Words {
    #[hash]
    pub prompt: String,
}

/// A streaming forward: async, fallible, with state moved into the producer.
#[axon::forward]
async fn tokens(synapse: Tokens, model: State<Model>) -> Result<Streaming<Tokens>, HandlerError> {
    if synapse.prompt.is_empty() {
        return Err(HandlerError::new(axon::StatusCode::BAD_REQUEST, "empty prompt"));
    }
    let words: Vec<String> = synapse.prompt.split(' ').map(str::to_owned).collect();
    Ok(Streaming::new(synapse, move |chunks| async move {
        for word in &words {
            chunks.send(format!("{}{word}\n", model.prefix)).await?;
        }
        Ok::<(), HandlerError>(())
    }))
}

/// A plain-`fn` streaming forward whose producer returns `()`.
#[axon::forward]
fn words(synapse: Words) -> Streaming<Words> {
    Streaming::new(synapse, |chunks| async move {
        let _ = chunks.send(&b"bytes"[..]).await;
    })
    .buffer(1)
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
    // A closure streams too.
    let attached = Axon::new()
        .attach(|s: BaseSynapse| Streaming::new(s, |chunks| async move { chunks.send("pong").await }))
        .handlers()
        .unwrap();
    assert!(attached.route("Synapse").is_some());

    let handlers = Axon::from_registry()
        .state(Model { prefix: "> ".into() })
        .state(Limits { max: 10 })
        .handlers()
        .unwrap();
    assert_eq!(
        handlers.synapses().collect::<Vec<_>>(),
        ["Synapse", "Count", "Echo", "Tokens", "Words"]
    );
    let route = handlers.route("Echo").unwrap();
    assert!(route.forward.name().ends_with("::echo"));
    assert_eq!(route.blacklist.unwrap().kind(), HandlerKind::Blacklist);
    assert!(route.priority.unwrap().name().ends_with("::echo_priority"));
    assert!(route.verify.unwrap().name().ends_with("::echo_verify"));
    let count = handlers.route("Count").unwrap();
    assert!(count.synapse_type.ends_with("CountSynapse"));
}
