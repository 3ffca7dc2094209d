//! A realistic subnet miner: only known validators get in, the ones with the most stake are
//! served first, and the handlers share state (a policy and per-validator counters).
//!
//! The Python twin of its synapse:
//!
//! ```python
//! class Complete(bt.Synapse):
//!     prompt: str
//!     max_words: int = 8
//!     completion: Optional[str] = None
//!     required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt", "max_words")
//! ```
//!
//! With `--netuid N` the validators and their stakes come from the chain: the miner
//! publishes its axon on subnet N at start (`Axon::serve`), keeps the subnet's metagraph in
//! sync, and serves the subnet template's way: registered hotkeys with a validator permit
//! only, the most staked first, everything refused while the metagraph is stale. The chain is
//! `--subtensor.network` / `--subtensor.chain_endpoint` (finney by default).
//!
//! The same model answers bittensor 11 (btauth/1) and Epistula validators at
//! `POST /v1/complete` (`{"prompt": .., "max_words": ..}` in, `{"completion": ..}` out), under
//! the same rule, checked before the signature.
//!
//! Without `--netuid` (offline) they come from a JSON policy file:
//!
//! ```json
//! {"min_stake": 100.0, "validators": {"5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty": 1500.0}}
//! ```
//!
//! Run with a wallet (`--wallet.name`, `--wallet.hotkey`, `--wallet.path`, as btcli) or a
//! development key, and the Python config flags:
//!
//! ```text
//! cargo run --example subnet_miner -- --netuid 1 --wallet.name miner --wallet.hotkey default
//! cargo run --example subnet_miner -- --policy policy.json --wallet.name miner
//! cargo run --example subnet_miner -- --dev-key //Alice --axon.ip 127.0.0.1 --axon.external_ip 127.0.0.1
//! ```
//!
//! `--ops 127.0.0.1:9100` serves `/metrics` and `/healthz` there; `--trusted-proxy NET`
//! (repeatable) names the reverse proxies whose client address is believed. SIGTERM or SIGINT drains
//! it (every request already received is answered) and it exits 0; a failed start exits 1
//! with the reason.
//!
//! Without `--policy`, the development validators `//Bob` (stake 1500) and `//Charlie`
//! (stake 200) are allowed, with a minimum stake of 100.

use axon::auth::{AuthConfig, Caller, Crypto};
use axon::chain::Subtensor;
use axon::config::Config;
use axon::keys::Keypair;
use axon::metagraph::SyncOptions;
use axon::{Axon, Blacklist, Metagraph, State};
use axum::Json;

/// mimalloc instead of glibc's malloc (as `echo_miner`: less CPU per request).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::collections::HashMap;
use std::sync::Mutex;

/// Python: `class Complete(bt.Synapse)` (see the module docs).
#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Complete {
    #[hash]
    pub prompt: String,
    #[hash]
    #[default(8)]
    pub max_words: i64,
    #[default]
    pub completion: Option<String>,
}

/// Who may call, and how much stake each has: the metagraph's view, from a file.
#[derive(Debug, serde::Deserialize)]
pub struct Policy {
    /// Validators below this stake are refused.
    pub min_stake: f64,
    /// Hotkey to stake.
    pub validators: HashMap<String, f64>,
}

impl Policy {
    /// The development validators: //Bob (1500) and //Charlie (200), minimum 100.
    pub fn development() -> Self {
        let ss58 = |uri: &str| Keypair::from_uri(uri).map(|k| k.ss58().to_owned());
        let mut validators = HashMap::new();
        for (uri, stake) in [("//Bob", 1500.0), ("//Charlie", 200.0)] {
            validators.insert(ss58(uri).expect("a development URI"), stake);
        }
        Policy {
            min_stake: 100.0,
            validators,
        }
    }

    fn stake(&self, hotkey: Option<&str>) -> Option<f64> {
        hotkey.and_then(|h| self.validators.get(h).copied())
    }
}

/// Who may call: the chain's metagraph (`--netuid`) or a policy file.
pub enum Validators {
    /// The subnet template's policies on the live metagraph.
    Chain(Metagraph),
    /// A policy file (offline).
    File(Policy),
}

/// Requests served per validator.
#[derive(Default)]
pub struct Served(Mutex<HashMap<String, u64>>);

/// Refuses hotkeys that are not validators with enough stake. It runs before the signature
/// check, on the request's headers only: a cheap refusal for anyone unknown.
#[axon::blacklist]
fn known_validators(synapse: &Complete, validators: &Validators) -> Blacklist {
    admit(synapse.dendrite.hotkey.as_deref(), validators)
}

/// The validators' rule, for the synapse and the signed-HTTP endpoint alike.
fn admit(hotkey: Option<&str>, validators: &Validators) -> Blacklist {
    let policy = match validators {
        Validators::Chain(metagraph) => return metagraph.validator(hotkey),
        Validators::File(policy) => policy,
    };
    match policy.stake(hotkey) {
        None => Blacklist::Deny(format!(
            "{} is not a known validator",
            hotkey.unwrap_or("a caller without hotkey")
        )),
        Some(stake) if stake < policy.min_stake => Blacklist::Deny(format!(
            "stake {stake} is below the minimum of {}",
            policy.min_stake
        )),
        Some(_) => Blacklist::Allow,
    }
}

/// Validators with more stake are served first when requests queue.
#[axon::priority]
fn by_stake(synapse: &Complete, validators: &Validators) -> f64 {
    let hotkey = synapse.dendrite.hotkey.as_deref();
    match validators {
        Validators::Chain(metagraph) => metagraph.stake_priority(hotkey),
        Validators::File(policy) => policy.stake(hotkey).unwrap_or(0.0),
    }
}

/// The "model": completes the prompt with its own words, reversed, up to `max_words`.
#[axon::forward]
async fn complete(mut synapse: Complete, served: State<Served>) -> Complete {
    synapse.completion = Some(completion(&synapse.prompt, synapse.max_words));
    if let Some(hotkey) = &synapse.dendrite.hotkey {
        *served.0.lock().unwrap().entry(hotkey.clone()).or_default() += 1;
    }
    synapse
}

fn completion(prompt: &str, max_words: i64) -> String {
    let words = max_words.clamp(0, 256) as usize;
    let reversed: Vec<&str> = prompt.split_whitespace().rev().take(words).collect();
    reversed.join(" ")
}

/// What `POST /v1/complete` reads: `{"prompt": .., "max_words": ..}`.
#[derive(serde::Deserialize)]
pub struct CompleteIn {
    pub prompt: String,
    #[serde(default = "eight")]
    pub max_words: i64,
}

fn eight() -> i64 {
    8
}

/// The same model for bittensor 11 and Epistula validators: `POST /v1/complete`, under the
/// same rule (the metagraph's validators, the most staked first), checked before the
/// signature.
#[axon::endpoint(POST "/v1/complete", blacklist = known_caller, priority = caller_stake)]
async fn complete_http(
    caller: Caller,
    served: State<Served>,
    Json(ask): Json<CompleteIn>,
) -> Json<serde_json::Value> {
    *served.0.lock().unwrap().entry(caller.hotkey).or_default() += 1;
    let completion = completion(&ask.prompt, ask.max_words);
    Json(serde_json::json!({ "completion": completion }))
}

fn known_caller(caller: &Caller, validators: &Validators) -> Blacklist {
    admit(Some(&caller.hotkey), validators)
}

fn caller_stake(caller: &Caller, validators: &Validators) -> f64 {
    match validators {
        Validators::Chain(metagraph) => metagraph.stake_priority(Some(&caller.hotkey)),
        Validators::File(policy) => policy.stake(Some(&caller.hotkey)).unwrap_or(0.0),
    }
}

/// The chain the settings name (`--subtensor.*`).
async fn connect(config: &Config) -> std::sync::Arc<Subtensor> {
    let (network, endpoint) = config.subtensor.endpoint();
    println!("subnet_miner: connecting to {network} at {endpoint}");
    let subtensor = Subtensor::connect(&endpoint)
        .await
        .unwrap_or_else(|e| fail(e));
    std::sync::Arc::new(subtensor)
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("subnet_miner: {message}");
    std::process::exit(1);
}

/// What `--help` prints before the shared settings.
const USAGE: &str = "\
subnet_miner: serves only known validators with enough stake, the most staked first.

Usage: cargo run --example subnet_miner -- [FLAGS]
  --netuid N                   publish on subnet N and serve its validators (the metagraph)
  --policy FILE                offline: the validators and the minimum stake (JSON) [default: development]
  --dev-key URI                serve with a development key instead of the wallet
  --crypto-type TYPE           the development key's type: sr25519 or ed25519 (btcli's sr
                               or ed) [default sr25519]; a wallet's hotkey says its own
  --ops ADDR                   serve /metrics and /healthz on ADDR (e.g. 127.0.0.1:9100)
  --trusted-proxy NET          believe this proxy's PROXY header and X-Forwarded-For, repeatable
  --help                       this text
";

#[tokio::main]
async fn main() {
    let (config, rest) = Config::from_process().unwrap_or_else(|e| fail(e));
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}\n{}", Config::help());
        return;
    }
    axon::logging::init(&config.logging).unwrap_or_else(|e| fail(e));
    let mut policy = None;
    let mut dev_key = None;
    let mut crypto = Crypto::Sr25519;
    let mut ops = None;
    let mut proxies = Vec::new();
    let mut rest = rest.into_iter();
    while let Some(flag) = rest.next() {
        let mut value = || {
            rest.next()
                .unwrap_or_else(|| fail(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--policy" => {
                let path = value();
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| fail(format!("cannot read {path}: {e}")));
                policy = Some(
                    serde_json::from_str::<Policy>(&text)
                        .unwrap_or_else(|e| fail(format!("{path}: {e}"))),
                );
            }
            "--dev-key" => dev_key = Some(value()),
            "--crypto-type" => {
                crypto = value()
                    .parse()
                    .unwrap_or_else(|e| fail(format!("--crypto-type: {e}")))
            }
            "--trusted-proxy" => proxies.push(value()),
            "--ops" => {
                let addr = value();
                ops = Some(addr.parse().unwrap_or_else(|_| {
                    fail(format!(
                        "--ops takes an address like 127.0.0.1:9100, not `{addr}`"
                    ))
                }));
            }
            _ => fail(format!("unexpected argument `{flag}`: see --help")),
        }
    }

    let served = std::sync::Arc::new(Served::default());
    let chain = match config.netuid {
        Some(_) if policy.is_some() => fail("--policy is for offline runs: drop it or --netuid"),
        Some(netuid) => Some((netuid, connect(&config).await)),
        None => None,
    };
    let validators = match &chain {
        Some((netuid, subtensor)) => {
            let metagraph = Metagraph::sync(subtensor.clone(), *netuid, SyncOptions::default())
                .await
                .unwrap_or_else(|e| fail(e));
            let n = metagraph.snapshot().neurons.len();
            println!("subnet_miner: metagraph of subnet {netuid}: {n} neurons");
            Validators::Chain(metagraph)
        }
        None => Validators::File(policy.unwrap_or_else(Policy::development)),
    };
    let axon = Axon::from_registry()
        .config(config.axon)
        .auth(AuthConfig {
            pins: config.auth,
            ..AuthConfig::default()
        })
        .state_arc(served.clone());
    let axon = match &validators {
        Validators::Chain(metagraph) => axon.metagraph(metagraph.clone()),
        Validators::File(_) => axon,
    };
    let axon = axon.state(validators);
    let axon = match ops {
        Some(ops) => axon.operations(ops),
        None => axon,
    };
    let axon = if proxies.is_empty() {
        axon
    } else {
        axon.trusted_proxies(&proxies)
    };
    let mut axon = match dev_key {
        Some(uri) => axon.hotkey(Keypair::from_uri_with(&uri, crypto).unwrap_or_else(|e| fail(e))),
        None => axon.wallet(&config.wallet),
    };
    if let Err(e) = axon.start().await {
        fail(e);
    }
    match axon.info() {
        Some(info) => println!("subnet_miner: serving {info}"),
        None => println!("subnet_miner: serving {axon}"),
    }
    println!(
        "subnet_miner: listening on {}",
        axon.local_addr().expect("started")
    );
    if let Some((netuid, subtensor)) = &chain {
        match axon.serve(*netuid, subtensor).await {
            Ok(served) => println!("subnet_miner: published on subnet {netuid}: {served:?}"),
            Err(e) => fail(e),
        }
    }

    let signal = axon::shutdown_signal()
        .await
        .unwrap_or_else(|e| fail(format!("cannot wait for SIGTERM or SIGINT: {e}")));
    println!("subnet_miner: {signal}: draining (a second signal stops at once)");
    tokio::select! {
        _ = axon.stop() => {}
        again = axon::shutdown_signal() => {
            fail(format!("{}: stopped without draining", again.unwrap_or("signal")))
        }
    }
    for (hotkey, n) in served.0.lock().unwrap().iter() {
        println!("subnet_miner: served {n} requests for {hotkey}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(uri: &str) -> Complete {
        let mut s = Complete::new("the quick brown fox".into());
        s.dendrite.hotkey = Some(Keypair::from_uri(uri).unwrap().ss58().to_owned());
        s
    }

    #[tokio::test(flavor = "current_thread")]
    async fn only_validators_with_stake_get_in_and_the_biggest_go_first() {
        let mut policy = Policy::development();
        policy.min_stake = 300.0;
        let handlers = Axon::from_registry()
            .state(Validators::File(policy))
            .state(Served::default())
            .handlers()
            .unwrap();
        assert_eq!(handlers.blacklist(&from("//Bob")).await, Blacklist::Allow);
        assert_eq!(
            handlers.blacklist(&from("//Charlie")).await,
            Blacklist::Deny("stake 200 is below the minimum of 300".into())
        );
        let eve = Keypair::from_uri("//Eve").unwrap();
        assert_eq!(
            handlers.blacklist(&from("//Eve")).await,
            Blacklist::Deny(format!("{} is not a known validator", eve.ss58()))
        );
        assert_eq!(handlers.priority(&from("//Bob")).await, Some(1500.0));
        let mut short = from("//Bob");
        short.max_words = 2;
        let out = handlers.forward(short).await.unwrap();
        assert_eq!(out.completion.as_deref(), Some("fox brown"));
    }
}
