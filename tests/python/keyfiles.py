"""Hotkey keyfiles of both crypto types, written by the real packages, for tests/crypto.rs.

Run with the 10.5.0 virtualenv, it writes them with bittensor_wallet 4.1.1; with the 11.3.0
one, with bittensor-core 0.1.5 (through bittensor 11's `Keyfile`). Reads a JSON list of
operations from stdin, prints `RESULT ` and a JSON list of their results:

- {"op": "write", "dir"}: for ed25519 and sr25519, a key from a fresh mnemonic (its file has
  `secretSeed` and `privateKey`) and one from a URI (bittensor-core writes `privateKey`
  only), each plain and encrypted with a password. Returns a list of {"file", "ss58",
  "crypto", "variable", "value"}: the password's variable and its value as the package
  encodes it (null for a plain file).
- {"op": "verify", "ss58", "crypto", "message" (hex), "signature" (hex)}: whether the
  package's `Keypair(ss58_address=.., crypto_type=..)` verifies it.
"""

import json
import os
import sys

PASSWORD = "pw-123456"
CRYPTO_NAMES = {0: "ed25519", 1: "sr25519"}

try:
    import bittensor_core as core

    PACKAGE = "bittensor-core"
except ImportError:
    core = None
    import bittensor_wallet as bw

    PACKAGE = "bittensor_wallet"


def keypairs(crypto):
    if core is not None:
        phrase = core.Keypair.generate_mnemonic()
        yield "mnemonic", core.Keypair.create_from_mnemonic(phrase, crypto)
        yield "uri", core.Keypair.create_from_uri("//Ferdie", crypto)
    else:
        phrase = bw.Keypair.generate_mnemonic()
        yield "mnemonic", bw.Keypair.create_from_mnemonic(phrase, crypto_type=crypto)
        yield "uri", bw.Keypair.create_from_uri("//Ferdie", crypto_type=crypto)


def write(path, keypair, encrypted):
    if core is not None:
        from bittensor.keyfiles import Keyfile

        keyfile = Keyfile(path)
    else:
        keyfile = bw.Keyfile(path)
    keyfile.set_keypair(keypair, encrypt=encrypted, overwrite=True, password=PASSWORD if encrypted else None)
    if not encrypted:
        return None, None
    variable = keyfile.env_var_name()
    value = keyfile.save_password_to_env(PASSWORD)
    if core is not None:
        # bittensor-core sets the variable in the process's environment (not in Python's
        # `os.environ`) and returns its name: read the value it set.
        import ctypes

        libc = ctypes.CDLL(None)
        libc.getenv.restype = ctypes.c_char_p
        value = libc.getenv(variable.encode()).decode()
    return variable, value


out = []
for op in json.load(sys.stdin):
    if op["op"] == "write":
        written = []
        for crypto in (0, 1):
            for origin, keypair in keypairs(crypto):
                for encrypted in (False, True):
                    name = f"{CRYPTO_NAMES[crypto]}-{origin}-{'locked' if encrypted else 'plain'}"
                    path = os.path.join(op["dir"], name)
                    variable, value = write(path, keypair, encrypted)
                    written.append({
                        "file": path, "ss58": keypair.ss58_address,
                        "crypto": CRYPTO_NAMES[crypto], "variable": variable, "value": value,
                    })
        out.append({"package": PACKAGE, "files": written})
    else:
        crypto = {"ed25519": 0, "sr25519": 1}[op["crypto"]]
        message = bytes.fromhex(op["message"])
        signature = bytes.fromhex(op["signature"])
        if core is not None:
            ok = core.verify(message, signature, op["ss58"], crypto)
        else:
            ok = bw.Keypair(ss58_address=op["ss58"], crypto_type=crypto).verify(message, signature)
        out.append(bool(ok))
print("RESULT " + json.dumps(out))
