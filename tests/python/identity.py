"""Clients for tests/probe.rs: a hotkey that calls under another spelling of its own address,
and genuine callers that must be served while the axon is attacked.

Reads one JSON object from the first line of stdin: {"url", "self", "steps": [...]}, prints
`READY` once imported and keyed, waits for a second line (`GO`), runs the steps in order
and prints `RESULT ` and one answer per step. Steps (by "do"):

- "epistula_resend": signs one Epistula request as "uri" (bittensor_wallet), sends it, then
  resends the same headers with `Epistula-Signed-By` re-encoded under each of "prefixes"
  (scalecodec's `ss58_encode`), then exactly as first sent. Answers: a list of
  {"status", "body", "signed_by"}.
- "respelled": "uri" signs as its address re-encoded under "prefix", with "scheme" btauth
  (bittensor 11's `http_auth.sign`, given a signer whose address is the other spelling;
  "python" is bittensor 11's `http_auth.verify` verdict on the same bytes), epistula
  (the message signed with that spelling in `Epistula-Signed-By`) or dendrite (the real
  10.5.0 Dendrite, its keypair's address the other spelling; "axon_hotkey" is the target).
- "btauth": one genuine btauth/1 request; "signature_spaced" spells its signature with a
  space between every byte, "receiver_suffix" appends to the receiver before signing.
  "python" is `http_auth.verify`'s verdict on the bytes sent.
- "dendrite": genuine 10.5.0 Dendrite calls of `Echo` ("repeat" of them at once).
Every answer carries "ms", how long it took.
"""

import asyncio
import hashlib
import http.client
import json
import sys
import time
import uuid as uuids
from urllib.parse import urlparse

config = json.loads(sys.stdin.readline())
URL = urlparse(config["url"])
STEPS = config["steps"]
BT11 = any(s.get("scheme") == "btauth" or s["do"] == "btauth" for s in STEPS)

if BT11:
    import bittensor_core as core
    from bittensor import http_auth
else:
    import bittensor as bt
    from bittensor_wallet import Keypair
    from scalecodec.utils.ss58 import ss58_decode, ss58_encode

    from twins import Echo


def respell(address, prefix):
    if BT11:
        return core.ss58_encode(core.ss58_decode(address), prefix)
    return ss58_encode(ss58_decode(address), ss58_format=prefix)


class Respelled:
    """A keypair whose address is another spelling of its own: it signs with the key."""

    def __init__(self, key, address):
        self.key = key
        self.ss58_address = address

    def sign(self, message):
        return self.key.sign(message)

    def __getattr__(self, name):
        return getattr(self.key, name)


def send(method, path, body, headers):
    conn = http.client.HTTPConnection(URL.hostname, URL.port, timeout=60)
    headers = dict(headers)
    if body:
        headers["Content-Type"] = "application/json"
    start = time.monotonic()
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    out = {"status": resp.status, "body": resp.read().decode()}
    out["ms"] = round((time.monotonic() - start) * 1000, 1)
    conn.close()
    return out


def epistula_headers(key, address, body, signed_for):
    uuid = str(uuids.uuid4())
    timestamp = time.time_ns() // 1_000_000
    message = f"{hashlib.sha256(body).hexdigest()}.{uuid}.{timestamp}.{signed_for or ''}"
    return {
        "Epistula-Version": "2",
        "Epistula-Timestamp": str(timestamp),
        "Epistula-Uuid": uuid,
        "Epistula-Signed-By": address,
        "Epistula-Signed-For": signed_for,
        "Epistula-Request-Signature": "0x" + key.sign(message).hex(),
    }


def python_verdict(headers, method, path, body):
    try:
        caller = http_auth.verify(
            headers, body, method=method, path=path, self_hotkey_ss58=config["self"],
            nonce_store=http_auth.InMemoryNonceStore(),
        )
        return f"ok {caller.hotkey_ss58}"
    except http_auth.AuthError as e:
        return f"{type(e).__name__}: {e}"


def btauth(step, signer):
    body = step.get("body", '{"text": "hello"}').encode()
    receiver = config["self"] + step.get("receiver_suffix", "")
    headers = http_auth.sign(signer, method="POST", path=step["path"], body=body,
                             receiver_ss58=receiver)
    if step.get("signature_spaced"):
        raw = headers["X-Bittensor-Signature"].removeprefix("0x")
        headers["X-Bittensor-Signature"] = "0x" + " ".join(
            raw[i:i + 2] for i in range(0, len(raw), 2))
    answer = send("POST", step["path"], body, headers)
    answer["python"] = python_verdict(headers, "POST", step["path"], body)
    return answer


def dendrite_calls(key, step, repeat=1):
    target = bt.AxonInfo(version=0, ip=URL.hostname, port=URL.port, ip_type=4,
                         hotkey=step.get("axon_hotkey", config["self"]), coldkey="")

    async def run():
        dendrite = bt.Dendrite(wallet=key)
        if isinstance(key, Respelled):
            dendrite.keypair = key
        calls = [Echo(text=f"hello{i}", n=i) for i in range(repeat)]
        start = time.monotonic()
        got = await asyncio.gather(*(dendrite.call(target, s, timeout=30) for s in calls))
        ms = round((time.monotonic() - start) * 1000, 1)
        await dendrite.aclose_session()
        return [{"status": s.dendrite.status_code, "body": s.out or "",
                 "message": s.dendrite.status_message, "ms": ms} for s in got]

    return asyncio.run(run())


def keypair(uri):
    if BT11:
        return core.Keypair.create_from_uri(uri)
    return Keypair.create_from_uri(uri)


def run(step):
    key = keypair(step.get("uri", "//Bob"))
    if step["do"] == "epistula_resend":
        body = b'{"text": "hello"}'
        headers = epistula_headers(key, key.ss58_address, body, config["self"])
        answers = [dict(send("POST", step["path"], body, headers), signed_by=key.ss58_address)]
        for prefix in step["prefixes"] + [42]:
            resent = dict(headers)
            resent["Epistula-Signed-By"] = respell(key.ss58_address, prefix)
            answers.append(dict(send("POST", step["path"], body, resent),
                                signed_by=resent["Epistula-Signed-By"]))
        return answers
    if step["do"] == "respelled":
        address = respell(key.ss58_address, step["prefix"])
        signer = Respelled(key, address)
        if step["scheme"] == "btauth":
            return dict(btauth(step, signer), sender=address)
        if step["scheme"] == "epistula":
            body = b'{"text": "hello"}'
            headers = epistula_headers(key, address, body, config["self"])
            return dict(send("POST", step["path"], body, headers), sender=address)
        return dict(dendrite_calls(signer, step)[0], sender=address)
    if step["do"] == "btauth":
        return btauth(step, key)
    if step["do"] == "dendrite":
        return dendrite_calls(key, step, step.get("repeat", 1))
    raise ValueError(step["do"])


print("READY", flush=True)
sys.stdin.readline()
print("RESULT " + json.dumps([run(s) for s in STEPS]), flush=True)
