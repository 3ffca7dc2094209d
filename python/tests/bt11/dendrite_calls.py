"""Run with bittensor 10.5.0's or 9.12.2's interpreter by python/tests/bt11: a validator on
the v10 wire. argv[1] is JSON {"port", "hotkey", "calls"}: that many `Echo` calls at once
through the real `bittensor.Dendrite` (as //Charlie). Prints `RESULT ` and a JSON list of
[status, message, out] per call, then the bittensor version."""

import asyncio
import json
import sys
import typing

import bittensor.utils.networking as networking

networking.get_external_ip = lambda: "127.0.0.1"

import bittensor as bt  # noqa: E402
from bittensor_wallet import Keypair  # noqa: E402


class Echo(bt.Synapse):
    text: str
    n: int = 1
    out: typing.Optional[str] = None
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("text", "n")


async def main(config):
    target = bt.AxonInfo(version=bt.core.settings.version_as_int, ip="127.0.0.1", port=config["port"],
                         ip_type=4, hotkey=config["hotkey"], coldkey=config["hotkey"])
    dendrite = bt.Dendrite(wallet=Keypair.create_from_uri("//Charlie"))
    try:
        answers = await asyncio.gather(*(
            dendrite.call(target, Echo(text=f"call-{i}", n=2), timeout=30.0, deserialize=False)
            for i in range(config["calls"])
        ))
    finally:
        await dendrite.aclose_session()
    return [[a.dendrite.status_code, a.dendrite.status_message, a.out] for a in answers]


result = asyncio.run(main(json.loads(sys.argv[1])))
print("RESULT " + json.dumps({"version": bt.__version__, "calls": result}), flush=True)
