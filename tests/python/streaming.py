"""The real bittensor 10.5.0 Dendrite streams from the Rust axon that tests/streaming.rs started.

argv[1] is JSON: {"port": 1234, "hotkey": "5...", "tokens": 5}.

The axon's `Tokens` forward sends one chunk, then waits for an `Ack` before the next. This
client acknowledges each chunk from inside its `async for` over
`dendrite.forward(..., streaming=True)`, so the stream can only finish if every chunk reached
this process on its own, before the next was produced: chunks held back by the axon would
deadlock it (and the test's timeout would fail it).

Prints one JSON object {case: result} on the stdout line starting with `RESULT `.
"""

import asyncio
import json
import sys
import typing

import twins  # noqa: F401  (the offline patch)

import bittensor as bt  # noqa: E402
from bittensor_wallet import Keypair  # noqa: E402

CONFIG = json.loads(sys.argv[1])
BOB = Keypair.create_from_uri("//Bob")


class Tokens(bt.StreamingSynapse):
    """The usual shape of an LLM subnet's streaming synapse."""

    prompt: str
    n: int
    fail_after: int = -1
    completion: str = ""
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("prompt", "n")

    async def process_streaming_response(self, response):
        async for chunk in response.content.iter_any():
            text = chunk.decode("utf-8")
            self.completion += text
            yield text

    def extract_response_json(self, response):
        headers = {
            k.decode("utf-8"): v.decode("utf-8")
            for k, v in response.__dict__["_raw_headers"]
        }

        def terminal(prefix):
            return {
                key.split("_")[-1]: value
                for key, value in headers.items()
                if key.startswith(prefix)
            }

        return {
            "name": headers.get("name", ""),
            "timeout": float(headers.get("timeout", 0)),
            "total_size": int(headers.get("total_size", 0)),
            "header_size": int(headers.get("header_size", 0)),
            "dendrite": terminal("bt_header_dendrite"),
            "axon": terminal("bt_header_axon"),
            "prompt": self.prompt,
            "n": self.n,
            "fail_after": self.fail_after,
            "completion": self.completion,
            "content_type": headers.get("content-type"),
        }


class Ack(bt.Synapse):
    index: int
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("index",)


def target():
    return bt.AxonInfo(
        version=10005000,
        ip="127.0.0.1",
        port=CONFIG["port"],
        ip_type=4,
        hotkey=CONFIG["hotkey"],
        coldkey="",
    )


async def stream(dendrite, synapse, ack):
    """Streams `synapse`, acknowledging each chunk when `ack`; returns what was seen."""
    chunks = []
    final = None
    responses = await dendrite.forward(target(), synapse, timeout=20, streaming=True, deserialize=False)
    async for item in responses:
        if isinstance(item, bt.Synapse):
            final = item
            continue
        chunks.append(item)
        if ack:
            acked = await dendrite.call(target(), Ack(index=len(chunks)), timeout=20, deserialize=False)
            assert acked.dendrite.status_code == 200, acked.dendrite.status_message
    return {
        "chunks": chunks,
        "status": int(final.dendrite.status_code) if final.dendrite.status_code is not None else None,
        "message": final.dendrite.status_message,
        "completion": final.completion,
        "axon_hotkey": final.axon.hotkey,
        "axon_status": final.axon.status_code,
    }


async def main():
    dendrite = bt.Dendrite(wallet=BOB)
    out = {}
    n = CONFIG["tokens"]
    out["stream_ok"] = await stream(dendrite, Tokens(prompt="tell me", n=n), ack=True)
    out["stream_fails"] = await stream(
        dendrite, Tokens(prompt="fail", n=n, fail_after=2), ack=True
    )
    await dendrite.aclose_session()
    # bittensor's logger writes to stdout too, possibly after this line: mark it.
    print("RESULT " + json.dumps(out), flush=True)


asyncio.run(main())
