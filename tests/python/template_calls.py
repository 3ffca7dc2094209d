"""Validators of both generations calling the template miner (python/examples/template_miner.py)
for tests/chain.rs.

    python template_calls.py dendrite|btauth PORT MINER_HOTKEY URI...

- `dendrite` (run with bittensor 10.5.0 or 9.12.2): the template's `Dummy(dummy_input=21)`
  through the real `bittensor.Dendrite`, signed by each URI's key;
- `btauth` (run with bittensor 11.3.0): `POST /v1/dummy` with `{"dummy_input": 21}`, signed
  by bittensor 11's own `http_auth.sign` for the miner's hotkey.

Prints `RESULT ` and JSON {uri: [status, message, dummy_output]}.
"""

import json
import sys

mode, port, miner, uris = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]


def dendrite():
    import asyncio
    import typing

    import bittensor.utils.networking as networking

    networking.get_external_ip = lambda: "127.0.0.1"
    import bittensor as bt
    from bittensor_wallet import Keypair

    class Dummy(bt.Synapse):
        dummy_input: int
        dummy_output: typing.Optional[int] = None

        def deserialize(self) -> int:
            return self.dummy_output

    target = bt.AxonInfo(version=10005000, ip="127.0.0.1", port=port, ip_type=4, hotkey=miner, coldkey="")

    async def call(uri):
        d = bt.Dendrite(wallet=Keypair.create_from_uri(uri))
        try:
            s = await d.call(target, Dummy(dummy_input=21), timeout=30.0, deserialize=False)
            return [s.dendrite.status_code, s.dendrite.status_message, s.dummy_output]
        finally:
            await d.aclose_session()

    return {uri: asyncio.run(call(uri)) for uri in uris}


def btauth():
    import http.client

    from bittensor import http_auth
    from bittensor.sp_core import Keypair

    out = {}
    for uri in uris:
        body = json.dumps({"dummy_input": 21}).encode()
        headers = http_auth.sign(Keypair.create_from_uri(uri), method="POST", path="/v1/dummy",
                                 body=body, receiver_ss58=miner)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/v1/dummy", body=body, headers={"Content-Type": "application/json", **headers})
        r = conn.getresponse()
        answer = json.loads(r.read())
        conn.close()
        out[uri] = [r.status, answer.get("message"), answer.get("dummy_output")]
    return out


print("RESULT " + json.dumps({"dendrite": dendrite, "btauth": btauth}[mode]()), flush=True)
