//! The operator's first hour, as the examples show it: `--help` lists every flag with its
//! variable and default; the miner logs its banner and each refusal by default, every
//! request with `--logging.debug`, and into `bittensor.log` under `--logging.logging_dir`
//! with `--logging.record_log`. The `--logging.*` settings are checked against the real
//! bittensor 10.5.0 (`tests/python/logging_config.py`): the same flags, the variables read the
//! same way, the same file.

mod support;

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;
use support::{result_line, run_python_script_with, Echo};

#[test]
fn the_logging_settings_are_bittensors() {
    let out = support::run_python_script("logging_config.py");
    let python = support::result_line(&out);
    assert_eq!(python["bittensor_version"], support::BITTENSOR_VERSION);
    let help = axon::config::Config::help();
    let parse = |args: &[&str], env: &[(&str, &str)]| {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        axon::config::Config::parse(args.iter().map(|a| a.to_string()), |var| {
            env.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone())
        })
    };
    // Every flag Python's parser takes is ours, taking a value exactly when Python's does.
    let flags = python["flags"].as_object().unwrap();
    assert_eq!(flags.len(), 6, "{flags:?}");
    for (flag, takes_value) in flags {
        assert!(help.contains(flag.as_str()), "{flag} not in --help");
        let with_value = parse(&[&format!("{flag}=x")], &[]);
        assert_eq!(
            with_value.is_ok(),
            takes_value.as_bool().unwrap(),
            "{flag}=x"
        );
        if !takes_value.as_bool().unwrap() {
            assert!(parse(&[flag.as_str()], &[]).is_ok(), "{flag}");
        }
    }
    // Variables: Python's `bool(os.getenv(..))` turns "0" on and leaves "" off; so do we.
    let (config, _) = parse(
        &[],
        &[("BT_LOGGING_TRACE", "0"), ("BT_LOGGING_RECORD_LOG", "")],
    )
    .unwrap();
    assert_eq!(
        config.logging.trace,
        python["trace_from_zero"].as_bool().unwrap()
    );
    assert_eq!(
        config.logging.record_log,
        python["record_log_from_empty"].as_bool().unwrap()
    );
    // The same file in the same default directory.
    let (mut config, _) = parse(&[], &[]).unwrap();
    config.logging.record_log = true;
    let expected = std::path::Path::new(python["logging_dir"].as_str().unwrap())
        .join(python["file_name"].as_str().unwrap());
    assert_eq!(axon::logging::file(&config.logging), Some(expected));
    // Python's default shows warnings only (ours shows info too: the banner, see below).
    assert_eq!(python["default_shows_warning"], true, "{out}");
    assert_eq!(python["default_shows_info"], false, "{out}");
}

#[test]
fn help_lists_every_flag_with_its_variable_and_default() {
    for example in ["echo_miner", "subnet_miner"] {
        let out = std::process::Command::new(support::example(example))
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{example}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        for expected in [
            "--dev-key URI",
            "--axon.port PORT",
            "[BT_AXON_PORT; default 8091]",
            "--axon.external_ip IP",
            "--priority.maxsize N",
            "--wallet.path DIR",
            "[BT_WALLET_HOTKEY; default default]",
            "--logging.debug ",
            "--logging.trace ",
            "--logging.info ",
            "--logging.record_log ",
            "--logging.logging_dir DIR",
            "--logging.enable_third_party_loggers",
            "[BT_LOGGING_LOGGING_DIR; default ~/.bittensor/miners]",
        ] {
            assert!(
                text.contains(expected),
                "{example}: no {expected:?} in\n{text}"
            );
        }
    }
}

/// `--logging.record_log` rotates `bittensor.log` as bittensor does: the same limits, read
/// from the handler bittensor 10.5.0 makes, and the same files with the same contents after
/// the same records, with the limit lowered to 300 bytes on both sides
/// (`tests/python/rotation.py`).
#[test]
fn the_log_file_rotates_as_bittensors() {
    use std::io::Write;
    let root = std::env::temp_dir().join(format!("axon-rotation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (theirs, ours) = (root.join("python"), root.join("axon"));
    std::fs::create_dir_all(&theirs).unwrap();
    let max_bytes = 300;
    let out = run_python_script_with(
        "rotation.py",
        &[theirs.to_str().unwrap(), &max_bytes.to_string()],
    );
    let python: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(python["bittensor_version"], support::BITTENSOR_VERSION);
    assert_eq!(python["bittensor"]["max_bytes"], axon::logging::MAX_BYTES);
    assert_eq!(python["bittensor"]["backup_count"], axon::logging::BACKUPS);

    let log = axon::logging::RotatingFile::open(
        ours.join("bittensor.log"),
        max_bytes,
        axon::logging::BACKUPS,
    )
    .unwrap();
    for message in python["messages"].as_array().unwrap() {
        (&log)
            .write_all(format!("{}\n", message.as_str().unwrap()).as_bytes())
            .unwrap();
    }
    drop(log);
    let mut files = serde_json::Map::new();
    let mut names: Vec<_> = std::fs::read_dir(&ours)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(ours.join(&name)).unwrap();
        files.insert(name, Value::String(text));
    }
    assert_eq!(
        files.len(),
        11,
        "bittensor.log and ten backups: {:?}",
        files.keys()
    );
    assert_eq!(Value::Object(files), python["files"]);
    std::fs::remove_dir_all(&root).unwrap();
}

/// Starts the echo miner with `args`, its stderr into `stderr`; returns it and its port.
fn start(args: &[&str], stderr: std::fs::File) -> (std::process::Child, u16) {
    start_with(args, None, stderr)
}

/// The same, with `RUST_LOG` set to `rust_log` (or unset).
fn start_with(
    args: &[&str],
    rust_log: Option<&str>,
    stderr: std::fs::File,
) -> (std::process::Child, u16) {
    let mut command = std::process::Command::new(support::example("echo_miner"));
    match rust_log {
        Some(directives) => command.env("RUST_LOG", directives),
        None => command.env_remove("RUST_LOG"),
    };
    let mut child = command
        .args(["--axon.port", "0", "--deny"])
        .arg(Keypair::from_uri("//Eve").unwrap().ss58())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(addr) = line.strip_prefix("echo_miner: listening on ") {
            let port = addr.rsplit(':').next().unwrap().parse().unwrap();
            return (child, port);
        }
    }
    let status = child.wait().unwrap();
    panic!("echo_miner exited before listening: {status}");
}

/// One answered call (Bob) and one refused (Eve, denied).
async fn call_twice(port: u16) {
    let target = support::loopback_alice(port);
    let timeout = Duration::from_secs(10);
    let bob = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
    let out = bob.call(&target, Echo::new("abc".into(), 1), timeout).await;
    assert_eq!(out.dendrite.status_code, Some(200), "{out:?}");
    let eve = Dendrite::new(Keypair::from_uri("//Eve").unwrap());
    let out = eve.call(&target, Echo::new("abc".into(), 1), timeout).await;
    assert_eq!(out.dendrite.status_code, Some(403), "{out:?}");
}

#[tokio::test]
async fn the_banner_and_refusals_by_default_every_request_when_asked_and_a_file() {
    let dir = std::env::temp_dir().join(format!("axon-operator-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // By default: the banner and the refusal, no per-request lines.
    let stderr_path = dir.join("default.stderr");
    let (mut child, port) = start(&[], std::fs::File::create(&stderr_path).unwrap());
    call_twice(port).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(
        stderr.contains("axon 0.1.0 serving (bittensor 10.5.0 protocol)"),
        "{stderr}"
    );
    let refused: Vec<&str> = stderr.lines().filter(|l| l.contains("refused:")).collect();
    assert_eq!(refused.len(), 1, "{stderr}");
    assert!(refused[0].contains("WARN"), "{}", refused[0]);
    assert!(refused[0].contains("status=403"), "{}", refused[0]);
    assert!(refused[0].contains("synapse=\"Echo\""), "{}", refused[0]);
    assert!(!stderr.contains("axon <--"), "{stderr}");

    // --logging.debug and --logging.record_log: every request, on stderr and in the file.
    let logs = dir.join("logs");
    let stderr_path = dir.join("debug.stderr");
    let (mut child, port) = start(
        &[
            "--logging.debug",
            "--logging.record_log",
            "--logging.logging_dir",
            logs.to_str().unwrap(),
        ],
        std::fs::File::create(&stderr_path).unwrap(),
    );
    call_twice(port).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let file = std::fs::read_to_string(logs.join("bittensor.log")).unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    for text in [&file, &stderr] {
        assert!(
            text.contains("serving (bittensor 10.5.0 protocol)"),
            "{text}"
        );
        assert_eq!(text.matches("axon <--").count(), 2, "{text}");
        assert_eq!(text.matches("axon -->").count(), 2, "{text}");
        let bob = Keypair::from_uri("//Bob").unwrap();
        assert!(
            text.contains(&format!("hotkey=\"{}\"", bob.ss58())),
            "{text}"
        );
    }
    assert!(!file.contains('\u{1b}'), "no colour codes in the file");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `RUST_LOG` takes `tracing` directives: `axon=debug,hyper=warn` logs every request, a
/// span directive logs the answers to one claimed hotkey only, and a directive that does
/// not parse stops the miner with the reason.
#[tokio::test]
async fn rust_log_takes_directives() {
    let dir = std::env::temp_dir().join(format!("axon-rust-log-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bob = Keypair::from_uri("//Bob").unwrap();
    let only_bob = format!("[request{{claimed_hotkey={}}}]=debug", bob.ss58());
    for (directives, requests) in [("axon=debug,hyper=warn", 2), (only_bob.as_str(), 1)] {
        let stderr_path = dir.join("stderr");
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let (mut child, port) = start_with(&[], Some(directives), stderr);
        call_twice(port).await;
        child.kill().unwrap();
        child.wait().unwrap();
        let stderr = std::fs::read_to_string(&stderr_path).unwrap();
        // (`axon -->`: the claimed hotkey is known by then.)
        assert_eq!(
            stderr.matches("axon -->").count(),
            requests,
            "{directives}: {stderr}"
        );
    }

    let out = std::process::Command::new(support::example("echo_miner"))
        .env("RUST_LOG", "axon=loud")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("echo_miner: RUST_LOG=\"axon=loud\" does not parse: "),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--subtensor.network` / `--subtensor.chain_endpoint` and `BT_SUBTENSOR_*` resolve to the
/// endpoint bittensor 10.5.0 dials (`tests/python/subtensor_config.py`), case by case;
/// the one deliberate difference (an endpoint given alone) is pinned on both sides.
#[test]
fn the_subtensor_settings_resolve_to_the_endpoint_python_dials() {
    let env = |pairs: &[(&str, &str)]| -> serde_json::Map<String, serde_json::Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect()
    };
    let cases: Vec<(Vec<&str>, serde_json::Map<String, serde_json::Value>)> = vec![
        (vec![], env(&[])),
        (vec!["--subtensor.network", "test"], env(&[])),
        (vec!["--subtensor.network", "local"], env(&[])),
        (vec!["--subtensor.network", "archive"], env(&[])),
        (vec!["--subtensor.network", "latent-lite"], env(&[])),
        (vec!["--subtensor.network", "ws://10.0.0.1:9944"], env(&[])),
        (
            vec!["--subtensor.network", "wss://node.example:443"],
            env(&[]),
        ),
        (vec!["--subtensor.network", "127.0.0.1:9946"], env(&[])),
        (
            vec![
                "--subtensor.network",
                "test",
                "--subtensor.chain_endpoint",
                "ws://127.0.0.1:9946",
            ],
            env(&[]),
        ),
        (
            vec!["--subtensor.network", "local"],
            env(&[("BT_SUBTENSOR_CHAIN_ENDPOINT", "ws://127.0.0.1:1234")]),
        ),
        (
            vec!["--subtensor.network", "test"],
            env(&[("BT_SUBTENSOR_CHAIN_ENDPOINT", "ws://127.0.0.1:1234")]),
        ),
        (vec![], env(&[("BT_SUBTENSOR_NETWORK", "test")])),
        (
            vec!["--subtensor.network", "finney"],
            env(&[("BT_SUBTENSOR_NETWORK", "test")]),
        ),
    ];
    let differs: Vec<Vec<&str>> = vec![vec!["--subtensor.chain_endpoint", "ws://127.0.0.1:9946"]];
    let mut all: Vec<serde_json::Value> = cases
        .iter()
        .map(|(args, env)| json!({"args": args, "env": env}))
        .collect();
    all.extend(differs.iter().map(|args| json!({"args": args, "env": {}})));
    let out = run_python_script_with("subtensor_config.py", &[&json!(all).to_string()]);
    let python = result_line(&out);
    let ours = |args: &[&str], env: &serde_json::Map<String, serde_json::Value>| {
        let (config, _) = axon::config::Config::parse(args.iter().map(|a| a.to_string()), |var| {
            env.get(var).and_then(|v| v.as_str()).map(str::to_owned)
        })
        .unwrap();
        let (network, endpoint) = config.subtensor.endpoint();
        json!([endpoint, network])
    };
    for (i, (args, env)) in cases.iter().enumerate() {
        assert_eq!(ours(args, env), python[i], "{args:?} {env:?}");
    }
    // Python ignores an endpoint given alone and dials finney; here it is the one dialled.
    let alone = &python[cases.len()];
    assert_eq!(
        alone,
        &json!(["wss://entrypoint-finney.opentensor.ai:443", "finney"])
    );
    assert_eq!(
        ours(&differs[0], &env(&[])),
        json!(["ws://127.0.0.1:9946", "local"])
    );
}

/// `--crypto-type` makes the development key ed25519 (btcli's `ed` accepted), as bittensor
/// derives it; a type it does not know stops the miner with the reason.
#[test]
fn the_development_key_may_be_ed25519() {
    let mut child = std::process::Command::new(support::example("echo_miner"))
        .args(["--axon.port", "0", "--crypto-type", "ed"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut hotkey = None;
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("echo_miner: hotkey ") {
            hotkey = Some(rest.to_owned());
        }
        if line.starts_with("echo_miner: listening on ") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let ed = Keypair::from_uri_with("//Alice", axon::keys::Crypto::Ed25519).unwrap();
    assert_eq!(hotkey, Some(format!("{} (//Alice, ed25519)", ed.ss58())));

    let out = std::process::Command::new(support::example("echo_miner"))
        .args(["--crypto-type", "rsa"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.trim_end(),
        "echo_miner: --crypto-type: `rsa` is not a crypto type: write sr25519 or ed25519 (btcli's sr or ed)"
    );
}
