//! The default verify against requests signed by the real bittensor 10.5.0 keypair
//! (`tests/python/sign.py`): Alice's dendrite calls an axon whose hotkey is Bob's.

mod support;

use axon::verify::{Verifier, VerifyConfig};
use axon::{Axon, HandlerError, StatusCode, Synapse};
use serde_json::Value;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::Echo;

fn signed() -> &'static Value {
    static SIGNED: OnceLock<Value> = OnceLock::new();
    SIGNED.get_or_init(|| {
        let v: Value = serde_json::from_str(&support::run_python_script("sign.py")).unwrap();
        assert_eq!(v["bittensor_version"], support::BITTENSOR_VERSION);
        v
    })
}

fn field(name: &str) -> &'static str {
    signed()[name].as_str().unwrap()
}

/// The synapse an axon reads from the headers of case `case`, after `edit`.
fn request<S: Synapse>(case: &str, edit: impl FnOnce(&mut http::HeaderMap)) -> S {
    let mut map = http::HeaderMap::new();
    for (k, v) in signed()[case]["headers"].as_object().unwrap() {
        map.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.as_str().unwrap().parse().unwrap(),
        );
    }
    edit(&mut map);
    S::from_headers(&map).unwrap()
}

fn echo(case: &str) -> Echo {
    request(case, |_| {})
}

/// The axon's clock, `secs` after the signed nonce.
fn at(secs: f64) -> SystemTime {
    let nonce = signed()["nonce"].as_u64().unwrap();
    let t = UNIX_EPOCH + Duration::from_nanos(nonce);
    if secs >= 0.0 {
        t + Duration::from_secs_f64(secs)
    } else {
        t - Duration::from_secs_f64(-secs)
    }
}

fn bob() -> Verifier {
    Verifier::new(field("bob"))
}

fn refusal(result: Result<(), HandlerError>) -> String {
    let err = result.unwrap_err();
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    assert!(!err.is_internal());
    err.message().to_string()
}

#[test]
fn accepts_python_signatures_plain_and_bytes_wrapped() {
    let v = bob();
    v.verify_at(&echo("plain"), at(1.0)).unwrap();
    v.verify_at(&echo("wrapped"), at(1.0)).unwrap();
    v.verify_at(&request::<axon::BaseSynapse>("base", |_| {}), at(1.0))
        .unwrap();
    assert_eq!(v.remembered(), 3);
}

/// The refusal of a request accepted before, whose nonce is the signed one plus `offset`.
fn replay_of(offset: i64) -> String {
    let nonce = signed()["nonce"].as_i64().unwrap() + offset;
    format!(
        "Nonce is a replay: a request of this dendrite with nonce {nonce} was already processed"
    )
}

#[test]
fn accepts_each_request_once_in_any_order() {
    let v = bob();
    // A dendrite's concurrent calls may arrive in any order: each is served once.
    v.verify_at(&echo("next"), at(1.0)).unwrap();
    v.verify_at(&echo("plain"), at(1.0)).unwrap();
    v.verify_at(&echo("earlier"), at(1.5)).unwrap();
    assert_eq!(v.remembered(), 3);
    for (case, offset) in [("plain", 0), ("next", 1_000_000), ("earlier", -1_000_000)] {
        assert_eq!(
            refusal(v.verify_at(&echo(case), at(2.0))),
            replay_of(offset)
        );
    }
    // Forgotten or not, a replay past its window is refused.
    assert!(refusal(v.verify_at(&echo("plain"), at(70.0))).starts_with("Nonce is too old: "));
    assert_eq!(v.remembered(), 3);
}

#[test]
fn every_nonce_must_be_inside_its_window_not_only_the_first() {
    let v = bob();
    v.verify_at(&echo("plain"), at(1.0)).unwrap();
    // Python serves a held-back request whose nonce is above the last accepted, however
    // old: here it is as stale as a first nonce would be.
    assert_eq!(
        refusal(v.verify_at(&echo("next"), at(75.0))),
        "Nonce is too old: acceptable delta is 16.00 seconds but request was 75.00 seconds old"
    );
}

#[test]
fn adding_or_removing_the_uuid_header_is_the_same_request() {
    // A missing uuid is signed as `None`; a `None` uuid header signs the same message.
    let with_none = || -> Echo {
        request("no_uuid", |h| {
            h.insert("bt_header_dendrite_uuid", "None".parse().unwrap());
        })
    };
    assert_eq!(echo("no_uuid").dendrite.uuid, None);
    assert_eq!(with_none().dendrite.uuid.as_deref(), Some("None"));

    let v = bob();
    v.verify_at(&echo("no_uuid"), at(1.0)).unwrap();
    assert_eq!(refusal(v.verify_at(&with_none(), at(1.0))), replay_of(0));
    let v = bob();
    v.verify_at(&with_none(), at(1.0)).unwrap();
    assert_eq!(
        refusal(v.verify_at(&echo("no_uuid"), at(1.0))),
        replay_of(0)
    );
}

#[test]
fn refuses_a_signature_for_another_axon() {
    let alice_axon = Verifier::new(field("alice"));
    let signature = echo("plain").dendrite.signature.unwrap();
    let message = signed()["plain"]["message"]
        .as_str()
        .unwrap()
        .replace(field("bob"), field("alice"));
    assert_eq!(
        refusal(alice_axon.verify_at(&echo("plain"), at(1.0))),
        format!("Signature mismatch with {message} and {signature}")
    );
    assert_eq!(alice_axon.remembered(), 0, "a refused nonce is not stored");
}

#[test]
fn refuses_a_tampered_body_hash_and_a_forgery_does_not_advance_the_nonce() {
    let v = bob();
    let tampered: Echo = request("next", |h| {
        h.insert("computed_body_hash", "0".repeat(64).parse().unwrap());
    });
    assert!(refusal(v.verify_at(&tampered, at(1.0))).starts_with("Signature mismatch with "));
    // The genuine requests, lower nonce first, are still accepted.
    v.verify_at(&echo("plain"), at(1.0)).unwrap();
    v.verify_at(&echo("next"), at(1.0)).unwrap();
}

#[test]
fn refuses_missing_or_empty_signatures_and_nonces() {
    let v = bob();
    let no_signature: Echo = request("plain", |h| {
        h.remove("bt_header_dendrite_signature");
    });
    assert_eq!(
        refusal(v.verify_at(&no_signature, at(1.0))),
        "Missing Signature"
    );
    // bittensor #3392: an empty signature must not skip verification.
    let empty: Echo = request("plain", |h| {
        h.insert("bt_header_dendrite_signature", "".parse().unwrap());
    });
    assert_eq!(refusal(v.verify_at(&empty, at(1.0))), "Missing Signature");
    let no_nonce: Echo = request("plain", |h| {
        h.remove("bt_header_dendrite_nonce");
    });
    assert_eq!(refusal(v.verify_at(&no_nonce, at(1.0))), "Missing Nonce");
    let no_hotkey: Echo = request("plain", |h| {
        h.remove("bt_header_dendrite_hotkey");
    });
    assert_eq!(
        refusal(v.verify_at(&no_hotkey, at(1.0))),
        "No SS58 formatted address or public key provided."
    );
    assert_eq!(v.remembered(), 0);
}

#[test]
fn refuses_malformed_signatures_and_hotkeys_with_bittensor_wallets_messages() {
    // The messages bittensor_wallet raises for the same values (`tests/python/sign.py`).
    let theirs = |case: &str| signed()["refusals"][case].as_str().unwrap().to_owned();
    let v = bob();
    let with_signature = |s: &str| -> Echo {
        request("plain", |h| {
            h.insert("bt_header_dendrite_signature", s.parse().unwrap());
        })
    };
    // The hex ones are the `hex` crate's errors, as bittensor_wallet prints them: the length
    // is checked before the digits (`0xabg` is OddLength).
    let hexes = [
        "0xzz", "0x12", "0xabg", "0xa", "0xg0", "0x0g", "0xabcg", "0x0x12",
    ];
    for signature in std::iter::once("nothex").chain(hexes) {
        assert_eq!(
            refusal(v.verify_at(&with_signature(signature), at(1.0))),
            theirs(signature),
            "{signature}"
        );
    }
    let bad_hotkey: Echo = request("plain", |h| {
        h.insert("bt_header_dendrite_hotkey", "5Bad".parse().unwrap());
    });
    assert_eq!(
        refusal(v.verify_at(&bad_hotkey, at(1.0))),
        theirs("hotkey 5Bad")
    );
}

#[test]
fn the_nonce_window_is_pythons_with_the_timeout_clamped() {
    let v = bob();
    assert_eq!(
        refusal(v.verify_at(&echo("plain"), at(20.0))),
        "Nonce is too old: acceptable delta is 16.00 seconds but request was 20.00 seconds old"
    );
    // `timeout` is not signed: a client could widen the window at will; it is clamped.
    let wide: Echo = request("plain", |h| {
        h.insert("timeout", "1000000000.0".parse().unwrap());
    });
    assert_eq!(
        refusal(v.verify_at(&wide, at(100.0))),
        "Nonce is too old: acceptable delta is 64.00 seconds but request was 100.00 seconds old"
    );
    v.verify_at(&wide, at(63.0)).unwrap();
}

#[test]
fn refuses_nonces_from_the_future_and_old_dendrites() {
    let v = bob();
    assert_eq!(
        refusal(v.verify_at(&echo("plain"), at(-31.0))),
        "Nonce is too far in the future: 31.00 seconds ahead of this axon's clock, at most 30.00 allowed"
    );
    let old: Echo = request("plain", |h| {
        h.insert("bt_header_dendrite_version", "7001000".parse().unwrap());
    });
    assert_eq!(
        refusal(v.verify_at(&old, at(1.0))),
        "Dendrite version 7001000 is older than 7002000, the oldest this axon serves: upgrade bittensor"
    );
    let mut config = VerifyConfig::default();
    config.max_future = Duration::from_secs(60);
    Verifier::with_config(field("bob"), config)
        .verify_at(&echo("plain"), at(-31.0))
        .unwrap();
}

/// The clock a test gives the custom verify below.
pub struct Clock(SystemTime);

/// A custom verify keeping the default check in one line, then adding its own rule.
#[axon::verify]
fn echo_verify(synapse: &Echo, default: &Verifier, clock: &Clock) -> Result<(), HandlerError> {
    default.verify_at(synapse, clock.0)?;
    if synapse.n > 100 {
        return Err(HandlerError::new(
            StatusCode::UNAUTHORIZED,
            "n is too large",
        ));
    }
    Ok(())
}

#[axon::forward]
fn echo_forward(synapse: Echo) -> Echo {
    synapse
}

#[tokio::test]
async fn a_custom_verify_runs_the_default_check_in_one_line() {
    let handlers = Axon::from_registry()
        .state(bob())
        .state(Clock(at(1.0)))
        .handlers()
        .unwrap();
    handlers
        .custom_verify(&echo("plain"))
        .await
        .unwrap()
        .unwrap();
    let replay = handlers.custom_verify(&echo("plain")).await.unwrap();
    assert_eq!(replay.unwrap_err().message(), replay_of(0));
    let forged: Echo = request("next", |h| {
        h.insert(
            "bt_header_dendrite_signature",
            format!("0x{}", "00".repeat(64)).parse().unwrap(),
        );
    });
    let refused = handlers.custom_verify(&forged).await.unwrap().unwrap_err();
    assert_eq!(refused.message(), "Invalid SR25519 signature.");
}
