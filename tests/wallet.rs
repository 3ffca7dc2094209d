//! Hotkeys loaded from a wallet that the real bittensor_wallet wrote (`tests/python/wallet.py`).

mod support;

use axon::keys::Keypair;
use serde_json::Value;

#[test]
fn loads_a_btcli_hotkey_and_refuses_an_encrypted_one_with_a_message() {
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

    let locked = Keypair::from_wallet(path, "miner", "locked")
        .unwrap_err()
        .to_string();
    assert!(
        locked.ends_with(
            "/miner/hotkeys/locked is encrypted (NaCl): axon reads unencrypted hotkey files, which \
             is how `btcli wallet new_hotkey` writes them; regenerate the hotkey without a \
             password (`btcli wallet regen_hotkey`) or run with a development key"
        ),
        "{locked}"
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
