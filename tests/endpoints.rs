//! Signed-HTTP endpoints (`#[axon::endpoint]`) served by a running axon and called over
//! real HTTP by the real clients (`tests/python/signed_http.py`): btauth/1 requests signed
//! by bittensor 11.3.0's own `http_auth.sign`, each also judged by its `http_auth.verify`
//! on the bytes sent, so every answer is pinned to the package's verdict; Epistula
//! requests signed with the real `bittensor_wallet`; and the real 10.5.0 Dendrite beside
//! both against the example miner.

mod support;

use axon::auth::{Caller, Scheme};
use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use axon::{Axon, AxonInfo, Blacklist};
use axum::body::Bytes;
use axum::Json;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use support::client::Client;
use support::services::Miner;
use support::{python, python_11};

#[derive(serde::Deserialize)]
struct Ask {
    text: String,
}

/// Both schemes, bound to the axon's hotkey: the text reversed and who sent it.
#[axon::endpoint(POST "/v1/echo")]
async fn echo(caller: Caller, uri: http::Uri, Json(ask): Json<Ask>) -> Json<Value> {
    Json(json!({
        "text": ask.text,
        "out": ask.text.chars().rev().collect::<String>(),
        "hotkey": caller.hotkey,
        "scheme": format!("{:?}", caller.scheme),
        "crypto": format!("{:?}", caller.crypto),
        "receiver": caller.receiver,
        "uri": uri.to_string(),
    }))
}

/// btauth/1 only, no body, bound or not.
#[axon::endpoint(GET "/v1/who", auth = btauth, unbound)]
async fn who(caller: Caller) -> String {
    format!(
        "{} {}",
        caller.hotkey,
        caller.receiver.as_deref().unwrap_or("-")
    )
}

/// Epistula only, 64 bytes at most, Eve refused before her signature is checked.
#[axon::endpoint(POST "/v1/small", auth = epistula, max_body = 64, blacklist = no_eve)]
async fn small(caller: Caller, body: Bytes) -> String {
    format!("{} {}", caller.hotkey, body.len())
}

/// The twin of a run-time endpoint (`an_endpoint_built_at_run_time_is_served_as_a_declared_one`):
/// btauth/1 only, sr25519 only, Eve refused.
#[axon::endpoint(POST "/v1/declared", auth = btauth, crypto = sr25519, blacklist = no_eve)]
async fn declared(caller: Caller, body: Bytes) -> String {
    format!("{} {:?} {}", caller.hotkey, caller.scheme, body.len())
}

fn no_eve(caller: &Caller) -> Blacklist {
    match caller.hotkey == ss58("//Eve") {
        true => Blacklist::Deny("Eve is denied".into()),
        false => Blacklist::Allow,
    }
}

fn ss58(uri: &str) -> String {
    Keypair::from_uri(uri).unwrap().ss58().to_owned()
}

fn alice() -> String {
    ss58("//Alice")
}

/// An axon of Alice's serving the endpoints above, with its operations listener.
async fn start() -> (Axon, SocketAddr, SocketAddr) {
    // //Bob's ed25519 key signs with ed25519: the server says so (tests/crypto.rs).
    let mut pins = axon::auth::Pins::default();
    let bob_ed = Keypair::from_uri_with("//Bob", axon::auth::Crypto::Ed25519).unwrap();
    pins.pin(bob_ed.ss58(), axon::auth::Crypto::Ed25519)
        .unwrap();
    let mut axon = Axon::from_registry()
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .auth(axon::auth::AuthConfig {
            pins,
            ..axon::auth::AuthConfig::default()
        })
        .ip("127.0.0.1")
        .port(0)
        .operations("127.0.0.1:0".parse().unwrap());
    axon.start().await.unwrap();
    let (addr, ops) = (axon.local_addr().unwrap(), axon.operations_addr().unwrap());
    (axon, addr, ops)
}

/// The config line of `signed_http.py`.
fn config(addr: SocketAddr, requests: Value) -> Value {
    json!({"url": format!("http://{addr}"), "self": alice(), "requests": requests})
}

/// Runs one client to the end: the answers, per request.
fn run(python: &std::path::Path, addr: SocketAddr, requests: Value) -> Vec<Value> {
    match Client::run(python, "signed_http.py", &config(addr, requests)) {
        Value::Array(all) => all,
        other => panic!("{other}"),
    }
}

/// Asserts that the axon's `/metrics` (on `ops`) holds each of `lines`, each a whole line
/// (`status="200"} 3` does not match a line ending `} 30`).
async fn assert_counted(ops: SocketAddr, lines: &[&str]) {
    let (_, metrics) = support::http::get(ops, "/metrics").await;
    for line in lines {
        assert!(
            metrics.lines().any(|l| l == *line),
            "{line} not in\n{metrics}"
        );
    }
}

/// The message of an answer's JSON body.
fn message(answer: &Value) -> String {
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap())
        .unwrap_or_else(|_| panic!("not JSON: {answer}"));
    body["message"].as_str().unwrap().to_owned()
}

/// The status bittensor's verdict maps to, and its message (`ok` for a pass).
fn python_says(answer: &Value) -> (u16, String) {
    let verdict = answer["python"].as_str().unwrap();
    if verdict.starts_with("ok ") {
        return (200, "ok".into());
    }
    let (class, msg) = verdict.split_once(": ").unwrap();
    let status = if class == "MalformedAuth" { 400 } else { 401 };
    (status, msg.to_owned())
}

fn btauth(uri: &str, crypto: &str, method: &str, path: &str, body: &str) -> Value {
    json!({"scheme": "btauth", "uri": uri, "crypto": crypto, "method": method, "path": path,
           "body": body, "receiver": alice()})
}

fn epistula(uri: &str, path: &str, body: &str) -> Value {
    json!({"scheme": "epistula", "uri": uri, "method": "POST", "path": path, "body": body,
           "receiver": alice()})
}

/// Sets `key` of a request.
fn with(mut request: Value, key: &str, value: Value) -> Value {
    request[key] = value;
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn btauth_requests_signed_by_bittensor_11_get_its_verdict() {
    let (_axon, addr, ops) = start().await;
    let hello = r#"{"text": "hello"}"#;
    let requests = json!([
        btauth("//Bob", "sr25519", "POST", "/v1/echo", hello),
        btauth("//Bob", "ed25519", "POST", "/v1/echo?lang=en&x=1", hello),
        with(
            with(
                btauth("//Bob", "sr25519", "GET", "/v1/who", ""),
                "receiver",
                Value::Null
            ),
            "require_receiver",
            json!(false),
        ),
        btauth("//Charlie", "sr25519", "GET", "/v1/who?a=1", ""),
        // Refusals, each with what bittensor's own verify says of the same bytes.
        with(
            with(
                btauth("//Bob", "sr25519", "POST", "/v1/echo", hello),
                "receiver",
                Value::Null
            ),
            "require_receiver",
            json!(true),
        ),
        with(
            btauth("//Bob", "sr25519", "POST", "/v1/echo", hello),
            "times",
            json!(2)
        ),
        with(
            btauth("//Bob", "sr25519", "POST", "/v1/echo", hello),
            "receiver",
            json!(ss58("//Bob"))
        ),
        with(
            btauth("//Bob", "sr25519", "POST", "/v1/echo", hello),
            "send",
            json!({"body": r#"{"text": "hellO"}"#})
        ),
        with(
            btauth("//Bob", "sr25519", "POST", "/v1/who", ""),
            "send",
            json!({"method": "GET"})
        ),
        with(
            btauth("//Bob", "sr25519", "POST", "/v1/echo?x=1", hello),
            "send",
            json!({"path": "/v1/echo?x=2"})
        ),
        with(
            btauth("//Bob", "sr25519", "POST", "/v1/echo", hello),
            "age_ms",
            json!(60_000)
        ),
        with(
            btauth("//Bob", "sr25519", "POST", "/v1/echo", hello),
            "age_ms",
            json!(-60_000)
        ),
        with(
            btauth("//Bob", "sr25519", "POST", "/v1/echo", hello),
            "drop",
            json!(["X-Bittensor-Signature"])
        ),
        with(
            btauth("//Bob", "sr25519", "POST", "/v1/echo", hello),
            "set",
            json!({"X-Bittensor-Nonce": "12a"})
        ),
        with(
            btauth("//Bob", "sr25519", "POST", "/v1/echo", hello),
            "set",
            json!({"X-Bittensor-Version": "2"})
        ),
        with(
            btauth("//Bob", "sr25519", "POST", "/v1/echo", hello),
            "set",
            json!({"X-Bittensor-Crypto": "ecdsa"})
        ),
    ]);
    let answers = run(&python_11(), addr, requests);

    // Accepted: the caller as verified, the path and query as sent.
    let ok: Value = serde_json::from_str(answers[0][0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(answers[0][0]["status"], 200, "{}", answers[0][0]);
    assert_eq!(
        (
            ok["hotkey"].as_str(),
            ok["out"].as_str(),
            ok["scheme"].as_str(),
            ok["crypto"].as_str()
        ),
        (
            Some(ss58("//Bob").as_str()),
            Some("olleh"),
            Some("Btauth"),
            Some("Sr25519")
        )
    );
    assert_eq!(ok["receiver"], alice());
    let ed: Value = serde_json::from_str(answers[1][0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(answers[1][0]["status"], 200, "{}", answers[1][0]);
    assert_eq!(ed["crypto"], "Ed25519");
    assert_eq!(ed["uri"], "/v1/echo?lang=en&x=1");
    assert_ne!(
        ed["hotkey"], ok["hotkey"],
        "an ed25519 key has another address"
    );
    assert_eq!(answers[2][0]["status"], 200);
    assert_eq!(answers[2][0]["body"], format!("{} -", ss58("//Bob")));
    assert_eq!(
        answers[3][0]["body"],
        format!("{} {}", ss58("//Charlie"), alice())
    );
    for accepted in &answers[..4] {
        assert_eq!(python_says(&accepted[0]).0, 200, "{accepted}");
    }

    // Each refusal: the status and message bittensor's verify gives the same bytes.
    let replay = &answers[5];
    assert_eq!(
        (replay[0]["status"].as_u64(), replay[1]["status"].as_u64()),
        (Some(200), Some(401))
    );
    assert_eq!(
        message(&replay[1]),
        "this nonce was already accepted from this hotkey"
    );
    let expected = [
        (
            4,
            401,
            "missing X-Bittensor-Receiver: this server requires receiver-bound requests",
        ),
        (
            6,
            401,
            "request was signed for a different receiving hotkey",
        ),
        (
            7,
            401,
            "signature does not verify against the claimed hotkey",
        ),
        (
            8,
            401,
            "signature does not verify against the claimed hotkey",
        ),
        (
            9,
            401,
            "signature does not verify against the claimed hotkey",
        ),
        (10, 401, "nonce is older than the 10s freshness window"),
        (11, 401, "nonce is more than 2s in the future"),
        (12, 400, "missing X-Bittensor-Signature"),
        (13, 400, "X-Bittensor-Nonce is not a decimal integer"),
        (
            14,
            400,
            "missing or unsupported X-Bittensor-Version (expected '1')",
        ),
        (15, 400, "unsupported X-Bittensor-Crypto"),
    ];
    for (i, status, text) in expected {
        let answer = &answers[i][0];
        assert_eq!(answer["status"], status, "request {i}: {answer}");
        assert_eq!(message(answer), text, "request {i}");
        assert_eq!(
            python_says(answer),
            (status, text.to_owned()),
            "request {i}"
        );
    }

    // The other scheme, and no scheme at all, at a btauth/1-only endpoint.
    let wrong = run(
        &python(),
        addr,
        json!([
            with(epistula("//Bob", "/v1/who", ""), "method", json!("GET")),
            with(
                with(epistula("//Bob", "/v1/who", ""), "method", json!("GET")),
                "drop",
                json!(["Epistula-Version"])
            )
        ]),
    );
    assert_eq!(wrong[0][0]["status"], 401);
    assert_eq!(
        message(&wrong[0][0]),
        "GET /v1/who does not accept Epistula (Epistula-*): sign it with btauth/1 (X-Bittensor-*)"
    );
    assert_eq!(
        message(&wrong[1][0]),
        "GET /v1/who needs a signed request: sign it with btauth/1 (X-Bittensor-*)"
    );

    // Counted per endpoint.
    assert_counted(
        ops,
        &[
            r#"axon_requests_total{endpoint="POST /v1/echo",status="200"} 3"#,
            r#"axon_requests_total{endpoint="GET /v1/who",status="200"} 2"#,
            r#"axon_requests_total{endpoint="POST /v1/echo",status="400"} 4"#,
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epistula_requests_signed_with_bittensor_wallet_are_checked() {
    let (_axon, addr, ops) = start().await;
    let hello = r#"{"text": "hello"}"#;
    let requests = json!([
        epistula("//Bob", "/v1/echo", hello),
        with(epistula("//Bob", "/v1/echo", hello), "times", json!(2)),
        with(
            epistula("//Bob", "/v1/echo", hello),
            "age_ms",
            json!(60_000)
        ),
        with(
            epistula("//Bob", "/v1/echo", hello),
            "receiver",
            json!(ss58("//Bob"))
        ),
        with(
            epistula("//Bob", "/v1/echo", hello),
            "receiver",
            Value::Null
        ),
        with(
            epistula("//Bob", "/v1/echo", hello),
            "send",
            json!({"body": r#"{"text": "hellO"}"#})
        ),
        epistula("//Bob", "/v1/small", "tiny"),
        epistula("//Eve", "/v1/small", "tiny"),
        epistula("//Bob", "/v1/small", &"x".repeat(65)),
        with(
            epistula("//Bob", "/v1/echo", hello),
            "set",
            json!({"Epistula-Timestamp": "soon"})
        ),
    ]);
    let answers = run(&python(), addr, requests);
    let ok: Value = serde_json::from_str(answers[0][0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(answers[0][0]["status"], 200, "{}", answers[0][0]);
    assert_eq!(
        (ok["scheme"].as_str(), ok["out"].as_str()),
        (Some("Epistula"), Some("olleh"))
    );
    assert_eq!(ok["hotkey"], ss58("//Bob"));
    let replay = &answers[1];
    assert_eq!(
        (replay[0]["status"].as_u64(), replay[1]["status"].as_u64()),
        (Some(200), Some(401))
    );
    assert_eq!(
        message(&replay[1]),
        "this uuid was already accepted from this hotkey"
    );
    let expected = [
        (2, 401, "nonce is older than the 10s freshness window"),
        (
            3,
            401,
            "request was signed for a different receiving hotkey",
        ),
        (
            4,
            401,
            "missing Epistula-Signed-For: this server requires receiver-bound requests",
        ),
        (
            5,
            401,
            "signature does not verify against the claimed hotkey",
        ),
        (7, 403, "Forbidden. Key is blacklisted: Eve is denied."),
        (8, 413, "Request body larger than the limit of 64 bytes"),
        (
            9,
            400,
            "Epistula-Timestamp is not a whole number of milliseconds",
        ),
    ];
    for (i, status, text) in expected {
        let answer = &answers[i][0];
        assert_eq!(answer["status"], status, "request {i}: {answer}");
        assert_eq!(message(answer), text, "request {i}");
    }
    assert_eq!(answers[6][0]["status"], 200);
    assert_eq!(answers[6][0]["body"], format!("{} 4", ss58("//Bob")));

    assert_counted(
        ops,
        &[
            r#"axon_requests_total{endpoint="POST /v1/echo",status="200"} 2"#,
            r#"axon_requests_total{endpoint="POST /v1/small",status="403"} 1"#,
            r#"axon_requests_total{endpoint="POST /v1/small",status="413"} 1"#,
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_client_signs_what_python_verifies() {
    let (_axon, addr, _ops) = start().await;
    let target = AxonInfo {
        version: 10_005_000,
        ip: "127.0.0.1".into(),
        port: addr.port(),
        ip_type: 4,
        hotkey: alice(),
        coldkey: None,
        protocol: 4,
        placeholder1: 0,
        placeholder2: 0,
    };
    let bob = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
    let body = br#"{"text": "from rust"}"#.to_vec();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let headers = |r: &http::Request<_>| -> Value {
        r.headers()
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };

    // The package's own verify accepts the Rust client's btauth/1 request.
    let request = bob
        .signed_request(
            Scheme::Btauth,
            "POST",
            &target,
            "/v1/echo?q=1",
            body.clone(),
        )
        .unwrap();
    let nonce: i128 = request.headers()["x-bittensor-nonce"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let verdict = support::run_script_stdin(
        &python_11(),
        "btauth.py",
        &json!([{"op": "verify", "headers": headers(&request), "body": hex(&body),
                 "method": "POST", "path": "/v1/echo?q=1", "self": alice(),
                 "now_ns": nonce + 1_000_000, "store": "s"}]),
    );
    assert_eq!(verdict, json!([format!("ok {}", bob.hotkey())]));
    // So does a verifier following the Epistula spec with bittensor_wallet.
    let request = bob
        .signed_request(Scheme::Epistula, "POST", &target, "/v1/echo", body.clone())
        .unwrap();
    let verdict = support::run_script_stdin(
        &python(),
        "epistula.py",
        &json!([{"op": "verify", "headers": headers(&request), "body": hex(&body), "self": alice()}]),
    );
    assert_eq!(verdict, json!([format!("ok {}", bob.hotkey())]));

    // And the axon serves both.
    for scheme in [Scheme::Btauth, Scheme::Epistula] {
        let answer = bob
            .send_signed(
                scheme,
                "POST",
                &target,
                "/v1/echo",
                body.clone(),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{scheme:?}: {:?}", answer.body);
        let out: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(out["out"], "tsur morf");
        assert_eq!(out["scheme"], format!("{scheme:?}"));
        assert_eq!(out["hotkey"], bob.hotkey());
    }
}

/// The example miner as a validator of each kind meets it: the 10.5.0 Dendrite calls its
/// `Echo` synapse while a bittensor 11 client and an Epistula client call `POST /echo`, all
/// three started together; every call is answered, and the metrics count each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synapse_and_both_schemes_are_served_at_once() {
    let miner = Miner::start(None, &["--ops", "127.0.0.1:0", "--axon.max_workers", "4"]);
    let (addr, ops): (SocketAddr, _) = (([127, 0, 0, 1], miner.port).into(), miner.ops.unwrap());
    const N: usize = 32;
    let mut clients = [
        Client::spawn(
            &python(),
            "signed_http.py",
            &config(
                addr,
                json!([{"scheme": "dendrite", "uri": "//Bob", "body": "abc", "repeat": N}]),
            ),
        ),
        Client::spawn(
            &python_11(),
            "signed_http.py",
            &config(
                addr,
                json!([with(
                    btauth(
                        "//Charlie",
                        "sr25519",
                        "POST",
                        "/echo",
                        r#"{"text": "btauth"}"#,
                    ),
                    "repeat",
                    json!(N)
                )]),
            ),
        ),
        Client::spawn(
            &python(),
            "signed_http.py",
            &config(
                addr,
                json!([with(
                    epistula("//Dave", "/echo", r#"{"text": "epistula"}"#),
                    "repeat",
                    json!(N)
                )]),
            ),
        ),
    ];
    clients.iter_mut().for_each(Client::ready);
    clients.iter_mut().for_each(Client::go);
    let results: Vec<Value> = clients.into_iter().map(Client::result).collect();
    let synapse = results[0][0].as_array().unwrap();
    assert_eq!(synapse.len(), N);
    for (i, answer) in synapse.iter().enumerate() {
        assert_eq!(answer["status"], 200, "{answer}");
        assert_eq!(
            answer["body"],
            format!("abc{i}").chars().rev().collect::<String>()
        );
    }
    for (k, text) in [(1, "btauth"), (2, "epistula")] {
        let answers = results[k][0].as_array().unwrap();
        assert_eq!(answers.len(), N);
        for answer in answers {
            assert_eq!(answer["status"], 200, "{answer}");
            let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
            assert_eq!(
                body,
                json!({"text": text, "out": text.chars().rev().collect::<String>()})
            );
        }
    }
    assert_counted(
        ops,
        &[
            &format!(r#"axon_requests_total{{synapse="Echo",status="200"}} {N}"#),
            &format!(
                r#"axon_requests_total{{endpoint="POST /echo",status="200"}} {}"#,
                2 * N
            ),
        ],
    )
    .await;
}

/// `Axon::endpoint`: an endpoint built at run time (as the Python package builds them) gets
/// every answer the same endpoint declared with `#[axon::endpoint]` gets, for the same
/// requests signed by bittensor 11's `http_auth.sign`: served, replayed, tampered, signed
/// for another receiver, stale, an ed25519 sender where only sr25519 is accepted, Eve
/// blacklisted before her signature is checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_built_at_run_time_is_served_as_a_declared_one() {
    use axon::auth::Crypto;
    use axon::endpoint::{Declaration, DeclarationError, Endpoint};

    let declaration = Declaration::parse("POST", "/v1/runtime")
        .unwrap()
        .epistula(false)
        .accept_crypto(&[Crypto::Sr25519])
        .unwrap();
    let endpoint = Endpoint::new(declaration, |caller: Caller, body: Bytes| async move {
        format!("{} {:?} {}", caller.hotkey, caller.scheme, body.len())
    })
    .blacklist(no_eve);
    let mut axon = Axon::from_registry()
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .endpoint(endpoint)
        .ip("127.0.0.1")
        .port(0)
        .operations("127.0.0.1:0".parse().unwrap());
    axon.start().await.unwrap();
    let (addr, ops) = (axon.local_addr().unwrap(), axon.operations_addr().unwrap());

    let cases = |path: &str| {
        let body = r#"{"x": 1}"#;
        json!([
            btauth("//Bob", "sr25519", "POST", path, body),
            with(
                btauth("//Bob", "sr25519", "POST", path, body),
                "times",
                json!(2)
            ),
            with(
                btauth("//Bob", "sr25519", "POST", path, body),
                "send",
                json!({"body": r#"{"x": 2}"#})
            ),
            with(
                btauth("//Bob", "sr25519", "POST", path, body),
                "receiver",
                json!(ss58("//Bob"))
            ),
            with(
                btauth("//Bob", "sr25519", "POST", path, body),
                "age_ms",
                json!(60_000)
            ),
            btauth("//Bob", "ed25519", "POST", path, body),
            btauth("//Eve", "sr25519", "POST", path, body),
        ])
    };
    let declared = run(&python_11(), addr, cases("/v1/declared"));
    let runtime = run(&python_11(), addr, cases("/v1/runtime"));
    let seen = |answers: &[Value]| -> Vec<Vec<(Value, Value)>> {
        answers
            .iter()
            .map(|sends| {
                sends
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| (a["status"].clone(), a["body"].clone()))
                    .collect()
            })
            .collect()
    };
    assert_eq!(seen(&runtime), seen(&declared));
    let statuses: Vec<Vec<u64>> = seen(&runtime)
        .iter()
        .map(|sends| sends.iter().map(|(s, _)| s.as_u64().unwrap()).collect())
        .collect();
    assert_eq!(
        statuses,
        [
            vec![200],
            vec![200, 401],
            vec![401],
            vec![401],
            vec![401],
            vec![401],
            vec![403]
        ]
    );
    assert_eq!(runtime[0][0]["body"], format!("{} Btauth 8", ss58("//Bob")));
    assert_eq!(
        message(&runtime[6][0]),
        "Forbidden. Key is blacklisted: Eve is denied."
    );
    assert_counted(
        ops,
        &[r#"axon_requests_total{endpoint="POST /v1/runtime",status="200"} 2"#],
    )
    .await;
    axon.stop().await;

    // The attribute's rules, as errors; a second endpoint on one method and path, a
    // startup problem naming both.
    assert!(matches!(
        Declaration::parse("post", "/v1/x"),
        Err(DeclarationError::Method(_))
    ));
    assert!(matches!(
        Declaration::parse("POST", "/v1/x?y=1"),
        Err(DeclarationError::Path { .. })
    ));
    let epistula_only = Declaration::parse("POST", "/v1/x").unwrap().btauth(false);
    assert_eq!(
        epistula_only.accept_crypto(&[Crypto::Ed25519]),
        Err(DeclarationError::EpistulaEd25519)
    );
    let twice = || {
        Endpoint::new(
            Declaration::parse("POST", "/v1/declared").unwrap(),
            |_: Caller, _: Bytes| async { "" },
        )
    };
    let problem = Axon::from_registry()
        .endpoint(twice())
        .handlers()
        .unwrap_err();
    assert!(
        problem.to_string().contains("POST /v1/declared"),
        "{problem}"
    );
}
