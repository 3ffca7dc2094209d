"""A real Python bittensor 10.5.0 axon for the Rust dendrite to call (tests/dendrite.rs, and the
benchmark). Serves `Echo` (out = text reversed; Eve is blacklisted), the streaming `Tokens`
(`tok0 `, `tok1 `, ... up to `n`) and `Opt` (a required Optional field; out = "ran") on 127.0.0.1 with a fresh wallet. Prints one JSON line {"port", "hotkey"} once listening, then serves until stdin closes.

Usage: py_axon.py [PORT]   (0 or absent: a free port)
"""

import json
import socket
import sys
import tempfile
import time
import typing

from twins import Echo

import bittensor as bt  # noqa: E402
import bittensor_wallet as bw  # noqa: E402

EVE = bw.Keypair.create_from_uri("//Eve").ss58_address


def echo(synapse: Echo) -> Echo:
    synapse.out = synapse.text[::-1]
    return synapse


class Tokens(bt.StreamingSynapse):
    prompt: str
    n: int
    completion: str = ""
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("prompt", "n")

    async def process_streaming_response(self, response):
        async for chunk in response.content.iter_any():
            yield chunk

    def extract_response_json(self, response):
        return {}


def tokens(synapse: Tokens) -> bt.StreamingSynapse.BTStreamingResponse:
    async def streamer(send):
        for i in range(synapse.n):
            chunk = f"tok{i} ".encode()
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

    return synapse.create_streaming_response(streamer)


class Opt(bt.Synapse):
    """A required `Optional` field: a dendrite sending it as None sends no header for it."""

    maybe: typing.Optional[str]
    out: typing.Optional[str] = None


def opt(synapse: Opt) -> Opt:
    synapse.out = "ran"
    return synapse


def no_eve(synapse: Echo) -> typing.Tuple[bool, str]:
    return synapse.dendrite.hotkey == EVE, "Eve is not welcome"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


port = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "0" else free_port()
root = tempfile.mkdtemp(prefix="axon-py-")
wallet = bw.Wallet(name="py", hotkey="default", path=root)
wallet.create_new_hotkey(use_password=False, overwrite=True, suppress=True, n_words=12)
wallet.create_new_coldkey(use_password=False, overwrite=True, suppress=True, n_words=12)
axon = bt.Axon(wallet=wallet, port=port, external_ip="127.0.0.1")
axon.attach(forward_fn=echo, blacklist_fn=no_eve)
axon.attach(forward_fn=tokens)
axon.attach(forward_fn=opt)
axon.start()
# uvicorn starts in a thread: wait until the port accepts connections.
for _ in range(500):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        time.sleep(0.02)
print(json.dumps({"port": port, "hotkey": wallet.hotkey.ss58_address}), flush=True)
sys.stdin.read()
axon.stop()
