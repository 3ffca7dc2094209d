//! Generated from README.md and docs/ by `tests/docs.rs`; do not edit (regenerate with
//! `DOCS_EXAMPLE=overwrite cargo test --test docs`). Their Rust blocks as one program,
//! built by `cargo test` so that the documents compile as written (in modules rustfmt
//! leaves alone, so the code stays the documents').

fn main() -> Result<(), Box<dyn std::error::Error>> {
    readme::main()?;
    guide::main()
}

#[rustfmt::skip]
mod readme {
#![allow(dead_code, unused_variables)]

use axon::Axon;

/// Python: `class Reverse(bt.Synapse): text: str; out: Optional[str] = None`,
///         `required_hash_fields = ("text",)`
#[axon::synapse]
pub struct Reverse {
    #[hash]
    pub text: String,
    #[default]
    pub out: Option<String>,
}

#[axon::forward]
async fn reverse(mut synapse: Reverse) -> Reverse {
    synapse.out = Some(synapse.text.chars().rev().collect());
    synapse
}


#[tokio::main]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (config, _rest) = axon::config::Config::from_process()?;   // --axon.*, --wallet.*, BT_* (Config::help() lists them)
    axon::logging::init(&config.logging)?;
    let mut miner = Axon::from_registry().config(config.axon).wallet(&config.wallet);
    miner.start().await?;                  // every problem at once, each saying what to do
    axon::shutdown_signal().await?;        // SIGTERM or Ctrl-C
    miner.stop().await;                    // answers every request it received, then returns
    Ok(())
}
}

#[rustfmt::skip]
mod guide {
#![allow(dead_code, unused_variables)]

/// Python:
///   class Echo(bt.Synapse):
///       text: str
///       n: int
///       out: Optional[str] = None
///       required_hash_fields: ClassVar[tuple[str, ...]] = ("text", "n")
#[axon::synapse]
pub struct Echo {
    #[hash]
    pub text: String,
    #[hash]
    pub n: i64,
    #[default]
    pub out: Option<String>,
}

use axon::Streaming;

#[axon::synapse]                          // Python: class Tokens(bt.StreamingSynapse)
pub struct Tokens { #[hash] pub prompt: String, #[default] pub completion: String }

pub struct Model;                         // your model, shared as state
impl Model {
    fn tokens(&self, prompt: &str) -> Vec<String> {
        prompt.split(' ').map(|w| format!("{w} ")).collect()
    }
}

#[axon::forward]                          // Tokens -> Streaming<Tokens> (or Result<Streaming<Tokens>, E>)
async fn generate(synapse: Tokens, model: State<Model>) -> Streaming<Tokens> {
    let prompt = synapse.prompt.clone();
    Streaming::new(synapse, move |chunks| async move {
        for token in model.tokens(&prompt) {
            chunks.send(token).await?;    // waits while the client is slower; Err once it is gone
        }
        Ok::<(), axon::HandlerError>(())
    })
}

use axon::{DynamicSynapse, SynapseSchema};

// Python: class Echo(bt.Synapse): text: str; out: Optional[str] = None
//         required_hash_fields = ("text",)

use axon::{Axon, Blacklist, State};

#[derive(Default)]
pub struct Served(std::sync::atomic::AtomicU64);
pub struct DenyList(Vec<String>);

#[axon::forward]                        // Echo -> Echo (or Result<Echo, axon::HandlerError>)
async fn echo(mut synapse: Echo, served: State<Served>) -> Echo {
    synapse.out = Some(synapse.text.chars().rev().collect());
    served.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    synapse
}

#[axon::blacklist]                      // &Echo -> (bool, String) or Blacklist: 403 with the reason
fn refuse_denied(synapse: &Echo, deny: &DenyList) -> Blacklist {
    match &synapse.dendrite.hotkey {
        Some(h) if deny.0.contains(h) => Blacklist::Deny(format!("{h} is denied")),
        _ => Blacklist::Allow,
    }
}

#[axon::priority]                       // &Echo -> f64: higher is served first
fn urgent_first(synapse: &Echo) -> f64 {
    -synapse.timeout.unwrap_or(12.0)
}



fn pinning(metagraph: axon::Metagraph, keypair: axon::keys::Keypair) -> axon::dendrite::Dendrite {
    let prefer = axon::dendrite::TlsMode::Prefer;
    axon::dendrite::Dendrite::new(keypair).tls(move |hotkey| metagraph.tls_key(hotkey), prefer)
}

use axon::metagraph::{Metagraph, SyncOptions};

#[axon::synapse]
pub struct Score { #[hash] pub item: String, #[default] pub score: Option<f64> }

#[axon::forward]
async fn score(mut s: Score) -> Score { s.score = Some(1.0); s }

#[axon::blacklist]                      // the subnet template's: registered validators only
fn validators_only(s: &Score, metagraph: &Metagraph) -> Blacklist {
    metagraph.validator(s.dendrite.hotkey.as_deref())
}

#[axon::priority]                       // the template's: the most staked first
fn by_stake(s: &Score, metagraph: &Metagraph) -> f64 {
    metagraph.stake_priority(s.dendrite.hotkey.as_deref())
}


use axon::auth::Caller;
use axum::Json;

#[derive(serde::Deserialize)]
pub struct Ask { pub text: String }

#[derive(serde::Serialize)]
pub struct Answer { pub text: String, pub out: String }

#[axon::endpoint(POST "/v1/echo", auth = [btauth, epistula], blacklist = not_denied)]
async fn echo_http(caller: Caller, served: State<Served>, Json(ask): Json<Ask>) -> Json<Answer> {
    served.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = ask.text.chars().rev().collect();   // caller.hotkey is the verified sender
    Json(Answer { text: ask.text, out })
}

fn not_denied(caller: &Caller, deny: &DenyList) -> Blacklist {   // before the signature
    match deny.0.contains(&caller.hotkey) {
        true => Blacklist::Deny(format!("{} is denied", caller.hotkey)),
        false => Blacklist::Allow,
    }
}

fn score_endpoint() -> Result<axon::endpoint::Endpoint, axon::endpoint::DeclarationError> {
    let declaration = axon::endpoint::Declaration::parse("POST", "/v1/score")?.epistula(false);
    let score = |caller: Caller, body: axum::body::Bytes| async move {
        format!("{} sent {} bytes", caller.hotkey, body.len())
    };
    Ok(axon::endpoint::Endpoint::new(declaration, score).blacklist(|caller: &Caller| {
        match caller.hotkey.starts_with('5') {
            true => Blacklist::Allow,
            false => Blacklist::Deny("not a Bittensor address".into()),
        }
    }))
}

use axon::auth::Scheme;


use axon::auth::{btauth, epistula, Authenticator};


#[tokio::main]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let echo = SynapseSchema::builder("Echo")
        .required("text")
        .default("out", serde_json::Value::Null)
        .hash(["text"])
        .build()?;                            // refused: a bad name, a field twice, an unknown hashed field
    let axon = axon::Axon::new()
        .attach_dynamic(&echo, |mut s: DynamicSynapse| {
            let text = s.get("text").and_then(|t| t.as_str()).unwrap_or("");
            let reversed: String = text.chars().rev().collect();
            s.set("out", serde_json::json!(reversed)).unwrap();
            s
        })
        .blacklist_dynamic(&echo, |s: &DynamicSynapse| {
            (s.base.dendrite.hotkey.is_none(), "no hotkey".to_string())
        });
    let handlers = Axon::from_registry().state(Served::default()).state(DenyList(vec![])).handlers()?;
    let (config, _rest) = axon::config::Config::from_process()?;   // --axon.*, --wallet.*, --logging.*, BT_*
    axon::logging::init(&config.logging)?;  // stderr (and bittensor.log with --logging.record_log)
    let mut axon = Axon::from_registry()
        .config(config.axon)
        .wallet(&config.wallet)            // or .hotkey(Keypair::from_uri("//Alice")?) locally
        .operations("127.0.0.1:9100".parse()?)   // /metrics and /healthz, on their own port
        .trusted_proxies(["10.0.0.5"])     // only behind a reverse proxy
        .state(Served::default())
        .state(DenyList(vec![]))
        .state(Model);
    axon.start().await?;                   // returns once listening; every problem in one error
    println!("{}", axon.info().unwrap());  // AxonInfo( /ipv4/203.0.113.7:8091, 5Hot.., 5Cold.., 10005000 )
    let signal = axon::shutdown_signal().await?;   // SIGTERM or SIGINT
    println!("{signal}: draining");
    axon.stop().await;                     // drains: requests already received are answered
    let (network, endpoint) = config.subtensor.endpoint();   // --subtensor.network / --subtensor.chain_endpoint
    let subtensor = std::sync::Arc::new(axon::chain::Subtensor::connect(&endpoint).await?);
    let netuid = config.netuid.unwrap_or(1);                 // --netuid
    let metagraph = Metagraph::sync(subtensor.clone(), netuid, SyncOptions::default()).await?;
    let mut miner = Axon::from_registry().wallet(&config.wallet).metagraph(metagraph.clone());
    miner.start().await?;
    miner.serve(netuid, &subtensor).await?;   // Served::Unchanged when the chain already holds this info
    println!("{network}: subnet {netuid} at block {}", metagraph.snapshot().block);
    let handlers = Axon::from_registry().endpoint(score_endpoint()?).handlers()?;
    assert!(handlers.endpoints().iter().any(|e| e.declaration.label() == "POST /v1/score"));
    let bob = axon::dendrite::Dendrite::new(axon::keys::Keypair::from_uri("//Bob")?);
    let target = miner.info().unwrap();
    let body = br#"{"text": "hello"}"#.to_vec();
    let answer = bob.send_signed(Scheme::Epistula, "POST", &target, "/v1/echo", body, std::time::Duration::from_secs(12)).await?;
    println!("{} {:?}", answer.status, answer.body);   // bob.signed_request(..) builds it without sending
    let me = axon::keys::Keypair::from_uri("//Alice")?;
    let auth = Authenticator::new(me.ss58());        // 10 s back, 2 s ahead, receiver required
    let validator = axon::keys::Keypair::from_uri("//Bob")?;
    let body = br#"{"text": "hi"}"#;
    let signed = btauth::sign(&validator, "POST", "/v1/echo?v=1", body, Some(me.ss58()), None);
    let header = |name: &str| signed.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let caller = auth.btauth(header, "POST", "/v1/echo?v=1", body, std::time::SystemTime::now())?;
    println!("{} signed with {:?}", caller.hotkey, caller.scheme);
    let _epistula = epistula::sign(&validator, body, Some(me.ss58()), None, None)?; // sr25519 keys only
    Ok(())
}
}
