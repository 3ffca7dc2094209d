"""bittensor 11.3.0's `http_auth` (btauth/1) for tests/auth.rs, run with the 11.3.0
virtualenv. Reads a JSON list of operations from stdin, prints `RESULT ` and a JSON list of
their results:

- {"op": "sign", "uri", "crypto", "method", "path", "body" (hex), "receiver", "nonce_ns"}:
  the headers `http_auth.sign` makes, and `build_payload`'s bytes (hex) for them.
- {"op": "verify", "headers", "body" (hex), "method", "path", "self", "now_ns",
  "require_receiver", "store"}: `http_auth.verify`'s verdict, `ok <hotkey>` or
  `<AuthError class>: <message>`; operations naming the same "store" share one nonce store.
"""

import json
import sys

import bittensor_core as core
from bittensor import http_auth

CRYPTO = {"sr25519": core.CRYPTO_SR25519, "ed25519": core.CRYPTO_ED25519}
stores = {}
out = []
for op in json.load(sys.stdin):
    body = bytes.fromhex(op["body"])
    if op["op"] == "sign":
        key = core.Keypair.create_from_uri(op["uri"], crypto_type=CRYPTO[op["crypto"]])
        headers = http_auth.sign(
            key, method=op["method"], path=op["path"], body=body,
            receiver_ss58=op.get("receiver"), nonce_ns=op["nonce_ns"],
        )
        payload = http_auth.build_payload(
            scheme=op["crypto"], method=op["method"], path=op["path"], body=body,
            nonce_ns=op["nonce_ns"], sender_ss58=key.ss58_address, receiver_ss58=op.get("receiver"),
        )
        out.append({"headers": headers, "payload": payload.hex(), "ss58": key.ss58_address})
    else:
        store = stores.setdefault(op.get("store", ""), http_auth.InMemoryNonceStore())
        try:
            caller = http_auth.verify(
                op["headers"], body, method=op["method"], path=op["path"],
                self_hotkey_ss58=op["self"], now_ns=op["now_ns"],
                require_receiver=op.get("require_receiver", True), nonce_store=store,
            )
            out.append(f"ok {caller.hotkey_ss58}")
        except http_auth.AuthError as e:
            out.append(f"{type(e).__name__}: {e}")
print("RESULT " + json.dumps(out))
