//! The real Python `bittensor.Dendrite` 10.5.0 calls Rust axons (`tests/python/interop.py`).
//!
//! Three axons serve the synapses below on loopback. The script runs every case through the
//! real dendrite (or, for replays, tampering and crafted headers, through raw HTTP with the
//! exact bytes a dendrite sends) and prints what it saw. Each case is checked for its
//! status and message here, and each axon's `Seen` log proves which handlers ran: a refused
//! request never reaches a forward.

mod support;

use axon::keys::Keypair;
use axon::verify::Verifier;
use axon::{Axon, HandlerError, StatusCode};
use indexmap::IndexMap;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use support::Echo;

/// What each forward saw, in order: one marker per request that reached it.
#[derive(Default)]
pub struct Seen(Mutex<Vec<String>>);

impl Seen {
    fn saw(&self, marker: impl Into<String>) {
        self.0.lock().unwrap().push(marker.into());
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// The axon's name, appended to echoes so fan-out answers show who served them.
pub struct Name(&'static str);
/// The hotkey the Echo blacklist refuses.
pub struct Denied(String);
/// The only hotkey Guarded's custom verify lets through.
pub struct Allowed(String);

#[axon::forward]
fn echo(mut s: Echo, seen: &Seen, name: &Name) -> Echo {
    seen.saw(&s.text);
    s.out = Some(format!(
        "{}@{}",
        s.text.chars().rev().collect::<String>(),
        name.0
    ));
    s
}

#[axon::blacklist]
fn deny_listed(s: &Echo, denied: &Denied) -> (bool, String) {
    let deny = s.dendrite.hotkey.as_deref() == Some(denied.0.as_str());
    (deny, "Eve is not welcome".into())
}

#[axon::model]
#[derive(Debug, Clone)]
pub struct Meta {
    #[default]
    pub label: String,
    #[default]
    pub score: f64,
    #[default]
    pub tags: Vec<String>,
}

#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Compute {
    #[hash]
    pub values: Vec<f64>,
    #[hash]
    pub weights: IndexMap<String, f64>,
    #[default]
    pub meta: Option<Meta>,
    #[default(1)]
    pub scale: i64,
    #[default]
    pub total: Option<f64>,
    #[default]
    pub ranked: Vec<String>,
    #[default]
    pub summary: Option<Meta>,
}

fn compute_total(values: &[f64], scale: i64) -> f64 {
    values.iter().sum::<f64>() * scale as f64
}

#[axon::forward]
async fn compute(mut s: Compute, seen: State<Seen>) -> Compute {
    let meta = s.meta.clone().unwrap_or_default();
    seen.saw(format!("compute:{}", meta.label));
    let total = compute_total(&s.values, s.scale);
    let mut ranked: Vec<(String, f64)> = s.weights.clone().into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    s.total = Some(total);
    s.ranked = ranked.into_iter().map(|(k, _)| k).collect();
    s.summary = Some(Meta {
        label: format!("{}!", meta.label),
        score: total,
        tags: meta.tags.into_iter().rev().collect(),
    });
    s
}

use axon::State;

#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Profile {
    #[hash]
    pub user: String,
    #[hash]
    #[default]
    pub langs: Vec<String>,
    #[default]
    pub scores: IndexMap<String, Vec<i64>>,
    #[default]
    pub bio: Option<String>,
    #[default]
    pub greeting: Option<String>,
    #[default]
    pub flags: IndexMap<String, bool>,
}

#[axon::forward]
fn profile(mut s: Profile, seen: &Seen) -> Profile {
    seen.saw(&s.user);
    s.greeting = Some(format!("hello {} ({})", s.user, s.langs.join(",")));
    let total: i64 = s.scores.values().flatten().sum();
    s.scores.insert("total".into(), vec![total]);
    s.flags.insert("served".into(), true);
    s
}

#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Guarded {
    #[default]
    pub note: Option<String>,
}

#[axon::forward]
fn guarded(s: Guarded, seen: &Seen) -> Guarded {
    seen.saw(s.note.clone().unwrap_or_default());
    s
}

#[axon::verify]
fn only_bob(s: &Guarded, default: &Verifier, allowed: &Allowed) -> Result<(), HandlerError> {
    default.verify(s)?;
    if s.dendrite.hotkey.as_deref() != Some(allowed.0.as_str()) {
        return Err(HandlerError::new(
            StatusCode::UNAUTHORIZED,
            "only Bob may call Guarded",
        ));
    }
    Ok(())
}

#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Flaky {
    #[hash]
    pub mode: String,
}

#[axon::forward]
async fn flaky(s: Flaky, seen: State<Seen>) -> Result<Flaky, HandlerError> {
    seen.saw(&s.mode);
    match s.mode.as_str() {
        "busy" => Err(HandlerError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "busy, retry later",
        )),
        "panic" => panic!("flaky panicked with a secret"),
        "internal" => Err(std::io::Error::other("the disk secret is gone").into()),
        _ => Ok(s),
    }
}

fn ss58(uri: &str) -> String {
    Keypair::from_uri(uri).unwrap().ss58().to_owned()
}

/// The case `name` of the script's output.
fn case<'a>(out: &'a Value, name: &str) -> &'a Value {
    out.get(name)
        .unwrap_or_else(|| panic!("no case {name} in {out}"))
}

/// Asserts the status and exact message a case saw.
fn assert_seen(out: &Value, name: &str, status: u16, message: &str) {
    let c = case(out, name);
    assert_eq!(c["status"], status, "{name}: {c}");
    assert_eq!(c["message"], message, "{name}: {c}");
}

/// Asserts the status and the start of the message a case saw.
fn assert_prefix(out: &Value, name: &str, status: u16, prefix: &str) -> String {
    let c = case(out, name);
    assert_eq!(c["status"], status, "{name}: {c}");
    let message = c["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.starts_with(prefix), "{name}: {message}");
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_dendrite_calls_rust_axons() {
    let mut axons = Vec::new();
    let mut config = serde_json::Map::new();
    let mut seen = Vec::new();
    for (name, uri) in [("A", "//Alice"), ("B", "//Ferdie"), ("C", "//Dave")] {
        let log = Arc::new(Seen::default());
        let mut axon = Axon::from_registry()
            .hotkey(Keypair::from_uri(uri).unwrap())
            .ip("127.0.0.1")
            .port(0)
            .state_arc(log.clone())
            .state(Name(name))
            .state(Denied(ss58("//Eve")))
            .state(Allowed(ss58("//Bob")));
        axon.start().await.unwrap();
        let port = axon.local_addr().unwrap().port();
        config.insert(name.into(), json!({"port": port, "hotkey": ss58(uri)}));
        axons.push(axon);
        seen.push(log);
    }
    let arg = json!({ "axons": config }).to_string();
    let stdout =
        tokio::task::spawn_blocking(move || support::run_python_script_with("interop.py", &[&arg]))
            .await
            .unwrap();
    let out = support::result_line(&stdout);
    let alice = ss58("//Alice");

    // Three synapse types round-trip with the fields their handlers set; the axon's
    // terminal arrives signed.
    let c = case(&out, "echo_ok");
    assert_seen(&out, "echo_ok", 200, "Success");
    assert_eq!(c["out"], "ko-ohce@A");
    assert_eq!((&c["text"], &c["n"]), (&json!("echo-ok"), &json!(3)));
    assert_eq!(c["axon_hotkey"], alice.as_str());
    assert_eq!(c["axon_signature_valid"], true);
    assert_eq!(c["axon_version"], 10_005_000);
    assert_eq!(c["dendrite_ip"], "127.0.0.1");
    assert!(c["process_time"].as_f64().unwrap() > 0.0, "{c}");

    let c = case(&out, "compute_ok");
    assert_seen(&out, "compute_ok", 200, "Success");
    let total = compute_total(&[1.5, -2.0, 1e-05], 3);
    assert_eq!(c["total"].as_f64(), Some(total));
    assert_eq!(c["ranked"], json!(["a", "b"]));
    assert_eq!(
        c["summary"],
        json!({"label": "compute-ok!", "score": total, "tags": ["y", "x"]})
    );
    assert_eq!(c["weights"], json!({"b": 0.25, "a": 2.0}));
    assert_eq!(c["axon_signature_valid"], true);

    let c = case(&out, "profile_ok");
    assert_seen(&out, "profile_ok", 200, "Success");
    assert_eq!(c["greeting"], "hello profile-ok (rust,python)");
    assert_eq!(c["scores"], json!({"rust": [3, 1], "py": [], "total": [4]}));
    assert_eq!(c["flags"], json!({"new": true, "served": true}));
    assert_eq!(c["bio"], Value::Null);

    assert_seen(&out, "ping", 200, "Success");

    // 403, before the signature is checked: the answer is not signed.
    assert_seen(
        &out,
        "blacklisted",
        403,
        "Forbidden. Key is blacklisted: Eve is not welcome.",
    );
    assert_eq!(
        case(&out, "blacklisted")["axon_signature_valid"],
        Value::Null
    );

    // 401 variants.
    let m = assert_prefix(
        &out,
        "bad_signature",
        401,
        "Not Verified with error: Signature mismatch with ",
    );
    assert!(m.contains(&format!(".{alice}.")), "{m}");
    let m = assert_prefix(
        &out,
        "wrong_receiver",
        401,
        "Not Verified with error: Signature mismatch with ",
    );
    assert!(
        m.contains(&format!(".{alice}.")),
        "checked against the axon's own hotkey: {m}"
    );
    for name in ["missing_signature", "empty_signature"] {
        assert_seen(
            &out,
            name,
            401,
            "Not Verified with error: Missing Signature",
        );
    }
    assert_prefix(
        &out,
        "stale_nonce",
        401,
        "Not Verified with error: Nonce is too old: acceptable delta is 16.00 seconds but request was 120.",
    );
    assert_seen(&out, "guarded_bob", 200, "Success");
    assert_eq!(case(&out, "guarded_bob")["note"], "guarded-bob");
    assert_seen(
        &out,
        "guarded_charlie",
        401,
        "Not Verified with error: only Bob may call Guarded",
    );

    // 404 naming what is served.
    assert_seen(
        &out,
        "unknown",
        404,
        "Synapse name 'Unknown' not found. Available synapses ['Synapse', 'Compute', 'Echo', \
         'Flaky', 'Guarded', 'Profile']",
    );

    // Handler errors: its own status; panics and internal errors hide their details.
    assert_seen(&out, "flaky_busy", 429, "busy, retry later");
    for name in ["flaky_panic", "flaky_internal"] {
        let m = assert_prefix(&out, name, 500, "Internal Server Error #");
        assert!(!m.contains("secret"), "{name}: {m}");
    }
    assert_seen(&out, "flaky_flaky-ok", 200, "Success");

    // dendrite.forward to three axons at once: each answers with its own handler, state
    // and hotkey.
    let fan = case(&out, "fan_out").as_array().unwrap();
    assert_eq!(fan.len(), 3);
    for (answer, (name, uri)) in
        fan.iter()
            .zip([("A", "//Alice"), ("B", "//Ferdie"), ("C", "//Dave")])
    {
        assert_eq!(answer["status"], 200, "{answer}");
        assert_eq!(answer["out"], format!("tuo-naf@{name}"));
        assert_eq!(answer["axon_hotkey"], ss58(uri).as_str());
        assert_eq!(answer["axon_signature_valid"], true);
    }

    // Raw HTTP: a replay, a cross-synapse replay, a tampered body, crafted headers.
    let raw = |name: &str, status: u16, message: &str| {
        let c = case(&out, name);
        assert_eq!(c["status"], status, "{name}: {c}");
        assert_eq!(c["message"], message, "{name}: {c}");
        assert_eq!(c["content_type"], "application/json", "{name}: {c}");
        assert_eq!(c["axon_status_code"], status.to_string(), "{name}: {c}");
    };
    let raw_prefix = |name: &str, status: u16, prefix: &str| {
        let c = case(&out, name);
        assert_eq!(c["status"], status, "{name}: {c}");
        let message = c["message"].as_str().unwrap();
        assert!(message.starts_with(prefix), "{name}: {message}");
        assert_eq!(c["axon_status_code"], status.to_string(), "{name}: {c}");
    };
    let replay = |nonce: &str| {
        let nonce = case(&out, nonce).as_str().unwrap();
        format!(
            "Not Verified with error: Nonce is a replay: a request of this dendrite with nonce \
             {nonce} was already processed"
        )
    };
    assert_eq!(case(&out, "replay_first")["status"], 200);
    raw("replay_again", 401, &replay("replay_nonce"));
    assert_eq!(case(&out, "cross_first")["status"], 200);
    raw("cross_to_guarded", 401, &replay("cross_nonce"));
    let hashes = case(&out, "tampered_expected_hashes");
    raw(
        "tampered_body",
        400,
        &format!(
            "body hash mismatch: the computed_body_hash header is {}, the body hashes to {}",
            hashes[0], hashes[1]
        ),
    );
    raw_prefix(
        "not_json",
        400,
        "Could not parse the body as synapse Echo: ",
    );
    raw(
        "bad_timeout_header",
        400,
        "Improperly formatted request. Could not parse headers into synapse of type Echo: \
         header `timeout`: `soon` is not a number (Python's float() refuses it)",
    );
    raw_prefix(
        "missing_input_obj",
        400,
        "Improperly formatted request. Could not parse headers into synapse of type Echo: \
         header `bt_header_input_obj_text`",
    );
    raw(
        "unsigned",
        401,
        "Not Verified with error: No SS58 formatted address or public key provided.",
    );
    raw("put", 405, "Method PUT not allowed: call POST /Echo");
    raw_prefix("nested_path", 404, "Synapse name 'Echo/x' not found.");
    assert_eq!(case(&out, "still_serving")["status"], 200);

    // Which forwards ran, in order: none of the refused requests reached one.
    assert_eq!(
        seen[0].all(),
        [
            "echo-ok",
            "compute:compute-ok",
            "profile-ok",
            "guarded-bob",
            "busy",
            "panic",
            "internal",
            "flaky-ok",
            "fan-out",
            "replayed",
            "cross-synapse",
            "still-serving",
        ]
    );
    assert_eq!(seen[1].all(), ["fan-out"]);
    assert_eq!(seen[2].all(), ["fan-out"]);

    for axon in &mut axons {
        axon.stop().await;
    }
}
