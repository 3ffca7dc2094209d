//! Hotkeys loaded from a wallet that the real bittensor_wallet wrote (`tests/python/wallet.py`).

mod support;

use axon::keys::KeyErrorKind;
use axon::keys::Keypair;
use serde_json::Value;

#[test]
fn loads_a_btcli_hotkey_an_encrypted_one_with_its_password_and_refuses_a_legacy_one() {
    // bittensor_wallet prints "Encrypting..." first: the JSON is the last line.
    let out = support::run_python_script("wallet.py");
    let v: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(v["bittensor_version"], support::BITTENSOR_VERSION);
    let path = v["path"].as_str().unwrap();

    let hotkey = Keypair::from_wallet(path, "miner", "default").unwrap();
    assert_eq!(hotkey.ss58(), v["ss58"].as_str().unwrap());
    assert_eq!(
        axon::keys::coldkeypub(path, "miner").unwrap(),
        v["coldkey"].as_str().unwrap()
    );
    let no_coldkey = axon::keys::coldkeypub(path, "nobody")
        .unwrap_err()
        .to_string();
    assert!(no_coldkey.starts_with(&format!("cannot read {path}/nobody/coldkeypub.txt: ")));

    // The encrypted hotkey: with the password bittensor_wallet encoded in its variable, it
    // decrypts; with another password, the error says so. (Without the variable the terminal
    // is asked: `the_password_is_asked_on_the_terminal_even_with_stdin_redirected`.)
    let variable = v["password_variable"].as_str().unwrap();
    let locked_file = format!("{path}/miner/hotkeys/locked");
    assert_eq!(
        axon::keys::password_variable(std::path::Path::new(&locked_file)),
        variable
    );
    std::env::set_var(variable, v["wrong_value"].as_str().unwrap());
    let wrong = Keypair::from_wallet(path, "miner", "locked")
        .unwrap_err()
        .to_string();
    assert_eq!(
        wrong,
        format!("wrong password for the encrypted hotkey {locked_file} (or the file is damaged)")
    );
    std::env::set_var(variable, v["password_value"].as_str().unwrap());
    let unlocked = Keypair::from_wallet(path, "miner", "locked").unwrap();
    assert_eq!(unlocked.ss58(), v["locked_ss58"].as_str().unwrap());
    std::env::remove_var(variable);

    // A legacy keyfile (`legacy_encrypt_keyfile_data` writes ansible-vault) keeps its clear
    // refusal.
    let legacy = Keypair::from_wallet(path, "miner", "legacy")
        .unwrap_err()
        .to_string();
    assert!(
        legacy.ends_with(
            "/miner/hotkeys/legacy is encrypted in bittensor's legacy ansible-vault format, which \
             axon does not read: re-encrypt it with a current btcli (NaCl) or regenerate the \
             hotkey (`btcli wallet regen_hotkey`), or run with a development key"
        ),
        "{legacy}"
    );

    let missing = Keypair::from_wallet(path, "miner", "nope")
        .unwrap_err()
        .to_string();
    assert_eq!(
        missing,
        format!(
            "no hotkey file at {path}/miner/hotkeys/nope: create it with `btcli wallet new_hotkey \
             --wallet.name miner --wallet.hotkey nope`, or run with a development key"
        )
    );

    // Without `secretSeed`, the 64-byte `privateKey` gives the same key.
    let file = std::path::Path::new(path).join("miner/hotkeys/default");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut json: Value = serde_json::from_str(&text).unwrap();
    json.as_object_mut().unwrap().remove("secretSeed");
    let private_only = std::path::Path::new(path).join("private_only");
    std::fs::write(&private_only, json.to_string()).unwrap();
    assert_eq!(
        Keypair::from_keyfile(&private_only).unwrap().ss58(),
        hotkey.ss58()
    );

    // A keyfile whose address does not match its key is refused.
    let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    std::fs::write(&file, text.replace(v["ss58"].as_str().unwrap(), alice)).unwrap();
    let mismatch = Keypair::from_keyfile(&file).unwrap_err().to_string();
    assert!(mismatch.contains(&format!(
        "its ss58Address {alice} is not the address of its key"
    )));

    std::fs::remove_dir_all(path).unwrap();
}

/// The hex of a keyfile's `secretSeed` and the base64 of its password variable, decoded by
/// crates (`hex`, `base64ct`) and refused as bittensor_wallet refuses them
/// (`tests/python/codecs.py` asks it for each value).
#[test]
fn malformed_hex_and_base64_are_refused_as_bittensor_wallet_refuses_them() {
    let out = support::run_python_script("codecs.py");
    let v: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(v["bittensor_version"], support::BITTENSOR_VERSION);
    let root = std::path::Path::new(v["root"].as_str().unwrap());

    for (i, digits) in v["digits"].as_array().unwrap().iter().enumerate() {
        let digits = digits.as_str().unwrap();
        let theirs = v["seeds"][digits]["error"].as_str().unwrap();
        let file = root.join(format!("seed{i}"));
        let ours = Keypair::from_keyfile(&file).unwrap_err();
        assert_eq!(ours.kind(), KeyErrorKind::BadSecret, "{digits:?}: {ours}");
        match theirs.strip_prefix("Generic error: ") {
            // Digits that decode to a short seed: both refuse it, in their own words.
            Some(length) if length.contains("seed length") => {
                assert!(
                    ours.to_string().ends_with("a seed is 32 bytes, not 1"),
                    "{ours}"
                )
            }
            Some(hex) => assert_eq!(
                ours.to_string(),
                format!("{}: secretSeed: {hex}", file.display()),
                "{digits:?}"
            ),
            None => panic!("bittensor_wallet said {theirs:?} for {digits:?}"),
        }
    }

    let variable = v["variable"].as_str().unwrap();
    let locked = root.join("locked");
    for value in v["values"].as_array().unwrap() {
        let value = value.as_str().unwrap();
        std::env::set_var(variable, value);
        let ours = Keypair::from_keyfile(&locked);
        let theirs = &v["passwords"][value];
        match (theirs["ok"].as_str(), theirs["error"].as_str(), ours) {
            (Some(address), _, Ok(key)) => assert_eq!(key.ss58(), address),
            (_, Some(base64), Err(e)) if base64.starts_with("Base64 decoding error") => {
                assert_eq!(e.kind(), KeyErrorKind::Locked, "{value:?}");
                assert!(e.to_string().contains(base64), "{value:?}: {e}");
            }
            (_, Some(wrong), Err(e)) if wrong.contains("Wrong password") => {
                assert_eq!(e.kind(), KeyErrorKind::WrongPassword, "{value:?}")
            }
            (_, theirs, ours) => panic!("{value:?}: bittensor_wallet {theirs:?}, axon {ours:?}"),
        }
    }
    std::env::remove_var(variable);
    std::fs::remove_dir_all(root).unwrap();
}

/// An encrypted hotkey without its password variable: the miner asks on its terminal
/// (`/dev/tty`, echo off) even with stdin redirected from `/dev/null`, as under a process
/// manager; with no terminal at all it fails at once, naming the variable.
/// `tests/python/prompt.py` plays the operator at a pty.
#[test]
fn the_password_is_asked_on_the_terminal_even_with_stdin_redirected() {
    let out = support::run_python_script("wallet.py");
    let v: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let path = v["path"].as_str().unwrap();
    let variable = v["password_variable"].as_str().unwrap();
    let miner = support::example("subnet_miner");
    let out = support::run_python_script_with(
        "prompt.py",
        &[miner.to_str().unwrap(), path, "pw-123456", variable],
    );
    let r: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let locked_file = format!("{path}/miner/hotkeys/locked");

    // On a terminal: the prompt, the echo turned off before the password was typed, the
    // miner serving with the decrypted key, and the password nowhere in what it showed.
    let terminal = r["terminal"].as_str().unwrap();
    assert!(
        terminal.starts_with(&format!("Password for {locked_file}: ")),
        "{terminal}"
    );
    assert_eq!(r["echo_off"], true, "{terminal}");
    let serving = "subnet_miner: serving AxonInfo( /ipv4/127.0.0.1:".to_owned();
    assert!(terminal.contains(&serving), "{terminal}");
    let serving = format!(", {}, ", v["locked_ss58"].as_str().unwrap());
    assert!(terminal.contains(&serving), "{terminal}");
    assert!(!terminal.contains("pw-123456"), "{terminal}");

    // Without a terminal: exit 1 at once, with the way to give the password.
    assert_eq!(r["detached_status"], 1);
    let detached = r["detached"].as_str().unwrap();
    assert!(
        detached.contains(&format!(
            "{locked_file} is encrypted: give its password in {variable} (as bittensor_wallet's \
             `Keyfile.save_password_to_env` stores it), or start the miner where it can ask on a \
             terminal (it could not: "
        )),
        "{detached}"
    );
    std::fs::remove_dir_all(path).unwrap();
}
