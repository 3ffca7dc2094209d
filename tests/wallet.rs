//! Hotkeys loaded from a wallet that the real bittensor_wallet wrote (`tests/python/wallet.py`).

mod support;

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

    // The encrypted hotkey: without its variable (and no terminal) the error names the
    // variable; with the password bittensor_wallet encoded there, it decrypts; with another
    // password, the error says so.
    let variable = v["password_variable"].as_str().unwrap();
    let locked_file = format!("{path}/miner/hotkeys/locked");
    assert_eq!(
        axon::keys::password_variable(std::path::Path::new(&locked_file)),
        variable
    );
    std::env::remove_var(variable);
    let locked = Keypair::from_wallet(path, "miner", "locked")
        .unwrap_err()
        .to_string();
    assert_eq!(
        locked,
        format!(
            "{locked_file} is encrypted: give its password in {variable} (as bittensor_wallet's \
             `Keyfile.save_password_to_env` stores it), or start the miner in a terminal to type it"
        )
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
