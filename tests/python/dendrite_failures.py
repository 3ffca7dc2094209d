"""The real Python Dendrite's answers when a call fails, for tests/dendrite.rs to compare
the Rust dendrite's with.

argv[1] is JSON: {"hotkey": ss58, "closed": port, "silent": port, "liar": port}:
- `closed`: nobody listens;
- `silent`: a listener that accepts and never answers (the call's timeout is 0.3 s);
- `liar`: a listener that answers `200` with a body that is not a synapse;
- `unsendable`: the `silent` listener again, with a target hotkey holding a newline, so the
  synapse's headers cannot be sent.

Prints on its line marked `RESULT `: {case: {"status": int, "message": str}}.
"""

import asyncio
import json
import sys

from twins import Echo  # noqa: I001 (first: it prepares bittensor for offline use)

import bittensor as bt  # noqa: E402
from bittensor_wallet import Keypair  # noqa: E402


def target(port, hotkey):
    return bt.AxonInfo(version=10005000, ip="127.0.0.1", port=port, ip_type=4,
                       hotkey=hotkey, coldkey="")


async def main(config):
    dendrite = bt.Dendrite(wallet=Keypair.create_from_uri("//Bob"))
    hotkey = config["hotkey"]
    cases = {
        "closed": (target(config["closed"], hotkey), 10.0),
        "silent": (target(config["silent"], hotkey), 0.3),
        "liar": (target(config["liar"], hotkey), 10.0),
        "unsendable": (target(config["silent"], hotkey + "\nX"), 10.0),
    }
    result = {}
    for name, (axon, timeout) in cases.items():
        out = await dendrite.call(axon, Echo(text="x", n=1), timeout=timeout, deserialize=False)
        result[name] = {"status": int(out.dendrite.status_code),
                        "message": out.dendrite.status_message}
    await dendrite.aclose_session()
    print("RESULT " + json.dumps(result), flush=True)


asyncio.run(main(json.loads(sys.argv[1])))
