//! A validator's concurrent calls: one real Python Dendrite (10.5.0, then the newest 9.x)
//! fires 2, 8, 32 and 128 calls at once (`Echo`, the streaming `Tokens` and the `Synapse`
//! ping, mixed), three rounds each, at this axon and at the real Python axon started beside
//! it (`tests/python/gather_calls.py`). Every call to ours is answered 200 with the right
//! fields, and ours refuses no more than the Python axon does; afterwards every request,
//! resent byte for byte, is refused 401 as a replay by both, and so is a nonce 60 s old.
//! Then the rules where the two differ on purpose, each case sent to both: out-of-order
//! nonces, a held-back request, a uuid header added, an 8 KiB uuid.

mod support;

use axon::keys::Keypair;
use axon::{Axon, Streaming};
use serde_json::{json, Value};
use support::py_axon::{PythonAxon, Tokens};
use support::Echo;

/// Async, as most miners' forwards are.
#[axon::forward]
async fn echo(mut s: Echo) -> Echo {
    s.out = Some(s.text.chars().rev().collect());
    s
}

#[axon::forward]
async fn tokens(s: Tokens) -> Streaming<Tokens> {
    let n = s.n;
    Streaming::new(s, move |chunks| async move {
        for i in 0..n {
            chunks.send(format!("tok{i} ")).await?;
        }
        Ok::<(), axon::HandlerError>(())
    })
}

const SIZES: [usize; 4] = [2, 8, 32, 128];
const ROUNDS: usize = 3;

/// The calls one axon answered otherwise than 200 with the right fields.
fn failed(calls: &Value) -> Vec<&Value> {
    calls
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap())
        .filter(|c| c["status"] != 200 || c["ok"] != true)
        .collect()
}

/// Asserts what one dendrite release saw from both axons.
fn check(out: &Value, release: &str) {
    assert_eq!(out["bittensor_version"], release);
    let (rust, python) = (&out["rust"], &out["python"]);
    let sent: usize = SIZES.iter().sum::<usize>() * ROUNDS;
    let ours = failed(&rust["calls"]);
    let reference = failed(&python["calls"]);
    assert!(
        ours.is_empty(),
        "{release}: the Rust axon failed {} calls, first {:?}",
        ours.len(),
        &ours[..ours.len().min(3)]
    );
    for (name, axon) in [("rust", rust), ("python", python)] {
        for size in SIZES {
            let calls = axon["calls"][size.to_string()].as_array().unwrap();
            assert_eq!(calls.len(), size * ROUNDS, "{release} {name} {size}");
        }
        // Every request again, byte for byte: refused as a replay, by both.
        let replays = axon["replays"].as_array().unwrap();
        assert_eq!(
            replays.len(),
            sent,
            "{release} {name}: every request captured"
        );
        assert_eq!(axon["sent"], sent, "{release} {name}");
        for replay in replays {
            assert_eq!(replay[0], 401, "{release} {name}: replay {replay}");
        }
        // A nonce 60 s old: refused by both (Python: it is below the last one it accepted).
        assert_eq!(
            axon["stale"]["status"], 401,
            "{release} {name}: {}",
            axon["stale"]
        );
    }
    // Ours never dropped the dendrite's pooled connection (the script resends the stale
    // call once if the server did, which bittensor's own axon sometimes does under load).
    assert_eq!(rust["stale"]["attempts"], 1, "{release}: {}", rust["stale"]);
    // Here: outside the 16 s window (4 s + the 12 s timeout).
    let message = rust["stale"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Not Verified with error: Nonce is too old: acceptable delta is 16.00 seconds but request was 60."
        ),
        "{release}: {message}"
    );
    // Refused as a replay while inside its window, as stale once outside.
    for replay in rust["replays"].as_array().unwrap() {
        let message = replay[1].as_str().unwrap();
        assert!(
            message.starts_with("Not Verified with error: Nonce is a replay: ")
                || message.starts_with("Not Verified with error: Nonce is too old: "),
            "{release}: {message}"
        );
    }
    eprintln!(
        "bittensor {release}: the Python axon failed {} of {sent} calls, the Rust axon none",
        reference.len()
    );
}

/// The statuses and messages one axon answered to the rule case `case`.
fn rule<'a>(axon: &'a Value, case: &str) -> Vec<(u64, &'a str)> {
    axon["rules"][case]
        .as_array()
        .unwrap_or_else(|| panic!("no rule case {case}"))
        .iter()
        .map(|a| (a[0].as_u64().unwrap(), a[1].as_str().unwrap_or("")))
        .collect()
}

/// The rules where this axon and Python's differ on purpose (docs/handlers.md, the default verify),
/// each shown against the real Python axon.
fn check_rules(out: &Value, release: &str) {
    let (rust, python) = (&out["rust"], &out["python"]);
    let newer = "Not Verified with error: Nonce is too old, a newer one was last processed";
    let too_old = "Not Verified with error: Nonce is too old: acceptable delta is ";
    let replay = "Not Verified with error: Nonce is a replay: ";

    // Two genuine requests, the higher nonce first: Python refuses the lower, ours serves it.
    let p = rule(python, "out_of_order");
    assert_eq!(p, [(200, "Success"), (401, newer)], "{release}");
    let r = rule(rust, "out_of_order");
    assert_eq!(r, [(200, "Success"), (200, "Success")], "{release}");

    // A request held back 60 s, its nonce above the last one accepted (a first accepted
    // with timeout 1000): Python serves both; ours clamps the timeout (60 s) and checks
    // every nonce against its window, so refuses both.
    let p = rule(python, "held_back");
    assert_eq!(p, [(200, "Success"), (200, "Success")], "{release}");
    let r = rule(rust, "held_back");
    assert_eq!(r.len(), 2, "{release}");
    for (status, message) in r {
        assert_eq!(status, 401, "{release}: {message}");
        assert!(message.starts_with(too_old), "{release}: {message}");
    }

    // No uuid, then the same request with `uuid: None` added: one request for both.
    let p = rule(python, "uuid_none");
    assert_eq!(p, [(200, "Success"), (401, newer)], "{release}");
    let r = rule(rust, "uuid_none");
    assert_eq!(r[0], (200, "Success"), "{release}");
    assert_eq!(r[1].0, 401, "{release}");
    assert!(r[1].1.starts_with(replay), "{release}: {}", r[1].1);

    // A genuinely signed 8 KiB uuid: Python serves it; ours refuses it before anything
    // repeats it.
    assert_eq!(rule(python, "big_uuid"), [(200, "Success")], "{release}");
    let r = rule(rust, "big_uuid");
    assert_eq!(r[0].0, 400, "{release}");
    assert!(
        r[0].1
            .ends_with("value is 8192 bytes, more than the 128 a dendrite sends"),
        "{release}: {}",
        r[0].1
    );
}

/// This binary's handlers, served as Alice's on a free loopback port.
async fn serve() -> Axon {
    let mut axon = Axon::from_registry()
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .ip("127.0.0.1")
        .port(0);
    axon.start().await.unwrap();
    axon
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_concurrent_call_of_a_python_dendrite_is_answered_once() {
    let mut axon = serve().await;
    let port = axon.local_addr().unwrap().port();
    let hotkey = Keypair::from_uri("//Alice").unwrap().ss58().to_owned();
    let py = tokio::task::spawn_blocking(PythonAxon::start)
        .await
        .unwrap();
    let config = json!({
        "axons": {
            "rust": {"port": port, "hotkey": hotkey},
            "python": {"port": py.port, "hotkey": py.hotkey},
        },
        "sizes": SIZES,
        "rounds": ROUNDS,
    })
    .to_string();
    for (python, release) in [
        (support::python(), support::BITTENSOR_VERSION),
        (support::python_9(), support::BITTENSOR_9_VERSION),
    ] {
        let config = config.clone();
        let stdout = tokio::task::spawn_blocking(move || {
            support::run_script(&python, "gather_calls.py", &[&config])
        })
        .await
        .unwrap();
        let out = support::result_line(&stdout);
        check(&out, release);
        check_rules(&out, release);
    }
    drop(py);
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_rust_dendrite_may_call_one_axon_concurrently() {
    let mut axon = serve().await;
    let target = axon.info().unwrap();
    let bob = std::sync::Arc::new(axon::dendrite::Dendrite::new(
        Keypair::from_uri("//Bob").unwrap(),
    ));
    let calls: Vec<_> = (0..64)
        .map(|i| {
            let (bob, target) = (bob.clone(), target.clone());
            tokio::spawn(async move {
                let text = format!("rust-{i}");
                let s = Echo::new(text.clone(), i);
                let out = bob
                    .call(&target, s, std::time::Duration::from_secs(12))
                    .await;
                (text, out)
            })
        })
        .collect();
    for call in calls {
        let (text, out) = call.await.unwrap();
        assert_eq!(out.dendrite.status_code, Some(200), "{:?}", out.dendrite);
        assert_eq!(out.out, Some(text.chars().rev().collect()));
    }
    axon.stop().await;
}
