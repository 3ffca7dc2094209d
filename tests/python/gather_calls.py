"""One real Python Dendrite fires N calls at once at an axon, as validators do with
`asyncio.gather`; run against the Rust axon of tests/concurrent.rs and against the Python
axon (tests/python/py_axon.py) started beside it, as the reference.

argv[1] is JSON: {"axons": {"rust": {"port", "hotkey"}, "python": {"port", "hotkey"}},
"sizes": [2, 8, 32, 128], "rounds": 3}.

Each call is one of three synapses, in turn: `Echo` (out = text reversed), the streaming
`Tokens` (chunks `tok0 `..) and the built-in `Synapse` ping. Every request is captured as
sent (headers and body bytes, through aiohttp's tracing) and afterwards resent byte for byte
to the same axon; then one request with a nonce 60 s old is sent. Works with bittensor 10.x
and 9.x.

Then, against each axon with a fresh dendrite per case, the rules the README compares
(each request signed as `Dendrite.preprocess_synapse_for_request` signs, then sent raw):
- `out_of_order`: two requests, the higher nonce sent first;
- `held_back`: a nonce 100 s old with timeout 1000 (inside Python's unclamped window),
  then one 60 s old with timeout 1;
- `uuid_none`: a request without a uuid (signed as `None`), then the same bytes with a
  `bt_header_dendrite_uuid: None` header added;
- `big_uuid`: a genuinely signed request whose uuid is 8 KiB.

Prints one JSON object on the stdout line starting with `RESULT `:
{axon: {"calls": {size: [{"kind", "status", "message", "ok"}]}, "replays": [[status,
message]], "stale": {"status", "message"}, "rules": {case: [[status, message], ...]}}}.
"""

import asyncio
import json
import sys
import time
import typing
from unittest import mock

from twins import Echo  # noqa: I001 (first: it prepares bittensor for offline use)
from capture import capturing_session, resend  # noqa: E402

import aiohttp  # noqa: E402
import bittensor as bt  # noqa: E402
from bittensor_wallet import Keypair  # noqa: E402

CONFIG = json.loads(sys.argv[1])
BOB = Keypair.create_from_uri("//Bob")


class Tokens(bt.StreamingSynapse):
    prompt: str
    n: int
    completion: str = ""
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("prompt", "n")

    async def process_streaming_response(self, response):
        async for chunk in response.content.iter_any():
            text = chunk.decode("utf-8")
            self.completion += text
            yield text

    def extract_response_json(self, response):
        return {"prompt": self.prompt, "n": self.n, "completion": self.completion}


def outcome(kind, synapse, ok):
    return {
        "kind": kind,
        "status": synapse.dendrite.status_code,
        "message": synapse.dendrite.status_message,
        "ok": ok,
    }


async def one(d, axon, kind, tag):
    if kind == "echo":
        text = f"call-{tag}"
        r = await d.call(axon, Echo(text=text, n=len(text)), deserialize=False)
        return outcome(kind, r, r.out == text[::-1])
    if kind == "tokens":
        chunks, last = [], None
        async for item in d.call_stream(axon, Tokens(prompt=f"p-{tag}", n=4), deserialize=False):
            if isinstance(item, bt.Synapse):
                last = item
            else:
                chunks.append(item)
        return outcome(kind, last, "".join(chunks) == "tok0 tok1 tok2 tok3 ")
    r = await d.call(axon, bt.Synapse(), deserialize=False)
    return outcome(kind, r, r.name == "Synapse")


def signed(d, axon, text, nonce=None, timeout=12.0, uuid="keep"):
    """The headers and JSON body of an Echo request from `d`, signed as its dendrite signs,
    with the nonce, timeout or uuid changed first where given."""
    s = d.preprocess_synapse_for_request(axon, Echo(text=text, n=len(text)), timeout)
    if nonce is not None:
        s.dendrite.nonce = nonce
    if uuid != "keep":
        s.dendrite.uuid = uuid
    message = (f"{s.dendrite.nonce}.{s.dendrite.hotkey}.{s.axon.hotkey}."
               f"{s.dendrite.uuid}.{s.body_hash}")
    s.dendrite.signature = f"0x{d.keypair.sign(message).hex()}"
    return s.to_headers(), s.model_dump()


async def send(session, axon, request, extra=None):
    headers, body = request
    url = f"http://127.0.0.1:{axon.port}/Echo"
    async with session.post(url, headers={**headers, **(extra or {})}, json=body) as r:
        return [r.status, r.headers.get("bt_header_axon_status_message")]


async def rules(axon):
    """The cases of the module docs: each a list of [status, message], in sending order."""
    now = time.time_ns()
    out = {}
    # Python's axon repeats the 8 KiB uuid in its answer's headers: read long lines.
    async with aiohttp.ClientSession(max_line_size=65536, max_field_size=65536) as session:
        d = bt.Dendrite(wallet=BOB)
        low, high = signed(d, axon, "low", nonce=now), signed(d, axon, "high", nonce=now + 10**6)
        out["out_of_order"] = [await send(session, axon, high), await send(session, axon, low)]
        d = bt.Dendrite(wallet=BOB)
        first = signed(d, axon, "first", nonce=now - 100 * 10**9, timeout=1000.0)
        held = signed(d, axon, "held", nonce=now - 60 * 10**9, timeout=1.0)
        out["held_back"] = [await send(session, axon, first), await send(session, axon, held)]
        d = bt.Dendrite(wallet=BOB)
        bare = signed(d, axon, "bare", uuid=None)
        assert "bt_header_dendrite_uuid" not in bare[0]
        out["uuid_none"] = [await send(session, axon, bare),
                            await send(session, axon, bare, {"bt_header_dendrite_uuid": "None"})]
        d = bt.Dendrite(wallet=BOB)
        out["big_uuid"] = [await send(session, axon, signed(d, axon, "big", uuid="u" * 8192))]
    return out


async def against(name, axon):
    d = bt.Dendrite(wallet=BOB)
    captured = []
    d._session = capturing_session(captured)
    kinds = ["echo", "tokens", "ping"]
    calls = {}
    for size in CONFIG["sizes"]:
        results = []
        for round_ in range(CONFIG["rounds"]):
            results += await asyncio.gather(
                *[one(d, axon, kinds[i % 3], f"{size}-{round_}-{i}") for i in range(size)]
            )
        calls[size] = results

    # Every request again, byte for byte, with a fresh session.
    sent, replays = len(captured), await resend(captured)

    # A request signed now with a nonce 60 s old. The dendrite's pooled connection may have
    # been closed by the server in the meantime (bittensor's axon drops idle ones: the
    # dendrite then reports 503 "Service disconnected" without the request being read);
    # that call is sent once more on a new connection, and the attempts are reported.
    stale_nonce = time.time_ns() - 60 * 10**9
    for attempt in (1, 2):
        with mock.patch("time.time_ns", return_value=stale_nonce):
            r = await d.call(axon, Echo(text="stale", n=5), deserialize=False)
        if (str(r.dendrite.status_code), r.dendrite.status_message) != ("503", "Service disconnected"):
            break
        await d.aclose_session()
    stale = {"status": r.dendrite.status_code, "message": r.dendrite.status_message,
             "attempts": attempt}
    await d.aclose_session()
    return {"calls": calls, "replays": replays, "stale": stale, "sent": sent,
            "rules": await rules(axon)}


async def main():
    out = {}
    for name, a in CONFIG["axons"].items():
        axon = bt.AxonInfo(version=0, ip="127.0.0.1", port=a["port"], ip_type=4,
                           hotkey=a["hotkey"], coldkey="")
        out[name] = await against(name, axon)
    out["bittensor_version"] = bt.__version__
    print("RESULT " + json.dumps(out), flush=True)


asyncio.run(main())
