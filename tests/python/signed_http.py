"""Signed-HTTP clients for tests/endpoints.rs, sending real requests to a Rust axon.

- btauth/1 requests are signed by bittensor 11.3.0's own `http_auth.sign` (run with the
  11.3.0 virtualenv), and each is also checked by its `http_auth.verify` exactly as sent,
  so the Rust endpoint's verdict can be compared with the package's.
- Epistula v2 requests are signed as the spec and the reference miners write them, with
  the real `bittensor_wallet` keypair (run with the 10.5.0 virtualenv).
- `dendrite` calls the `Echo` synapse with the real bittensor 10.5.0 Dendrite.

Reads one JSON object from the first line of stdin: {"url", "self", "requests": [...]}, then
prints `READY` and waits for a second line (`GO`), so that a test can start several
clients at once. Each request: {"scheme": "btauth"|"epistula"|"dendrite", "uri", "crypto",
"method", "path", "body" (text), "receiver" (or null), "age_ms" (how old its nonce is),
"uuid", "times" (sends of the same bytes), "send": {"method", "path", "body"} (what is sent
instead, to tamper), "drop": [header..], "set": {header: value}, "repeat" (that many
requests, each freshly signed, all at once)}. Prints `RESULT ` and, per request, the list
of answers {"status", "body", "python"} ("python": `http_auth.verify`'s verdict on the first
send, btauth only).
"""

import hashlib
import http.client
import json
import sys
import time
import uuid as uuids
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

config = json.loads(sys.stdin.readline())
URL = urlparse(config["url"])


def btauth_headers(req, nonce_ns):
    import bittensor_core as core
    from bittensor import http_auth

    crypto = {"sr25519": core.CRYPTO_SR25519, "ed25519": core.CRYPTO_ED25519}[req.get("crypto", "sr25519")]
    key = core.Keypair.create_from_uri(req["uri"], crypto_type=crypto)
    return http_auth.sign(
        key, method=req["method"], path=req["path"], body=req["body"].encode(),
        receiver_ss58=req.get("receiver"), nonce_ns=nonce_ns,
    )


def epistula_headers(req, timestamp_ms):
    from bittensor_wallet import Keypair

    key = Keypair.create_from_uri(req["uri"])
    uuid = req.get("uuid") or str(uuids.uuid4())
    body = req["body"].encode()
    signed_for = req.get("receiver")
    message = f"{hashlib.sha256(body).hexdigest()}.{uuid}.{timestamp_ms}.{signed_for or ''}"
    headers = {
        "Epistula-Version": "2",
        "Epistula-Timestamp": str(timestamp_ms),
        "Epistula-Uuid": uuid,
        "Epistula-Signed-By": key.ss58_address,
        "Epistula-Request-Signature": "0x" + key.sign(message).hex(),
    }
    if signed_for:
        headers["Epistula-Signed-For"] = signed_for
    return headers


def python_verdict(headers, method, path, body, now_ns, require_receiver):
    from bittensor import http_auth

    try:
        caller = http_auth.verify(
            headers, body, method=method, path=path, self_hotkey_ss58=config["self"],
            now_ns=now_ns, require_receiver=require_receiver,
            nonce_store=http_auth.InMemoryNonceStore(),
        )
        return f"ok {caller.hotkey_ss58}"
    except http_auth.AuthError as e:
        return f"{type(e).__name__}: {e}"


def send(method, path, body, headers):
    conn = http.client.HTTPConnection(URL.hostname, URL.port, timeout=30)
    headers = dict(headers)
    if body:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    out = {"status": resp.status, "body": resp.read().decode()}
    conn.close()
    return out


def one(req):
    now_ns = time.time_ns()
    nonce_ns = now_ns - int(req.get("age_ms", 0)) * 1_000_000
    if req["scheme"] == "btauth":
        headers = btauth_headers(req, nonce_ns)
    else:
        headers = epistula_headers(req, nonce_ns // 1_000_000)
    for name in req.get("drop", []):
        headers.pop(name, None)
    headers.update(req.get("set", {}))
    sent = dict(method=req["method"], path=req["path"], body=req["body"])
    sent.update(req.get("send", {}))
    answers = []
    for i in range(req.get("times", 1)):
        answer = send(sent["method"], sent["path"], sent["body"].encode(), headers)
        if req["scheme"] == "btauth" and i == 0:
            answer["python"] = python_verdict(
                headers, sent["method"], sent["path"], sent["body"].encode(), time.time_ns(),
                req.get("require_receiver", True),
            )
        answers.append(answer)
    return answers


def dendrite_calls(req):
    import asyncio

    import bittensor as bt
    from bittensor_wallet import Keypair

    from twins import Echo

    target = bt.AxonInfo(
        version=0, ip=URL.hostname, port=URL.port, ip_type=4, hotkey=config["self"], coldkey="",
    )

    async def run():
        dendrite = bt.Dendrite(wallet=Keypair.create_from_uri(req["uri"]))
        calls = [Echo(text=f"{req['body']}{i}", n=i) for i in range(req.get("repeat", 1))]
        got = await asyncio.gather(*(dendrite.call(target, s, timeout=30) for s in calls))
        await dendrite.aclose_session()
        return [{"status": s.dendrite.status_code, "body": s.out or ""} for s in got]

    return asyncio.run(run())


def run(req):
    if req["scheme"] == "dendrite":
        return dendrite_calls(req)
    repeat = req.get("repeat")
    if repeat is None:
        return one(req)
    with ThreadPoolExecutor(max_workers=16) as pool:
        return [a for answers in pool.map(one, [req] * repeat) for a in answers]


print("READY", flush=True)
sys.stdin.readline()
print("RESULT " + json.dumps([run(r) for r in config["requests"]]), flush=True)
