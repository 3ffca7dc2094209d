"""A Python miner with the built-in policies switched on (`axon_rs.Axon.policies`: registered
hotkeys only, by stake), called by the real Dendrite, for tests/chain.rs.

argv: chain endpoint, netuid, the miner's hotkey URI, then caller URIs. The miner's forward
has no Python blacklist. The same miner serves a signed-HTTP endpoint written in Python,
`POST /v1/job`, which the policies guard too: each caller also sends it an Epistula v2
request, signed as the spec writes it with the real `bittensor_wallet` keypair. Prints
`RESULT ` and JSON {uri: [status, message, out]} and {"http " + uri: [status, body]}."""

import asyncio
import hashlib
import http.client
import json
import time
import uuid
import sys
import types
import typing

import bittensor.utils.networking as networking

networking.get_external_ip = lambda: "127.0.0.1"

import bittensor as bt  # noqa: E402
from bittensor_wallet import Keypair  # noqa: E402

import axon_rs  # noqa: E402

endpoint, netuid, miner_uri, callers = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]


class Job(bt.Synapse):
    id: str
    out: typing.Optional[str] = None
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("id",)


def forward(synapse: Job) -> Job:
    synapse.out = f"done {synapse.id}"
    return synapse


wallet = types.SimpleNamespace(hotkey=Keypair.create_from_uri(miner_uri), coldkeypub=Keypair.create_from_uri("//Alice"))
axon = axon_rs.Axon(wallet=wallet, port=0, ip="127.0.0.1", external_ip="127.0.0.1")
axon.attach(forward_fn=forward)
axon.policies(subtensor=endpoint, netuid=netuid, blacklist="registered", priority="stake")


@axon.endpoint("POST", "/v1/job", auth="epistula")
def job(caller, body):
    return {"out": f"done {json.loads(body)['id']}", "hotkey": caller.hotkey_ss58}
axon.start()
target = bt.AxonInfo(version=10005000, ip="127.0.0.1", port=axon.local_port, ip_type=4,
                     hotkey=wallet.hotkey.ss58_address, coldkey="")


async def main():
    out = {}
    for uri in callers:
        dendrite = bt.Dendrite(wallet=Keypair.create_from_uri(uri))
        s = await dendrite.call(target, Job(id=uri), timeout=30.0, deserialize=False)
        out[uri] = [s.dendrite.status_code, s.dendrite.status_message, s.out]
        await dendrite.aclose_session()
    return out


def epistula(uri):
    key = Keypair.create_from_uri(uri)
    body = json.dumps({"id": uri}).encode()
    stamp, call = time.time_ns() // 1_000_000, str(uuid.uuid4())
    receiver = wallet.hotkey.ss58_address
    message = f"{hashlib.sha256(body).hexdigest()}.{call}.{stamp}.{receiver}"
    headers = {"Content-Type": "application/json", "Epistula-Version": "2",
               "Epistula-Timestamp": str(stamp), "Epistula-Uuid": call,
               "Epistula-Signed-By": key.ss58_address, "Epistula-Signed-For": receiver,
               "Epistula-Request-Signature": "0x" + key.sign(message).hex()}
    conn = http.client.HTTPConnection("127.0.0.1", axon.local_port, timeout=30)
    conn.request("POST", "/v1/job", body=body, headers=headers)
    r = conn.getresponse()
    answer = [r.status, json.loads(r.read())]
    conn.close()
    return answer


result = asyncio.run(main())
for uri in callers:
    result["http " + uri] = epistula(uri)
axon.stop()
print("RESULT " + json.dumps(result), flush=True)
