"""A Python miner with the built-in policies switched on (`axon_rs.Axon.policies`: registered
hotkeys only, by stake), called by the real Dendrite, for tests/chain.rs.

argv: chain endpoint, netuid, the miner's hotkey URI, then caller URIs. The miner's forward
has no Python blacklist. Prints `RESULT ` and JSON {uri: [status, message, out]}."""

import asyncio
import json
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


result = asyncio.run(main())
axon.stop()
print("RESULT " + json.dumps(result), flush=True)
