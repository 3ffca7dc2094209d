"""A wallet written by the real bittensor_wallet (10.5.0's), for tests/wallet.rs: an
unencrypted hotkey as `btcli wallet new_hotkey` writes it, a NaCl-encrypted keyfile with the
variable its password goes in (as `save_password_to_env` encodes it), and a legacy
(ansible-vault) one, in a fresh temporary directory. Prints JSON with the directory, the expected
addresses and the password variable."""

import json
import tempfile

import bittensor
import bittensor_wallet as bw

root = tempfile.mkdtemp(prefix="axon-wallet-")
wallet = bw.Wallet(name="miner", hotkey="default", path=root)
wallet.create_new_hotkey(use_password=False, overwrite=True, suppress=True, n_words=12)
wallet.create_new_coldkey(use_password=False, overwrite=True, suppress=True, n_words=12)
encrypted = bw.Keyfile(f"{root}/miner/hotkeys/locked")
encrypted.set_keypair(
    bw.Keypair.create_from_uri("//Alice"), encrypt=True, overwrite=True, password="pw-123456"
)
legacy = bw.keyfile.legacy_encrypt_keyfile_data(
    bw.keyfile.serialized_keypair_to_keyfile_data(bw.Keypair.create_from_uri("//Bob")),
    "pw-123456",
)
with open(f"{root}/miner/hotkeys/legacy", "wb") as f:
    f.write(legacy)
print(
    json.dumps(
        {
            "bittensor_version": bittensor.__version__,
            "path": root,
            "ss58": wallet.hotkey.ss58_address,
            "coldkey": wallet.coldkeypub.ss58_address,
            "locked_ss58": bw.Keypair.create_from_uri("//Alice").ss58_address,
            "password_variable": encrypted.env_var_name(),
            "password_value": encrypted.save_password_to_env("pw-123456"),
            "wrong_value": encrypted.save_password_to_env("not-the-password"),
        }
    )
)
