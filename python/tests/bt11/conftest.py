"""Helpers of the bittensor 11.3.0 suite: callers of both generations for one axon_rs miner.

- btauth/1 requests are signed with bittensor 11's own `http_auth.sign`, and each is judged
  by its `http_auth.verify` on the bytes sent, so a refusal can be held to the package's.
- Epistula v2 requests are signed as the spec writes them, with bittensor-core's keypair.
- v10 validators: `dendrite_calls.py` run by bittensor 10.5.0's and 9.12.2's interpreters,
  named by `AXON_PYTHON10` and `AXON_PYTHON9` (tests/python_package.rs sets both).

Nothing here reaches beyond loopback."""

import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
from bittensor import http_auth
from bittensor.sp_core import Keypair

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def key(uri, crypto="sr25519"):
    return Keypair.create_from_uri(uri, crypto_type={"sr25519": 1, "ed25519": 0}[crypto])


def btauth(signer, receiver, path, body, method="POST", nonce_ns=None):
    """bittensor 11's headers for `body` to `path`, signed by `signer` for `receiver`."""
    return http_auth.sign(signer, method=method, path=path, body=body, receiver_ss58=receiver,
                          nonce_ns=nonce_ns)


def epistula(signer, receiver, body, timestamp_ms=None):
    """Epistula v2 headers, as the spec and the reference miners write them."""
    timestamp_ms = timestamp_ms or time.time_ns() // 1_000_000
    call = str(uuid.uuid4())
    message = f"{hashlib.sha256(body).hexdigest()}.{call}.{timestamp_ms}.{receiver or ''}"
    return {
        "Epistula-Version": "2",
        "Epistula-Timestamp": str(timestamp_ms),
        "Epistula-Uuid": call,
        "Epistula-Signed-By": signer.ss58_address,
        "Epistula-Signed-For": receiver or "",
        "Epistula-Request-Signature": "0x" + signer.sign(message.encode()).hex(),
    }


def verdict(headers, body, path, receiver, method="POST"):
    """What bittensor 11's own `http_auth.verify` says of a request: "ok", or the message of
    the `AuthError` it raises."""
    try:
        http_auth.verify(headers, body, method=method, path=path, self_hotkey_ss58=receiver)
        return "ok"
    except http_auth.AuthError as e:
        return str(e)


def send(port, path, headers, body, method="POST"):
    """One request on a new connection: (status, content type, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **headers})
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        conn.close()


def message(body):
    return json.loads(body)["message"]


def dendrite(which, port, hotkey, calls):
    """Starts `calls` concurrent v10 `Echo` calls from bittensor `which` ("10" or "9"),
    in its own interpreter; `.result()` waits (2 minutes at most) for
    {"version", "calls": [[status, message, out]]}."""
    python = os.environ.get(f"AXON_PYTHON{which}")
    if not python:
        pytest.fail(f"AXON_PYTHON{which} names no interpreter of bittensor {which}.x (tests/python_package.rs sets it)")
    argv = [python, os.path.join(HERE, "dendrite_calls.py"),
            json.dumps({"port": port, "hotkey": hotkey, "calls": calls})]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONWARNINGS": "ignore"})

    class Running:
        def result(self):
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, f"{argv[0]}: {err[-3000:]}"
            line = next((l for l in out.splitlines() if l.startswith("RESULT ")), None)
            assert line, f"no RESULT from {argv[0]}:\n{out[-2000:]}\n{err[-2000:]}"
            return json.loads(line[len("RESULT "):])

    return Running()


sys.path.insert(0, HERE)
