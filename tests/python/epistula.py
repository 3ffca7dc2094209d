"""Epistula v2 as the spec and the reference miners write it, over the real
`bittensor_wallet` keypair, for tests/auth.rs. This is this project's transcription of the
spec, not an independent implementation: no Epistula package is released (PyPI has none).
What it checks independently is bittensor_wallet's sr25519 signing and verifying. Reads a JSON list of operations from stdin,
prints `RESULT ` and a JSON list:

- {"op": "sign", "uri", "body" (hex), "signed_for", "timestamp" (ms), "uuid"}: the headers.
- {"op": "verify", "headers", "body" (hex), "self"}: `ok <hotkey>` or why not.

The message: f"{sha256(body).hexdigest()}.{uuid}.{timestamp}.{signed_for or ''}", signed
with sr25519; the signature travels as 0x-prefixed hex."""

import hashlib
import json
import sys

from bittensor_wallet import Keypair


def message(body, uuid, timestamp, signed_for):
    return f"{hashlib.sha256(body).hexdigest()}.{uuid}.{timestamp}.{signed_for or ''}"


out = []
for op in json.load(sys.stdin):
    body = bytes.fromhex(op["body"])
    if op["op"] == "sign":
        key = Keypair.create_from_uri(op["uri"])
        timestamp = str(op["timestamp"])
        headers = {
            "Epistula-Version": "2",
            "Epistula-Timestamp": timestamp,
            "Epistula-Uuid": op["uuid"],
            "Epistula-Signed-By": key.ss58_address,
            "Epistula-Request-Signature": "0x"
            + key.sign(message(body, op["uuid"], timestamp, op["signed_for"])).hex(),
        }
        if op["signed_for"]:
            headers["Epistula-Signed-For"] = op["signed_for"]
        out.append(headers)
    else:
        # Header names are case-insensitive (HTTP clients send them lowercase).
        h = {k.title(): v for k, v in op["headers"].items()}
        signed_for = h.get("Epistula-Signed-For")
        if h.get("Epistula-Version") != "2":
            out.append("bad version")
        elif signed_for != op["self"]:
            out.append("wrong receiver")
        else:
            key = Keypair(ss58_address=h["Epistula-Signed-By"])
            text = message(body, h["Epistula-Uuid"], h["Epistula-Timestamp"], signed_for)
            signature = bytes.fromhex(h["Epistula-Request-Signature"].removeprefix("0x"))
            ok = key.verify(text, signature)
            out.append(f"ok {key.ss58_address}" if ok else "bad signature")
print("RESULT " + json.dumps(out))
