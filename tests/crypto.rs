//! Which crypto type each sender signs with, and ed25519 hotkeys.
//!
//! The btauth/1 rules here are the normative guide's, `docs/guides/signed-requests.mdx` and
//! `docs/guides/wallet-crypto-types.mdx` in the public `RaoFoundation/subtensor` repository:
//! its golden vectors, and the rule that the server pins each sender's crypto type and never
//! takes it from `X-Bittensor-Crypto`. No released verifier has that rule yet (PyPI serves
//! bittensor 11.3.0, whose `http_auth.verify` trusts the header), so the pinning matrix is
//! checked against the guide's text; everything a released package does (signing, keyfiles,
//! the 10.5.0 Dendrite) is checked against the package itself.

mod support;

use axon::auth::{btauth, epistula, AuthConfig, Caller, Crypto, Pins};
use axon::keys::Keypair;
use axon::Axon;
use axum::Json;
use serde_json::{json, Value};
use std::net::SocketAddr;
use support::http::exchange;
use support::{python_11, run_script_stdin};

/// Every sender: who it is and its crypto type.
#[axon::endpoint(POST "/v1/who")]
async fn who(caller: Caller) -> Json<Value> {
    Json(json!({"hotkey": caller.hotkey, "crypto": caller.crypto.name()}))
}

/// ed25519 senders only.
#[axon::endpoint(POST "/v1/ed", auth = btauth, crypto = ed25519)]
async fn ed_only(caller: Caller) -> Json<Value> {
    Json(json!({"hotkey": caller.hotkey, "crypto": caller.crypto.name()}))
}

fn key(uri: &str, crypto: Crypto) -> Keypair {
    Keypair::from_uri_with(uri, crypto).unwrap()
}

/// The value of header `name` (any case) among signed `headers`.
fn header<'h>(headers: &'h [(&str, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The guide's fixtures.
const GUIDE_NONCE: i128 = 1_752_076_800_000_000_000;
const GUIDE_BODY: &[u8] = br#"{"prompt": "hello"}"#;
const GUIDE_PATH: &str = "/generate?stream=false";
const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

/// The guide's golden vectors: the sr25519 payload byte for byte (signed here and verified),
/// and the ed25519 signature, which is deterministic and pinned. bittensor 11.3.0's
/// `build_payload` and `http_auth.sign` (bittensor-core 0.1.5 keys) give the same bytes.
#[test]
fn the_guides_golden_vectors() {
    let alice = Keypair::from_uri("//Alice").unwrap();
    assert_eq!(
        alice.ss58(),
        "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
    );
    let payload = btauth::payload(
        "sr25519",
        "POST",
        GUIDE_PATH,
        GUIDE_BODY,
        GUIDE_NONCE,
        alice.ss58(),
        Some(BOB),
    );
    let guide = "btauth/1\nsr25519\nPOST\n/generate?stream=false\n\
                 341c57448e531310fbbe83f44cea2a5e838bd9e8a6b82b269f01d0dbbc23c3cc\n\
                 1752076800000000000\n5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY\n\
                 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
    assert_eq!(String::from_utf8(payload.clone()).unwrap(), guide);

    let ed = key("//Alice", Crypto::Ed25519);
    assert_eq!(
        ed.ss58(),
        "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu"
    );
    let headers = btauth::sign(
        &ed,
        "POST",
        GUIDE_PATH,
        GUIDE_BODY,
        Some(BOB),
        Some(GUIDE_NONCE),
    );
    let signature = header(&headers, "X-Bittensor-Signature")
        .unwrap()
        .to_owned();
    assert_eq!(
        signature,
        "0x1a6b631988bf1f7ea093ab9d5acf61f05c316d0b0e428b24b487b75a5f6ee0e1a56a26918fdf871b6cf09437e6588023a4ce423cf622621b2a7feee17612f704"
    );
    assert_eq!(header(&headers, "X-Bittensor-Crypto"), Some("ed25519"));

    // Each signature verifies at Bob's axon (the sr25519 one is randomized: signed here).
    let mut pins = Pins::default();
    pins.pin(ed.ss58(), Crypto::Ed25519).unwrap();
    let config = AuthConfig {
        pins,
        ..AuthConfig::default()
    };
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(GUIDE_NONCE as u64);
    for signer in [&alice, &ed] {
        let auth = axon::auth::Authenticator::with_config(BOB, config.clone());
        let headers = btauth::sign(
            signer,
            "POST",
            GUIDE_PATH,
            GUIDE_BODY,
            Some(BOB),
            Some(GUIDE_NONCE),
        );
        let get = |name: &str| header(&headers, name);
        let caller = auth
            .btauth(get, "POST", GUIDE_PATH, GUIDE_BODY, now)
            .unwrap();
        assert_eq!(caller.crypto, signer.crypto());
    }

    // bittensor 11.3.0 builds the same payloads and signs the same ed25519 bytes.
    let ops = json!([
        {"op": "sign", "uri": "//Alice", "crypto": "sr25519", "method": "POST", "path": GUIDE_PATH,
         "body": hex(GUIDE_BODY), "receiver": BOB, "nonce_ns": GUIDE_NONCE},
        {"op": "sign", "uri": "//Alice", "crypto": "ed25519", "method": "POST", "path": GUIDE_PATH,
         "body": hex(GUIDE_BODY), "receiver": BOB, "nonce_ns": GUIDE_NONCE},
    ]);
    let python = run_script_stdin(&python_11(), "btauth.py", &ops);
    assert_eq!(python[0]["payload"], hex(&payload));
    assert_eq!(python[1]["ss58"], ed.ss58());
    assert_eq!(python[1]["headers"]["X-Bittensor-Signature"], signature);
}

/// A running axon of Alice's whose pins are `pins`.
async fn start(pins: Pins) -> (Axon, SocketAddr) {
    let mut axon = Axon::from_registry()
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .auth(AuthConfig {
            pins,
            ..AuthConfig::default()
        })
        .ip("127.0.0.1")
        .port(0);
    axon.start().await.unwrap();
    let addr = axon.local_addr().unwrap();
    (axon, addr)
}

/// `POST path` with `headers` and `body`, answered over a fresh connection.
async fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Value) {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: axon\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    let answer = exchange(addr, &bytes).await;
    (answer.status, answer.body)
}

/// The pinning rules as a matrix: the crypto type the server expects of the sender (no pin,
/// so the default sr25519; pinned sr25519; pinned ed25519) x what `X-Bittensor-Crypto`
/// says (absent, sr25519, ed25519, an unknown name) x the signature (good: the sender's own
/// key over the payload it declared; garbage: 64 other bytes). The expected answers are the
/// guide's rules, since no released verifier has them: a declared type the server does not
/// expect is refused 401 before the signature is looked at, so its answer is the same for a
/// good and a garbage signature, and names the expected type and nothing of the signature.
#[tokio::test]
async fn the_pinning_matrix() {
    let alice = Keypair::from_uri("//Alice").unwrap();
    // One sender per pin, each with a key of either type.
    let senders = [
        ("none", "//Dave"),
        ("sr25519", "//Bob"),
        ("ed25519", "//Charlie"),
    ];
    let mut pins = Pins::default();
    for (pin, uri) in senders {
        for crypto in [Crypto::Sr25519, Crypto::Ed25519] {
            if pin != "none" {
                pins.pin(key(uri, crypto).ss58(), pin.parse().unwrap())
                    .unwrap();
            }
        }
    }
    let (mut axon, addr) = start(pins).await;
    let body = br#"{"x": 1}"#;
    let mut nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128;
    for (pin, uri) in senders {
        let expected = match pin {
            "none" => Crypto::Sr25519,
            pinned => pinned.parse().unwrap(),
        };
        for header in [None, Some("sr25519"), Some("ed25519"), Some("rsa")] {
            let declared = match header {
                None | Some("sr25519") | Some("rsa") => Crypto::Sr25519,
                _ => Crypto::Ed25519,
            };
            let sender = key(uri, declared);
            let mut answers = Vec::new();
            for garbage in [false, true] {
                nonce += 1;
                let mut headers = btauth::sign(
                    &sender,
                    "POST",
                    "/v1/who",
                    body,
                    Some(alice.ss58()),
                    Some(nonce),
                );
                headers.retain(|(n, _)| *n != btauth::HEADER_CRYPTO);
                if let Some(name) = header {
                    headers.push((btauth::HEADER_CRYPTO, name.to_owned()));
                }
                if garbage {
                    let signature = headers
                        .iter_mut()
                        .find(|(n, _)| *n == btauth::HEADER_SIGNATURE)
                        .unwrap();
                    signature.1 = format!("0x{}", "5a".repeat(64));
                }
                let (status, answer) = post(addr, "/v1/who", &headers, body).await;
                let cell = format!("pin {pin}, header {header:?}, garbage {garbage}: {answer}");
                let message = answer["message"].as_str().unwrap_or_default().to_owned();
                match header {
                    Some("rsa") => {
                        assert_eq!(status, 400, "{cell}");
                        assert_eq!(message, "unsupported X-Bittensor-Crypto", "{cell}");
                    }
                    _ if declared != expected => {
                        assert_eq!(status, 401, "{cell}");
                        let said = match header {
                            None => "X-Bittensor-Crypto is absent (sr25519)".to_owned(),
                            Some(name) => format!("X-Bittensor-Crypto is {name}"),
                        };
                        assert_eq!(
                            message,
                            format!("{said}, but this server expects {expected} from this hotkey"),
                            "{cell}"
                        );
                        assert!(!message.contains("signature"), "{cell}");
                    }
                    _ if garbage => {
                        assert_eq!(status, 401, "{cell}");
                        assert_eq!(
                            message, "signature does not verify against the claimed hotkey",
                            "{cell}"
                        );
                    }
                    _ => {
                        assert_eq!(status, 200, "{cell}");
                        assert_eq!(
                            answer,
                            json!({"hotkey": sender.ss58(), "crypto": expected.name()}),
                            "{cell}"
                        );
                    }
                }
                answers.push((status, message));
            }
            if header == Some("rsa") || declared != expected {
                assert_eq!(answers[0], answers[1], "pin {pin}, header {header:?}");
            }
        }
    }

    // Epistula is sr25519: a sender pinned to ed25519 is refused, whatever it signs.
    let charlie_ed = key("//Charlie", Crypto::Ed25519);
    let charlie_sr = key("//Charlie", Crypto::Sr25519);
    let mut headers = epistula::sign(&charlie_sr, body, Some(alice.ss58()), None, None).unwrap();
    headers
        .iter_mut()
        .find(|(n, _)| *n == epistula::HEADER_SIGNED_BY)
        .unwrap()
        .1 = charlie_ed.ss58().to_owned();
    let (status, answer) = post(addr, "/v1/who", &headers, body).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(
        answer["message"],
        "Epistula requests are sr25519, but this server expects ed25519 from this hotkey: sign with btauth/1"
    );

    // An endpoint narrowed to ed25519 refuses an sr25519 sender before its signature, and
    // serves an ed25519 one.
    let bob = key("//Bob", Crypto::Sr25519);
    let mut headers = btauth::sign(&bob, "POST", "/v1/ed", body, Some(alice.ss58()), None);
    headers
        .iter_mut()
        .find(|(n, _)| *n == btauth::HEADER_SIGNATURE)
        .unwrap()
        .1 = format!("0x{}", "00".repeat(64));
    let (status, answer) = post(addr, "/v1/ed", &headers, body).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(
        answer["message"],
        "POST /v1/ed accepts ed25519 senders only, and this server expects sr25519 from this hotkey"
    );
    let headers = btauth::sign(
        &charlie_ed,
        "POST",
        "/v1/ed",
        body,
        Some(alice.ss58()),
        None,
    );
    let (status, answer) = post(addr, "/v1/ed", &headers, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["crypto"], "ed25519");
    axon.stop().await;
}

/// Hotkeys of both types, plain and encrypted, as bittensor_wallet 4.1.1 (10.5.0's) and
/// bittensor-core 0.1.5 (11.3.0's) write them (`tests/python/keyfiles.py`): each loads with
/// the package's address and type, and what it signs verifies in the package.
#[test]
fn keyfiles_of_both_types_from_both_packages() {
    for python in [support::python(), python_11()] {
        let dir = std::env::temp_dir().join(format!(
            "axon-keyfiles-{}-{}",
            std::process::id(),
            python.display().to_string().len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let written = run_script_stdin(
            &python,
            "keyfiles.py",
            &json!([{"op": "write", "dir": dir.to_str().unwrap()}]),
        );
        let package = written[0]["package"].as_str().unwrap().to_owned();
        let files = written[0]["files"].as_array().unwrap();
        assert_eq!(files.len(), 8, "{package}");
        let message = b"axon keyfile check";
        let mut checks = Vec::new();
        for file in files {
            let path = std::path::Path::new(file["file"].as_str().unwrap());
            if let Some(variable) = file["variable"].as_str() {
                assert_eq!(axon::keys::password_variable(path), variable, "{package}");
                std::env::set_var(variable, file["value"].as_str().unwrap());
            }
            let key = Keypair::from_keyfile(path)
                .unwrap_or_else(|e| panic!("{package} {}: {e}", path.display()));
            assert_eq!(
                key.ss58(),
                file["ss58"].as_str().unwrap(),
                "{package} {file}"
            );
            assert_eq!(
                key.crypto().name(),
                file["crypto"].as_str().unwrap(),
                "{package} {file}"
            );
            checks.push(
                json!({"op": "verify", "ss58": key.ss58(), "crypto": key.crypto().name(),
                               "message": hex(message), "signature": key.sign(message)[2..]}),
            );
        }
        let verified = run_script_stdin(&python, "keyfiles.py", &json!(checks));
        assert_eq!(verified, json!(vec![true; 8]), "{package}");

        // A type this crate does not sign with, and a key of the wrong size for its type,
        // are refused naming the file and what is wrong (snapshots of our messages).
        let plain = |name: &str| {
            let file = dir.join(name);
            let json: Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            (file, json)
        };
        let (_, mut json) = plain("ed25519-uri-plain");
        json["cryptoType"] = json!(7);
        let edited = dir.join("edited");
        std::fs::write(&edited, json.to_string()).unwrap();
        let err = Keypair::from_keyfile(&edited).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: cryptoType 7 is not a crypto type axon serves with (0 is ed25519, 1 sr25519)",
                edited.display()
            )
        );
        let (_, mut json) = plain("sr25519-uri-plain");
        json["cryptoType"] = json!(0);
        json.as_object_mut().unwrap().remove("secretSeed");
        std::fs::write(&edited, json.to_string()).unwrap();
        let err = Keypair::from_keyfile(&edited).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: privateKey is not a 32-byte ed25519 secret key (its cryptoType is ed25519)",
                edited.display()
            )
        );
        assert_eq!(err.kind(), axon::keys::KeyErrorKind::BadSecret);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// An axon whose own hotkey is ed25519 answers btauth/1 requests bittensor 11.3.0 signs for
/// its address (sr25519 and ed25519 senders, the latter pinned), Epistula requests for it,
/// and the real 10.5.0 Dendrite, which does not check the axon's signature (its answer is
/// signed with the ed25519 key).
#[tokio::test]
async fn an_ed25519_axon_is_served_and_answers() {
    let me = key("//Alice", Crypto::Ed25519);
    let charlie = key("//Charlie", Crypto::Ed25519);
    let mut pins = Pins::default();
    pins.pin(charlie.ss58(), Crypto::Ed25519).unwrap();
    let mut axon = Axon::from_registry()
        .hotkey(me.clone())
        .auth(AuthConfig {
            pins,
            ..AuthConfig::default()
        })
        .ip("127.0.0.1")
        .port(0);
    axon.start().await.unwrap();
    let addr = axon.local_addr().unwrap();
    let body = br#"{"x": 1}"#;

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128;
    let ops = json!([
        {"op": "sign", "uri": "//Bob", "crypto": "sr25519", "method": "POST", "path": "/v1/who",
         "body": hex(body), "receiver": me.ss58(), "nonce_ns": now},
        {"op": "sign", "uri": "//Charlie", "crypto": "ed25519", "method": "POST", "path": "/v1/who",
         "body": hex(body), "receiver": me.ss58(), "nonce_ns": now},
    ]);
    let signed = run_script_stdin(&python_11(), "btauth.py", &ops);
    for (i, (sender, crypto)) in [
        (key("//Bob", Crypto::Sr25519), "sr25519"),
        (charlie.clone(), "ed25519"),
    ]
    .iter()
    .enumerate()
    {
        let headers: Vec<(&str, String)> = signed[i]["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap().to_owned()))
            .collect();
        let (status, answer) = post(addr, "/v1/who", &headers, body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer, json!({"hotkey": sender.ss58(), "crypto": crypto}));
    }
    let bob = Keypair::from_uri("//Bob").unwrap();
    let headers = epistula::sign(&bob, body, Some(me.ss58()), None, None).unwrap();
    let (status, answer) = post(addr, "/v1/who", &headers, body).await;
    assert_eq!(
        (status, &answer["hotkey"]),
        (200, &json!(bob.ss58())),
        "{answer}"
    );

    // The Rust Dendrite signs btauth/1 with its ed25519 key (bittensor 11.3.0 verifies what
    // it signs: tests/auth.rs), and refuses Epistula, which is sr25519 only.
    let target = axon::AxonInfo {
        hotkey: me.ss58().into(),
        ..support::loopback_alice(addr.port())
    };
    let dendrite = axon::dendrite::Dendrite::new(charlie.clone());
    let err = dendrite
        .signed_request(
            axon::auth::Scheme::Epistula,
            "POST",
            &target,
            "/v1/who",
            body.to_vec(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Epistula is signed with sr25519 only, and this hotkey is ed25519: sign with btauth/1"
    );

    // The 10.5.0 Dendrite's synapse call: answered 200 and signed by the ed25519 key.
    let (port, hotkey) = (addr.port().to_string(), me.ss58().to_owned());
    let out = tokio::task::spawn_blocking(move || {
        support::run_python_script_with("ping.py", &[&port, &hotkey])
    })
    .await
    .unwrap();
    let result = support::result_line(&out);
    assert_eq!(result["status_code"], 200, "{out}");
    assert_eq!(result["axon_hotkey"], me.ss58(), "{out}");
    assert_eq!(
        result["axon_signature_valid"],
        json!({"ed25519": true, "sr25519": false}),
        "{out}"
    );
    axon.stop().await;
}
