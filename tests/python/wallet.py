"""A wallet written by the real bittensor_wallet (10.5.0's), for tests/wallet.rs: an
unencrypted hotkey as `btcli wallet new_hotkey` writes it, and a NaCl-encrypted keyfile, in a
fresh temporary directory. Prints JSON with the directory and the expected addresses."""

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
print(
    json.dumps(
        {
            "bittensor_version": bittensor.__version__,
            "path": root,
            "ss58": wallet.hotkey.ss58_address,
            "coldkey": wallet.coldkeypub.ss58_address,
        }
    )
)
