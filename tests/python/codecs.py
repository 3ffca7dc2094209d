"""bittensor_wallet's (10.5.0's) answers to malformed hex and base64, for tests/wallet.rs:
the error of `Keyfile.keypair` for each `secretSeed`'s digits, and of an encrypted keyfile for
each value of its password variable. Prints JSON: the directory of the keyfiles (`seed{i}` for
digits i, and `locked`), the digits, the values, and every answer. (The signatures' hex is in
sign.py.)"""

import json
import os
import sys
import tempfile

import bittensor
import bittensor_wallet as bw

DIGITS = ["abg", "zz", "a", "g0", "0g", "abcg", "ab cd", "\u00e90", "\u00e9\u00e9", "0x12"]

root = tempfile.mkdtemp(prefix="axon-codecs-")
alice = bw.Keypair.create_from_uri("//Alice")


def answer(f):
    try:
        return {"ok": f()}
    except Exception as e:  # the message is what is compared
        return {"error": str(e)}


seeds = {}
for i, d in enumerate(DIGITS):
    path = os.path.join(root, f"seed{i}")
    with open(path, "w") as f:
        json.dump({"secretSeed": "0x" + d}, f)
    seeds[d] = answer(lambda: bw.Keyfile(path).keypair.ss58_address)

locked = bw.Keyfile(os.path.join(root, "locked"))
sys.stdout = sys.stderr  # bittensor_wallet prints "Encrypting..." and "Decrypting..."
locked.set_keypair(alice, encrypt=True, overwrite=True, password="pw-123456")
variable = locked.env_var_name()
good = locked.save_password_to_env("pw-123456")
values = [good, "e3", "e3==", "!!!!", good[:-1], " " + good, good + "\n", "e30=e30=", "ew=="]
passwords = {}
for value in values:
    os.environ[variable] = value
    passwords[value] = answer(lambda: bw.Keyfile(locked.path).keypair.ss58_address)
del os.environ[variable]
sys.stdout = sys.__stdout__
print(
    json.dumps(
        {
            "bittensor_version": bittensor.__version__,
            "root": root,
            "digits": DIGITS,
            "seeds": seeds,
            "variable": variable,
            "values": values,
            "passwords": passwords,
        }
    )
)
