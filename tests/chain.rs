//! The chain, against the real subtensor runtime (spec 218) under chopsticks on loopback
//! (`tests/support/chain.rs`): the client's call bytes against Python's SCALE encoding,
//! `Axon::serve` read back by the real bittensor 10.5.0, the metagraph neuron by neuron
//! against Python's storage reads, and a running axon with the miner policies.
//!
//! The tests do their own setup as //Alice (sudo, funded): lift the rate limits, register a
//! subnet, burn-register a miner hotkey and validator hotkeys, stake, and set validator
//! permits (the runtime computes them at an epoch; the test writes them with chopsticks'
//! `dev_setStorage`).

mod support;

use axon::auth::{Crypto, Scheme};
use axon::chain::{Subtensor, Value};
use axon::keys::Keypair;
use axon::metagraph::{Metagraph, SyncOptions};
use axon::{Axon, Blacklist, ServeError, Served, State};
use serde_json::json;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use support::chain::{chain, python_reads, python_reads_at, until, Relay};
use support::http::{exchange, get, request_bytes, sign};
use tokio::sync::watch;

fn account(key: &Keypair) -> Value {
    Value::Bytes(key.public().to_vec())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the setup made: a subnet with a miner (//Alice//miner), validators //Bob (high
/// stake) and //Charlie (low stake) with permits, //Dave registered without one. //Eve is
/// never registered.
struct Subnet {
    netuid: u16,
}

const TAO: u128 = 1_000_000_000;

fn key(uri: &str) -> Keypair {
    Keypair::from_uri(uri).unwrap()
}

fn ss58(uri: &str) -> String {
    key(uri).ss58().to_owned()
}

async fn sudo(chain: &Subtensor, call: &str, args: &[(&str, Value)]) {
    let inner = chain.call_data("AdminUtils", call, args).await.unwrap();
    let call = chain
        .call_data("Sudo", "sudo", &[("call", Value::Raw(inner))])
        .await
        .unwrap();
    chain
        .submit(&call, &alice())
        .await
        .unwrap_or_else(|e| panic!("sudo {call:?}: {e}"));
}

fn alice() -> Keypair {
    Keypair::from_uri("//Alice").unwrap()
}

/// Registers `hotkey` on `netuid`, paid by //Alice.
async fn register(chain: &Subtensor, netuid: u16, hotkey: &Keypair) {
    let call = chain
        .call_data(
            "SubtensorModule",
            "burned_register",
            &[
                ("netuid", Value::U(netuid.into())),
                ("hotkey", account(hotkey)),
            ],
        )
        .await
        .unwrap();
    chain
        .submit(&call, &alice())
        .await
        .unwrap_or_else(|e| panic!("register {}: {e}", hotkey.ss58()));
}

async fn make_subnet(chain: &Subtensor) -> Subnet {
    sudo(
        chain,
        "sudo_set_network_rate_limit",
        &[("rate_limit", Value::U(0))],
    )
    .await;
    let mut netuid = 1u16;
    while chain
        .storage(
            "SubtensorModule",
            "NetworksAdded",
            &[Value::U(netuid.into())],
        )
        .await
        .unwrap()
        == Some(Value::Bool(true))
    {
        netuid += 1;
    }
    let owner = Keypair::from_uri("//Alice//owner").unwrap();
    let call = chain
        .call_data(
            "SubtensorModule",
            "register_network",
            &[("hotkey", account(&owner)), ("mechid", Value::U(1))],
        )
        .await
        .unwrap();
    chain.submit(&call, &alice()).await.unwrap();
    let n = Value::U(netuid.into());
    for (call, arg, value) in [
        ("sudo_set_serving_rate_limit", "serving_rate_limit", 0),
        (
            "sudo_set_max_registrations_per_block",
            "max_registrations_per_block",
            64,
        ),
        (
            "sudo_set_target_registrations_per_interval",
            "target_registrations_per_interval",
            64,
        ),
    ] {
        sudo(
            chain,
            call,
            &[("netuid", n.clone()), (arg, Value::U(value))],
        )
        .await;
    }
    for uri in ["//Alice//miner", "//Bob", "//Charlie", "//Dave"] {
        register(chain, netuid, &key(uri)).await;
    }
    stakes(chain, netuid, &[("//Bob", 1000), ("//Charlie", 10)]).await;
    Subnet { netuid }
}

/// Writes `SubtensorModule.item(keys) = value` with chopsticks' `dev_setStorage`.
async fn set_storage(chain: &Subtensor, item: &str, keys: &[Value], value: Value) {
    let (k, v) = chain
        .encode_storage("SubtensorModule", item, keys, &value)
        .await
        .unwrap();
    let pair = [format!("0x{}", hex(&k)), format!("0x{}", hex(&v))];
    chain.rpc("dev_setStorage", json!([[pair]])).await.unwrap();
}

/// Stakes `stakes` (TAO): `add_stake` on a subnet this young swaps TAO into 0 alpha in
/// this runtime (its pool has no reserve yet), so the stakes are written to storage with
/// chopsticks' `dev_setStorage`.
async fn stakes(chain: &Subtensor, netuid: u16, stakes: &[(&str, u128)]) {
    for (uri, tao) in stakes {
        let hotkey = [account(&key(uri)), Value::U(netuid.into())];
        set_storage(chain, "TotalHotkeyAlpha", &hotkey, Value::U(tao * TAO)).await;
    }
}

/// Gives exactly `uris` a validator permit. A young subnet in this runtime runs an epoch
/// at every block, which gives every neuron a permit; so the permits hold until the next
/// block, and a test that needs them holds [`BLOCKS`] from this write to its last check.
async fn permit(chain: &Subtensor, netuid: u16, uris: &[&str]) {
    let subnet = Value::U(netuid.into());
    let n = chain
        .storage(
            "SubtensorModule",
            "SubnetworkN",
            std::slice::from_ref(&subnet),
        )
        .await
        .unwrap();
    let mut permits = Vec::new();
    for uid in 0..n.and_then(|n| n.as_u128()).unwrap() {
        let at = [subnet.clone(), Value::U(uid)];
        let hotkey = chain
            .storage("SubtensorModule", "Keys", &at)
            .await
            .unwrap()
            .unwrap();
        let allowed = uris
            .iter()
            .any(|u| Some(&key(u).public()[..]) == hotkey.as_bytes());
        permits.push(Value::Bool(allowed));
    }
    set_storage(chain, "ValidatorPermit", &[subnet], Value::Seq(permits)).await;
}

/// Held by whatever builds a block, and by a test from writing permits to its last check.
static BLOCKS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The test binary's subnet, made once (on a thread of its own: each test has its own
/// runtime, and the setup outlives none of them).
fn subnet() -> &'static Subnet {
    static SUBNET: OnceLock<Subnet> = OnceLock::new();
    SUBNET.get_or_init(|| {
        std::thread::spawn(|| {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let chain = Subtensor::connect(&chain().endpoint()).await.unwrap();
                make_subnet(&chain).await
            })
        })
        .join()
        .unwrap()
    })
}

#[tokio::test]
/// A snapshot of this crate's own encoding of `serve_axon` and `serve_axon_tls` against this
/// runtime's metadata, pinned so a change to the encoder shows. What Python composes with the
/// same metadata is compared in the next test.
async fn the_serve_call_bytes_match_their_snapshot() {
    let chain = Subtensor::connect(&chain().endpoint()).await.unwrap();
    let args = |cert: Option<Vec<u8>>| {
        let mut args = vec![
            ("netuid", Value::U(2)),
            ("version", Value::U(10_005_000)),
            (
                "ip",
                Value::U(u32::from(std::net::Ipv4Addr::new(198, 51, 100, 23)).into()),
            ),
            ("port", Value::U(9000)),
            ("ip_type", Value::U(4)),
            ("protocol", Value::U(4)),
            ("placeholder1", Value::U(0)),
            ("placeholder2", Value::U(0)),
        ];
        if let Some(cert) = cert {
            args.push(("certificate", Value::Bytes(cert)));
        }
        args
    };
    let plain = chain
        .call_data("SubtensorModule", "serve_axon", &args(None))
        .await
        .unwrap();
    assert_eq!(
        hex(&plain),
        "0704020008aa9800176433c60000000000000000000000002823040400 00".replace(' ', "")
    );
    let mut cert = vec![1u8];
    cert.extend([0u8; 32]);
    let tls = chain
        .call_data(
            "SubtensorModule",
            "serve_axon_tls",
            &args(Some(cert.clone())),
        )
        .await
        .unwrap();
    assert_eq!(
        hex(&tls),
        format!("0728{}84{}", &hex(&plain)[4..], hex(&cert))
    );
}

#[tokio::test]
async fn the_call_bytes_match_what_python_composes_with_the_same_metadata() {
    let netuid = subnet().netuid;
    let python = python_reads(netuid, &[&ss58("//Eve")]);
    let chain = Subtensor::connect(&chain().endpoint()).await.unwrap();
    let serve = |ip: u128, ip_type: u128| {
        vec![
            ("netuid", Value::U(netuid.into())),
            ("version", Value::U(10_005_000)),
            ("ip", Value::U(ip)),
            ("port", Value::U(1)),
            ("ip_type", Value::U(ip_type)),
            ("protocol", Value::U(4)),
            ("placeholder1", Value::U(7)),
            ("placeholder2", Value::U(255)),
        ]
    };
    let v6: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
    let ours = chain
        .call_data("SubtensorModule", "serve_axon", &serve(u128::from(v6), 6))
        .await
        .unwrap();
    assert_eq!(
        format!("0x{}", hex(&ours)),
        python["calls"]["serve_axon_v6"]
    );
    let mut tls = serve(3325256727, 4);
    let mut cert = vec![2u8];
    cert.extend(0..100u8);
    tls.push(("certificate", Value::Bytes(cert)));
    let ours = chain
        .call_data("SubtensorModule", "serve_axon_tls", &tls)
        .await
        .unwrap();
    assert_eq!(
        format!("0x{}", hex(&ours)),
        python["calls"]["serve_axon_tls"]
    );
    let ours = chain
        .call_data(
            "SubtensorModule",
            "burned_register",
            &[
                ("netuid", Value::U(netuid.into())),
                ("hotkey", account(&key("//Eve"))),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        format!("0x{}", hex(&ours)),
        python["calls"]["burned_register"]
    );
}

/// An ed25519 hotkey (bittensor 11's `btcli wallet create --crypto-type ed`) registers and
/// serves: `Axon::serve` signs `serve_axon` with the hotkey itself, as MultiSignature's
/// `Ed25519` variant, and the real bittensor 10.5.0 reads the axon back.
#[tokio::test]
async fn an_ed25519_hotkey_registers_and_serves() {
    let _blocks = BLOCKS.lock().await;
    let netuid = subnet().netuid;
    let chain = Subtensor::connect(&chain().endpoint()).await.unwrap();
    let hotkey = Keypair::from_uri_with("//Alice//ed-miner", Crypto::Ed25519).unwrap();
    register(&chain, netuid, &hotkey).await;
    let miner = Axon::new()
        .hotkey(hotkey.clone())
        .external_ip("198.51.100.24")
        .port(9001);
    let served = miner.serve(netuid, &chain).await.unwrap();
    assert!(matches!(served, Served::Published(_)), "{served:?}");
    let python = python_reads(netuid, &[hotkey.ss58()]);
    let stored = &python["axons"][hotkey.ss58()];
    assert_eq!(
        (&stored["ip"], &stored["port"], &stored["ip_type"]),
        (&json!(3325256728u64), &json!(9001), &json!(4)),
        "{stored}"
    );
    assert_eq!(
        miner.serve(netuid, &chain).await.unwrap(),
        Served::Unchanged
    );
}

/// A Python miner's `axon_rs.Axon.serve` (`tests/python/axon_rs_serve.py`), its hotkey
/// signed for by the Python keypair, publishes what the real bittensor reads back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_miner_serves_through_axon_rs() {
    let _blocks = BLOCKS.lock().await;
    let netuid = subnet().netuid;
    let chain = Subtensor::connect(&chain().endpoint()).await.unwrap();
    let uri = "//Alice//py-miner";
    let hotkey = key(uri);
    register(&chain, netuid, &hotkey).await;
    let python = support::python();
    let endpoint = support::chain::chain().endpoint();
    let out = tokio::task::spawn_blocking(move || {
        support::install_axon_rs(&python);
        let netuid = netuid.to_string();
        let args = [
            endpoint.as_str(),
            netuid.as_str(),
            uri,
            "198.51.100.26",
            "9003",
        ];
        support::result_line(&support::run_python_script_with("axon_rs_serve.py", &args))
    })
    .await
    .unwrap();
    assert_eq!(out, json!({"first": "published", "again": "unchanged"}));
    let python = python_reads(netuid, &[hotkey.ss58()]);
    let stored = &python["axons"][hotkey.ss58()];
    assert_eq!(
        (
            &stored["ip"],
            &stored["port"],
            &stored["ip_type"],
            &stored["version"]
        ),
        (
            &json!(3325256730u64),
            &json!(9003),
            &json!(4),
            &json!(10_005_000)
        ),
        "{stored}"
    );
}

/// A Python miner's `axon_rs.Axon.policies` (`tests/python/axon_rs_policies.py`): registered
/// hotkeys served, others refused with the template's message, by the Rust policy alone (the
/// miner has no Python blacklist), under the real Dendrite; and its Python endpoint guarded
/// by the same policy, called with Epistula.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_miner_switches_the_policies_on() {
    let netuid = subnet().netuid;
    let python = support::python();
    let endpoint = chain().endpoint();
    let out = tokio::task::spawn_blocking(move || {
        support::install_axon_rs(&python);
        let netuid = netuid.to_string();
        let args = [
            endpoint.as_str(),
            netuid.as_str(),
            "//Alice//miner",
            "//Bob",
            "//Eve",
        ];
        support::result_line(&support::run_python_script_with(
            "axon_rs_policies.py",
            &args,
        ))
    })
    .await
    .unwrap();
    assert_eq!(out["//Bob"], json!([200, "Success", "done //Bob"]), "{out}");
    assert_eq!(
        out["//Eve"],
        json!([
            403,
            "Forbidden. Key is blacklisted: Unrecognized hotkey.",
            null
        ]),
        "{out}"
    );
    // The endpoint written in Python, behind the same policy.
    assert_eq!(
        out["http //Bob"],
        json!([200, {"out": "done //Bob", "hotkey": ss58("//Bob")}]),
        "{out}"
    );
    assert_eq!(
        out["http //Eve"],
        json!([403, {"message": "Forbidden. Key is blacklisted: Unrecognized hotkey."}]),
        "{out}"
    );
}

fn published(uri: &str, ip: &str, port: u16) -> Axon {
    Axon::new().hotkey(key(uri)).external_ip(ip).port(port)
}

#[tokio::test]
async fn serve_publishes_what_python_reads_back_and_submits_nothing_when_unchanged() {
    let _blocks = BLOCKS.lock().await;
    let netuid = subnet().netuid;
    let chain = Subtensor::connect(&chain().endpoint()).await.unwrap();
    let miner = published("//Alice//miner", "198.51.100.23", 9000);
    let served = miner.serve(netuid, &chain).await.unwrap();
    let Served::Published(included) = served else {
        panic!("{served:?}")
    };
    assert!(included.block.starts_with("0x"));

    let hotkey = ss58("//Alice//miner");
    let python = python_reads(netuid, &[&hotkey]);
    let stored = &python["axons"][&hotkey];
    assert_eq!(stored["ip"], 3325256727u64, "{stored}");
    assert_eq!(
        (
            &stored["version"],
            &stored["port"],
            &stored["ip_type"],
            &stored["protocol"]
        ),
        (&json!(10_005_000), &json!(9000), &json!(4), &json!(4))
    );
    assert_eq!(
        (&stored["placeholder1"], &stored["placeholder2"]),
        (&json!(0), &json!(0))
    );

    // The same info again: nothing submitted, so no block is built.
    let before = chain.block_number().await.unwrap();
    assert_eq!(
        miner.serve(netuid, &chain).await.unwrap(),
        Served::Unchanged
    );
    assert_eq!(chain.block_number().await.unwrap(), before);

    // A certificate is published (and compared) too.
    let mut certificate = vec![1u8];
    certificate.extend([7u8; 32]);
    let served = miner
        .serve_with_certificate(netuid, &chain, &certificate)
        .await
        .unwrap();
    assert!(matches!(served, Served::Published(_)), "{served:?}");
    let python = python_reads(netuid, &[&hotkey]);
    let cert = &python["certificates"][&hotkey];
    assert_eq!(cert["algorithm"], 1, "{cert}");
    assert_eq!(
        cert["public_key"].as_str().unwrap(),
        format!("0x{}", hex(&[7u8; 32])),
        "{cert}"
    );
    assert_eq!(
        miner
            .serve_with_certificate(netuid, &chain, &certificate)
            .await
            .unwrap(),
        Served::Unchanged
    );
}

#[tokio::test]
async fn serve_errors_name_the_cause_and_the_fix() {
    let _blocks = BLOCKS.lock().await;
    let netuid = subnet().netuid;
    let chain = Subtensor::connect(&chain().endpoint()).await.unwrap();
    let err = published("//Eve", "198.51.100.24", 9000)
        .serve(netuid, &chain)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ServeError::NotRegistered { hotkey, netuid: n } if *hotkey == ss58("//Eve") && *n == netuid),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&format!("btcli subnets register --netuid {netuid}")),
        "{err}"
    );
    let err = published("//Dave", "198.51.100.25", 9000)
        .serve(999, &chain)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServeError::NoSubnet { netuid: 999 }),
        "{err:?}"
    );

    let err = published("//Dave", "127.0.0.1", 9000)
        .serve(netuid, &chain)
        .await
        .unwrap_err();
    assert!(matches!(err, ServeError::BadAddress { .. }), "{err:?}");
    assert!(err.to_string().contains("--axon.external_ip"), "{err}");

    // Served before it starts with TLS settings `start` would refuse: refused too, rather
    // than published without the key callers would pin.
    let (settings, _) =
        axon::config::Config::parse(["--axon.tls_cert=/nonexistent/cert.pem".to_owned()], |_| {
            None
        })
        .unwrap();
    let err = published("//Dave", "198.51.100.25", 9000)
        .config(settings.axon)
        .serve(netuid, &chain)
        .await
        .unwrap_err();
    assert!(matches!(err, ServeError::Tls(_)), "{err:?}");
    assert!(err.to_string().contains("--axon.tls_key"), "{err}");
    let source = std::error::Error::source(&err).expect("the TLS problem is the source");
    assert!(source.is::<axon::Problem>(), "{source:?}");
}

#[tokio::test]
async fn the_metagraph_is_what_python_reads_neuron_by_neuron() {
    let _blocks = BLOCKS.lock().await;
    let netuid = subnet().netuid;
    let chain = Subtensor::connect(&chain().endpoint()).await.unwrap();
    // Some neuron has served, so the axon field is compared with content.
    let _ = published("//Charlie", "198.51.100.26", 8091)
        .serve(netuid, &chain)
        .await
        .unwrap();
    let ours = Metagraph::read(&chain, netuid).await.unwrap();
    // Emissions move stakes every block: both read the same block.
    let python = python_reads_at(netuid, &ours.block_hash, &[]);
    let theirs = python["neurons"].as_array().unwrap();
    assert!(ours.neurons.len() >= 5, "{:?}", ours.neurons);
    assert_eq!(ours.neurons.len(), theirs.len());
    for (n, p) in ours.neurons.iter().zip(theirs) {
        assert_eq!(json!(n.uid), p["uid"]);
        assert_eq!(json!(n.hotkey), p["hotkey"]);
        assert_eq!(json!(n.coldkey), p["coldkey"]);
        assert_eq!(json!(n.stake), p["stake"]);
        assert_eq!(json!(n.validator_permit), p["validator_permit"]);
        assert_eq!(json!(n.last_update), p["last_update"]);
        let axon = n.axon.as_ref().map(|a| {
            json!({"version": a.version, "ip": a.ip, "port": a.port, "ip_type": a.ip_type, "protocol": a.protocol})
        });
        assert_eq!(axon.unwrap_or(json!(null)), p["axon"], "uid {}", n.uid);
    }
    let charlie = ours.neuron(&ss58("//Charlie")).unwrap();
    assert!(charlie.stake > 0, "{charlie:?}");
    assert_eq!(charlie.axon.as_ref().unwrap().ip, "198.51.100.26");
    let bob = ours.neuron(&ss58("//Bob")).unwrap();
    assert!(bob.stake > charlie.stake, "{bob:?} {charlie:?}");
}

/// The policy miner's synapse.
#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Job {
    #[hash]
    pub id: String,
}

/// The ids the forward started, in order.
#[derive(Default)]
pub struct Started(Mutex<Vec<String>>);

/// Jobs named `hold*` wait until the test opens the gate.
pub struct Gate(watch::Receiver<bool>);

#[axon::forward]
async fn job(s: Job, started: State<Started>, gate: State<Gate>) -> Job {
    started.0.lock().unwrap().push(s.id.clone());
    if s.id.starts_with("hold") {
        gate.0.clone().wait_for(|o| *o).await.unwrap();
    }
    s
}

/// The subnet template's miner: validators only, the most staked first.
#[axon::blacklist]
fn validators_only(s: &Job, metagraph: &Metagraph) -> Blacklist {
    metagraph.validator(s.dendrite.hotkey.as_deref())
}

#[axon::priority]
fn by_stake(s: &Job, metagraph: &Metagraph) -> f64 {
    metagraph.stake_priority(s.dendrite.hotkey.as_deref())
}

fn job_request(id: &str, from: &str) -> Vec<u8> {
    let mut s = Job::new(id.into());
    s.timeout = Some(60.0);
    request_bytes("Job", &sign(s, &key(from), &ss58("//Alice//miner")), &[])
}

/// The refusal message an axon answered with.
fn refusal(answer: &support::http::Answer) -> String {
    answer
        .header("bt_header_axon_status_message")
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miner_with_the_policies_serves_validators_by_stake_and_fails_closed_when_the_chain_is_gone(
) {
    let netuid = subnet().netuid;
    let relay = Relay::start(chain().port).await;
    let subtensor = Arc::new(Subtensor::connect(&relay.endpoint()).await.unwrap());
    let options = SyncOptions {
        interval: Duration::from_millis(300),
        // Well above a sync's time on a loaded machine: only the outage makes it stale.
        max_age: Duration::from_secs(5),
    };
    let metagraph = Metagraph::sync(subtensor.clone(), netuid, options)
        .await
        .unwrap();
    let started = Arc::new(Started::default());
    let (open, gate) = watch::channel(false);
    let mut axon = Axon::from_registry()
        .hotkey(key("//Alice//miner"))
        .ip("127.0.0.1")
        .port(0)
        .max_workers(1)
        .operations("127.0.0.1:0".parse().unwrap())
        .metagraph(metagraph.clone())
        .state_arc(started.clone())
        .state(Gate(gate));
    axon.start().await.unwrap();
    let addr = axon.local_addr().unwrap();
    let blocks = BLOCKS.lock().await;
    permit(&subtensor, netuid, &["//Bob", "//Charlie"]).await;
    metagraph.next_sync().await;
    metagraph.next_sync().await;

    // Registered validators in, the rest out with the template's messages.
    let answer = exchange(addr, &job_request("bob", "//Bob")).await;
    assert_eq!(answer.status, 200, "{}", refusal(&answer));
    for (from, reason) in [
        ("//Eve", "Unrecognized hotkey"),
        ("//Dave", "Non-validator hotkey"),
    ] {
        let answer = exchange(addr, &job_request("no", from)).await;
        let message = format!("Forbidden. Key is blacklisted: {reason}.");
        assert_eq!((answer.status, refusal(&answer)), (403, message), "{from}");
    }
    drop(blocks);

    // Priority follows stake: with the one worker held, Charlie (10 TAO) queues before Bob
    // (1000 TAO), and Bob runs first.
    let send = |bytes: Vec<u8>| tokio::spawn(async move { exchange(addr, &bytes).await });
    let hold = send(job_request("hold", "//Charlie"));
    let load = |running, waiting| {
        let axon = &axon;
        move || axon.load() == Some(axon::Load { running, waiting })
    };
    until("the held job runs", load(1, 0)).await;
    let low = send(job_request("low", "//Charlie"));
    until("the low job waits", load(1, 1)).await;
    let high = send(job_request("high", "//Bob"));
    until("both jobs wait", load(1, 2)).await;
    open.send_replace(true);
    for task in [hold, low, high] {
        assert_eq!(task.await.unwrap().status, 200);
    }
    let stakes = ["//Bob", "//Charlie"].map(|u| metagraph.stake_priority(Some(&ss58(u))));
    assert_eq!(
        started.0.lock().unwrap()[1..],
        ["hold", "high", "low"],
        "stakes {stakes:?}"
    );

    // A hotkey registered after start is served after the next sync (the first sync to
    // start after its registration and permit).
    let answer = exchange(addr, &job_request("early", "//Ferdie")).await;
    let unknown = "Forbidden. Key is blacklisted: Unrecognized hotkey.";
    assert_eq!((answer.status, refusal(&answer).as_str()), (403, unknown));
    let chain_now = Subtensor::connect(&chain().endpoint()).await.unwrap();
    let blocks = BLOCKS.lock().await;
    register(&chain_now, netuid, &key("//Ferdie")).await;
    permit(&chain_now, netuid, &["//Bob", "//Charlie", "//Ferdie"]).await;
    drop(blocks);
    metagraph.next_sync().await; // may have started before the permit
    metagraph.next_sync().await;
    let answer = exchange(addr, &job_request("late", "//Ferdie")).await;
    assert_eq!(answer.status, 200, "{}", refusal(&answer));

    // The chain goes away: the snapshot ages past its bound and everything is refused.
    relay.down();
    let stale = async {
        while !metagraph.is_stale() {
            metagraph.next_sync().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(120), stale)
        .await
        .expect("the metagraph goes stale within 120 s of the chain going away");
    assert!(metagraph.last_error().is_some());
    let answer = exchange(addr, &job_request("stale", "//Bob")).await;
    assert_eq!(answer.status, 403);
    let message = refusal(&answer);
    assert!(
        message.starts_with("Forbidden. Key is blacklisted: Metagraph is stale: last synced "),
        "{message}"
    );
    let ops = axon.operations_addr().unwrap();
    let (_, metrics) = get(ops, "/metrics").await;
    let line = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(&format!("{name}{{netuid=\"{netuid}\"}}")))
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(line("axon_metagraph_stale"), "1");
    assert_eq!(line("axon_metagraph_stale_refusals_total"), "1");
    assert_ne!(line("axon_metagraph_sync_failures_total"), "0");

    // Back: the next sync that succeeds serves again.
    relay.up();
    let fresh = async {
        while metagraph.is_stale() {
            metagraph.next_sync().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(120), fresh)
        .await
        .expect("the metagraph is fresh again within 120 s of the chain coming back");
    let answer = exchange(addr, &job_request("back", "//Bob")).await;
    assert_eq!(answer.status, 200, "{}", refusal(&answer));
    let (_, metrics) = get(ops, "/metrics").await;
    assert!(
        metrics.contains(&format!("axon_metagraph_stale{{netuid=\"{netuid}\"}} 0")),
        "{metrics}"
    );
    axon.stop().await;
}

/// Reads a child's stdout lines until one starts with `prefix`; returns the rest of it.
fn line_after(lines: &mut impl Iterator<Item = String>, prefix: &str) -> String {
    for line in lines.by_ref() {
        if let Some(rest) = line.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    panic!("the miner ended before printing `{prefix}`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subnet_miner_publishes_at_start_and_serves_the_chains_validators() {
    use std::io::{BufRead, BufReader};
    let netuid = subnet().netuid;
    let exe = support::example("subnet_miner");
    let _blocks = BLOCKS.lock().await;
    let mut child = std::process::Command::new(exe)
        .args([
            "--subtensor.chain_endpoint",
            &chain().endpoint(),
            "--netuid",
            &netuid.to_string(),
        ])
        .args([
            "--dev-key",
            "//Alice//miner",
            "--axon.ip",
            "127.0.0.1",
            "--axon.port",
            "0",
        ])
        .args([
            "--axon.external_ip",
            "198.51.100.31",
            "--axon.external_port",
            "9031",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok);
    let addr: std::net::SocketAddr = line_after(&mut lines, "subnet_miner: listening on ")
        .parse()
        .unwrap();
    let published = line_after(
        &mut lines,
        &format!("subnet_miner: published on subnet {netuid}: "),
    );
    assert!(published.starts_with("Published("), "{published}");

    let subtensor = Subtensor::connect(&chain().endpoint()).await.unwrap();
    let at = [Value::U(netuid.into()), account(&key("//Alice//miner"))];
    let stored = subtensor
        .storage("SubtensorModule", "Axons", &at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.field("ip").and_then(Value::as_u128),
        Some(u32::from(std::net::Ipv4Addr::new(198, 51, 100, 31)).into())
    );
    assert_eq!(stored.field("port").and_then(Value::as_u128), Some(9031));

    // The validators come from the chain: a neuron is served, a stranger is not.
    let ask = |from: &str| {
        let mut s = Complete::new("one two three".into());
        s.timeout = Some(30.0);
        request_bytes(
            "Complete",
            &sign(s, &key(from), &ss58("//Alice//miner")),
            &[],
        )
    };
    let answer = exchange(addr, &ask("//Bob")).await;
    assert_eq!(answer.status, 200, "{}", refusal(&answer));
    let answer = exchange(addr, &ask("//Eve")).await;
    assert_eq!(
        (answer.status, refusal(&answer).as_str()),
        (403, "Forbidden. Key is blacklisted: Unrecognized hotkey.")
    );
    // Its signed-HTTP endpoint, under the same metagraph policy, before the signature.
    let miner_info = support::loopback_alice(addr.port());
    let target = axon::AxonInfo {
        hotkey: ss58("//Alice//miner"),
        ..miner_info
    };
    let body = br#"{"prompt": "one two three"}"#.to_vec();
    for (from, scheme, status, said) in [
        (
            "//Bob",
            Scheme::Btauth,
            200,
            r#"{"completion":"three two one"}"#,
        ),
        (
            "//Bob",
            Scheme::Epistula,
            200,
            r#"{"completion":"three two one"}"#,
        ),
        (
            "//Eve",
            Scheme::Btauth,
            403,
            r#"{"message":"Forbidden. Key is blacklisted: Unrecognized hotkey."}"#,
        ),
    ] {
        let dendrite = axon::dendrite::Dendrite::new(key(from));
        let answer = dendrite
            .send_signed(
                scheme,
                "POST",
                &target,
                "/v1/complete",
                body.clone(),
                Duration::from_secs(30),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, status, "{from} {scheme:?}");
        assert_eq!(
            String::from_utf8_lossy(&answer.body),
            said,
            "{from} {scheme:?}"
        );
    }
    sigterm(child.id());
    assert!(child.wait().unwrap().success());
}

/// The subnet miner's synapse (its Python twin: `class Complete(bt.Synapse)`).
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

/// SIGTERM: the miner drains and exits 0.
fn sigterm(pid: u32) {
    std::process::Command::new("kill")
        .arg(pid.to_string())
        .status()
        .unwrap();
}

/// The subnet template's miner ported to bittensor 11 (`python/examples/template_miner.py`,
/// run by bittensor 11.3.0's interpreter with a `bt.Wallet` on disk): it reads its metagraph
/// from this chain, publishes its axon, and serves the template's `Dummy` to the real 10.5.0
/// and 9.12.2 Dendrites and its btauth/1 endpoint to bittensor 11's `http_auth.sign`, with
/// the template's blacklist (a registered hotkey served, Eve refused) on both; SIGTERM ends
/// it with status 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_miner_serves_both_generations_of_validator() {
    let _blocks = BLOCKS.lock().await;
    let netuid = subnet().netuid;
    let endpoint = chain().endpoint();
    let chain = Subtensor::connect(&endpoint).await.unwrap();
    let uri = "//Alice//template";
    let hotkey = ss58(uri);
    register(&chain, netuid, &key(uri)).await;
    let wallets = std::env::temp_dir().join(format!("axon-template-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&wallets);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let path = wallets.to_str().unwrap().to_owned();
    let tls_dir = wallets.join("tls");
    let tls_flag = tls_dir.to_str().unwrap().to_owned();
    let runtime = tokio::runtime::Handle::current();
    let chain_endpoint = endpoint.clone();
    let calls = tokio::task::spawn_blocking(move || {
        let python = support::python_11();
        support::install_axon_rs(&python);
        // The miner's wallet, written by bittensor 11 itself.
        let write = format!(
            "import bittensor as bt\nfrom bittensor.sp_core import Keypair\n\
             w = bt.Wallet(name='miner', hotkey='default', path={path:?})\n\
             w.hotkey_file.set_keypair(Keypair.create_from_uri({uri:?}), encrypt=False, overwrite=True)\n\
             w.coldkeypub_file.set_keypair(Keypair.create_from_uri('//Alice'), encrypt=False, overwrite=True)\n"
        );
        support::run(
            std::process::Command::new(&python).args(["-c", &write]),
            "write the miner's wallet",
        );
        let script = support::workspace_root().join("python/examples/template_miner.py");
        let mut miner = std::process::Command::new(&python)
            .arg(&script)
            .args(["--netuid", &netuid.to_string()])
            .args(["--subtensor.chain_endpoint", &endpoint])
            .args(["--wallet.name", "miner", "--wallet.hotkey", "default"])
            .args(["--wallet.path", &path])
            .args(["--axon.port", &port.to_string(), "--axon.ip", "127.0.0.1"])
            // The chain refuses loopback: a documentation address is published, and the
            // validators below call the loopback one.
            .args(["--axon.external_ip", "198.51.100.27"])
            // TLS beside plain HTTP: the key is made on first start and published with
            // `serve_axon_tls`.
            .args(["--axon.tls_generate", "true", "--axon.tls_dir", &tls_flag])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Listening once `start` returned (within 2 minutes).
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = miner.try_wait() {
                let out = miner.wait_with_output().unwrap();
                panic!(
                    "the template miner ended ({status}):\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the template miner is not listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let port = port.to_string();
        let args = |mode: &'static str| {
            vec![mode, port.as_str(), hotkey.as_str(), "//Bob", "//Eve"]
        };
        let v10 = support::result_line(&support::run_script(
            &support::python(),
            "template_calls.py",
            &args("dendrite"),
        ));
        let v9 = support::result_line(&support::run_script(
            &support::python_9(),
            "template_calls.py",
            &args("dendrite"),
        ));
        let v11 = support::result_line(&support::run_script(
            &python,
            "template_calls.py",
            &args("btauth"),
        ));
        // A Rust dendrite that calls over TLS only, pinning the key the metagraph read from
        // the chain: the ping is answered over TLS.
        let over_tls = runtime.block_on(async {
            use axon::dendrite::{Dendrite, TlsMode};
            let chain = Arc::new(Subtensor::connect(&chain_endpoint).await.unwrap());
            let metagraph = Metagraph::sync(chain, netuid, SyncOptions::default())
                .await
                .unwrap();
            let published = metagraph.tls_key(&hotkey);
            let keys = metagraph.clone();
            let dendrite =
                Dendrite::new(key("//Bob")).tls(move |h| keys.tls_key(h), TlsMode::Require);
            // The axon it published, at its loopback address (the chain refuses loopback).
            let mut info = metagraph.snapshot().neuron(&hotkey).unwrap().axon.clone().unwrap();
            info.ip = "127.0.0.1".into();
            let pinged = dendrite
                .call(&info, axon::BaseSynapse::default(), Duration::from_secs(30))
                .await;
            (published, pinged.dendrite.status_code)
        });
        // SIGTERM: the axon drains, then the process ends with status 0.
        let pid = miner.id().to_string();
        support::run(
            std::process::Command::new("kill").args(["-TERM", &pid]),
            "kill -TERM",
        );
        let out = miner.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        // `axon_rs.Metagraph`, which the miner read its metagraph with, as it reads now.
        let read = format!(
            "import json, axon_rs\nm = axon_rs.Metagraph(netuid={netuid}, subtensor={endpoint:?})\n\
             print('RESULT ' + json.dumps(dict(uids=m.uids, hotkeys=m.hotkeys, coldkeys=m.coldkeys, \
             stake=m.stake, S=m.S, validator_permit=m.validator_permit, last_update=m.last_update, n=m.n, \
             tls_key=(m.tls_key({hotkey:?}) or b'').hex())))\n"
        );
        let metagraph = support::result_line(&support::run(
            std::process::Command::new(&python).args(["-c", &read]),
            "axon_rs.Metagraph",
        ));
        (v10, v9, v11, metagraph, over_tls)
    })
    .await
    .unwrap();
    let (v10, v9, v11, metagraph, (published, pinged)) = calls;
    // The same neurons as bittensor 10.5.0 reads them (no block is built meanwhile: this
    // test holds BLOCKS).
    let python = python_reads(netuid, &[]);
    let neurons = python["neurons"].as_array().unwrap();
    assert_eq!(metagraph["n"], json!(neurons.len()));
    for (field, theirs) in [
        ("uids", "uid"),
        ("hotkeys", "hotkey"),
        ("coldkeys", "coldkey"),
        ("stake", "stake"),
        ("validator_permit", "validator_permit"),
        ("last_update", "last_update"),
    ] {
        let expected: Vec<&serde_json::Value> = neurons.iter().map(|n| &n[theirs]).collect();
        assert_eq!(metagraph[field], json!(expected), "{field}");
    }
    let bob = neurons
        .iter()
        .position(|n| n["hotkey"] == ss58("//Bob"))
        .unwrap();
    assert_eq!(
        metagraph["S"][bob].as_f64().unwrap(),
        neurons[bob]["stake"].as_u64().unwrap() as f64 / 1e9
    );
    let refused = "Forbidden. Key is blacklisted: Unrecognized hotkey.";
    for (release, out) in [("10.5.0", &v10), ("9.12.2", &v9)] {
        assert_eq!(
            out["//Bob"],
            json!([200, "Success", 42]),
            "{release}: {out}"
        );
        assert_eq!(
            out["//Eve"],
            json!([403, refused, null]),
            "{release}: {out}"
        );
    }
    assert_eq!(v11["//Bob"], json!([200, null, 42]), "{v11}");
    assert_eq!(v11["//Eve"], json!([403, refused, null]), "{v11}");
    // Published on chain, as bittensor reads it back.
    let python = python_reads(netuid, &[&ss58(uri)]);
    let stored = &python["axons"][ss58(uri)];
    assert_eq!(
        (&stored["ip"], &stored["port"]),
        (&json!(3325256731u64), &json!(port)),
        "{stored}"
    );
    // The key the miner made and served, published with `serve_axon_tls`: bittensor 10.5.0
    // reads it back, the Rust metagraph read it, and the pinned call went through.
    let served = axon::tls::TlsConfig::generate_in(&tls_dir).unwrap();
    let served = served.public_key();
    assert_eq!(
        python["certificates"][ss58(uri)],
        json!({"algorithm": 1, "public_key": format!("0x{}", hex(served.key_bytes().unwrap()))})
    );
    assert_eq!(published.as_ref(), Some(served));
    assert_eq!(
        metagraph["tls_key"],
        json!(hex(&served.certificate().unwrap()))
    );
    assert_eq!(pinged, Some(200));
    let _ = std::fs::remove_dir_all(&wallets);
}

/// TLS keys on chain: an axon serving TLS publishes its key with `serve_axon_tls`, the
/// `Metagraph` reads it back, and a `Dendrite` told to use TLS calls it over `https://`,
/// accepting only that key. An axon whose served key is not the one it published fails the
/// handshake; an axon that published none is called over plain HTTP, or refused when the
/// dendrite calls over TLS only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dendrite_pins_the_tls_key_published_on_chain() {
    use axon::dendrite::{Dendrite, TlsMode};
    use axon::tls::TlsConfig;

    let _blocks = BLOCKS.lock().await;
    let netuid = subnet().netuid;
    let chain_client = Arc::new(Subtensor::connect(&chain().endpoint()).await.unwrap());
    let dir = std::env::temp_dir().join(format!("axon-chain-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tls = |name: &str| TlsConfig::generate_in(dir.join(name)).unwrap();
    let (honest, liar) = ("//Alice//tls-honest", "//Alice//tls-liar");
    for uri in [honest, liar] {
        register(&chain_client, netuid, &key(uri)).await;
    }

    // The honest miner: serves TLS and publishes its key once started.
    let served_key = tls("honest");
    let mut good = Axon::new()
        .hotkey(key(honest))
        .tls(served_key.clone())
        .ip("127.0.0.1")
        .port(0)
        .external_ip("198.51.100.28")
        .operations("127.0.0.1:0".parse().unwrap());
    good.start().await.unwrap();
    let published = good.serve(netuid, &chain_client).await.unwrap();
    assert!(matches!(published, Served::Published(_)), "{published:?}");

    // The liar publishes one key and serves another on the address it published.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let publisher = Axon::new()
        .hotkey(key(liar))
        .tls(tls("published"))
        .port(port)
        .external_ip("198.51.100.29");
    publisher.serve(netuid, &chain_client).await.unwrap();
    let mut bad = Axon::new()
        .hotkey(key(liar))
        .tls(tls("served"))
        .ip("127.0.0.1")
        .port(port)
        .external_ip("198.51.100.29");
    bad.start().await.unwrap();

    // An axon that published no key (//Dave is registered and never served TLS).
    let mut plain = Axon::new()
        .hotkey(key("//Dave"))
        .ip("127.0.0.1")
        .port(0)
        .external_ip("198.51.100.30");
    plain.start().await.unwrap();

    let metagraph = Metagraph::sync(chain_client.clone(), netuid, SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(
        metagraph.tls_key(&ss58(honest)).as_ref(),
        Some(served_key.public_key())
    );
    assert!(metagraph.tls_key(&ss58(liar)).is_some());
    assert_eq!(metagraph.tls_key(&ss58("//Dave")), None);
    // What bittensor 10.5.0 reads back: the algorithm byte, then the key.
    let python = python_reads(netuid, &[&ss58(honest)]);
    let key_bytes = served_key.public_key().key_bytes().unwrap();
    assert_eq!(
        python["certificates"][ss58(honest)],
        json!({"algorithm": 1, "public_key": format!("0x{}", hex(key_bytes))})
    );

    let local = |axon: &Axon| {
        let mut info = axon.info().unwrap();
        info.ip = "127.0.0.1".into();
        info
    };
    async fn ping(dendrite: &Dendrite, info: axon::AxonInfo) -> (Option<i64>, Option<String>) {
        let s = dendrite
            .call(&info, axon::BaseSynapse::default(), Duration::from_secs(10))
            .await;
        (s.dendrite.status_code, s.dendrite.status_message)
    }
    let keys = metagraph.clone();
    let prefer = Dendrite::new(key("//Bob")).tls(move |h| keys.tls_key(h), TlsMode::Prefer);
    let (status, _) = ping(&prefer, local(&good)).await;
    assert_eq!(status, Some(200));
    let (_, metrics) = get(good.operations_addr().unwrap(), "/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l == r#"axon_connections_total{transport="tls"} 1"#),
        "{metrics}"
    );
    let (status, message) = ping(&prefer, local(&bad)).await;
    assert_eq!(status, Some(503));
    assert!(
        message
            .as_deref()
            .unwrap_or_default()
            .contains("certificate"),
        "{message:?}"
    );
    let (status, _) = ping(&prefer, local(&plain)).await;
    assert_eq!(status, Some(200));

    let keys = metagraph.clone();
    let strict = Dendrite::new(key("//Bob")).tls(move |h| keys.tls_key(h), TlsMode::Require);
    let (status, message) = ping(&strict, local(&plain)).await;
    assert_eq!(status, Some(503));
    assert!(
        message
            .as_deref()
            .unwrap_or_default()
            .contains("published no TLS key"),
        "{message:?}"
    );
    let (status, _) = ping(&strict, local(&good)).await;
    assert_eq!(status, Some(200));

    for axon in [&mut good, &mut bad, &mut plain] {
        axon.stop().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
