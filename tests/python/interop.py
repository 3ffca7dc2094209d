"""The real bittensor 10.5.0 Dendrite calls the Rust axons that tests/interop.rs started.

argv[1] is JSON: {"axons": {"A": {"port": 1234, "hotkey": "5..."}, ...}}.
Runs every case and prints one JSON object {case: result} on the stdout line starting with
`RESULT `; the Rust
test asserts on it (status, message, fields) and on which handlers ran.
"""

import asyncio
import json
import sys
import time
import typing

from twins import Echo

import aiohttp  # noqa: E402
import bittensor as bt  # noqa: E402
from bittensor_wallet import Keypair  # noqa: E402
from pydantic import BaseModel  # noqa: E402

CONFIG = json.loads(sys.argv[1])
AXONS = CONFIG["axons"]
BOB = Keypair.create_from_uri("//Bob")
CHARLIE = Keypair.create_from_uri("//Charlie")
EVE = Keypair.create_from_uri("//Eve")


class Meta(BaseModel):
    label: str = ""
    score: float = 0.0
    tags: typing.List[str] = []


class Compute(bt.Synapse):
    values: typing.List[float]
    weights: typing.Dict[str, float]
    meta: typing.Optional[Meta] = None
    scale: int = 1
    total: typing.Optional[float] = None
    ranked: typing.List[str] = []
    summary: typing.Optional[Meta] = None
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("values", "weights")


class Profile(bt.Synapse):
    user: str
    langs: typing.List[str] = []
    scores: typing.Dict[str, typing.List[int]] = {}
    bio: typing.Optional[str] = None
    greeting: typing.Optional[str] = None
    flags: typing.Dict[str, bool] = {}
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("user", "langs")


class Guarded(bt.Synapse):
    note: typing.Optional[str] = None


class Flaky(bt.Synapse):
    mode: str
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("mode",)


class Unknown(bt.Synapse):
    pass


def info(name, hotkey=None):
    a = AXONS[name]
    return bt.AxonInfo(
        version=10005000,
        ip="127.0.0.1",
        port=a["port"],
        ip_type=4,
        hotkey=hotkey or a["hotkey"],
        coldkey="",
    )


def seen_by_dendrite(s):
    """What a validator's code sees after `dendrite.call`."""
    return {
        "status": int(s.dendrite.status_code) if s.dendrite.status_code is not None else None,
        "message": s.dendrite.status_message,
        "axon_hotkey": s.axon.hotkey,
        "axon_signature_valid": axon_signature_valid(s),
    }


def axon_signature_valid(s):
    """The axon signs `{axon.nonce}.{dendrite.hotkey}.{axon.hotkey}.{axon.uuid}`."""
    a = s.axon
    if not (a.signature and a.hotkey and a.nonce and a.uuid):
        return None
    message = f"{a.nonce}.{s.dendrite.hotkey}.{a.hotkey}.{a.uuid}"
    return Keypair(ss58_address=a.hotkey).verify(message, bytes.fromhex(a.signature[2:]))


class Tamper(bt.Dendrite):
    """A real Dendrite whose signed request is altered just before it is sent."""

    def __init__(self, keypair, mutate):
        super().__init__(wallet=keypair)
        self.mutate = mutate

    def preprocess_synapse_for_request(self, target_axon_info, synapse, timeout=12.0):
        synapse = super().preprocess_synapse_for_request(target_axon_info, synapse, timeout)
        self.mutate(self, synapse)
        return synapse


def resign(d, s):
    message = f"{s.dendrite.nonce}.{s.dendrite.hotkey}.{s.axon.hotkey}.{s.dendrite.uuid}.{s.body_hash}"
    s.dendrite.signature = f"0x{d.keypair.sign(message).hex()}"


async def call(dendrite, target, synapse, timeout=12.0):
    return await dendrite.call(target, synapse, timeout=timeout, deserialize=False)


async def raw(session, name, path, headers, body, method="POST"):
    """One request with exactly these headers and body bytes."""
    url = f"http://127.0.0.1:{AXONS[name]['port']}/{path}"
    async with session.request(method, url, headers=headers, data=body) as r:
        text = await r.text()
        try:
            message = json.loads(text).get("message")
        except ValueError:
            message = text
        return {
            "status": r.status,
            "message": message,
            "content_type": r.headers.get("content-type"),
            "axon_status_code": r.headers.get("bt_header_axon_status_code"),
            "axon_status_message": r.headers.get("bt_header_axon_status_message"),
        }


def signed(dendrite, target, synapse):
    """The headers and JSON body a dendrite would send, signed."""
    s = dendrite.preprocess_synapse_for_request(target, synapse, 12.0)
    return s, dict(s.to_headers()), json.dumps(s.model_dump())


async def main():
    out = {}
    bob = bt.Dendrite(wallet=BOB)
    charlie = bt.Dendrite(wallet=CHARLIE)
    eve = bt.Dendrite(wallet=EVE)

    # Three synapse types round-trip with handler-set fields.
    r = await call(bob, info("A"), Echo(text="echo-ok", n=3))
    out["echo_ok"] = {**seen_by_dendrite(r), "out": r.out, "n": r.n, "text": r.text,
                      "process_time": r.axon.process_time, "axon_version": r.axon.version,
                      "dendrite_ip": r.dendrite.ip}

    r = await call(bob, info("A"), Compute(
        values=[1.5, -2.0, 1e-05], weights={"b": 0.25, "a": 2.0},
        meta=Meta(label="compute-ok", score=0.5, tags=["x", "y"]), scale=3))
    out["compute_ok"] = {**seen_by_dendrite(r), "total": r.total, "ranked": r.ranked,
                         "summary": r.summary.model_dump() if r.summary else None,
                         "values": r.values, "weights": r.weights}

    r = await call(bob, info("A"), Profile(
        user="profile-ok", langs=["rust", "python"], scores={"rust": [3, 1], "py": []},
        bio=None, flags={"new": True}))
    out["profile_ok"] = {**seen_by_dendrite(r), "greeting": r.greeting, "scores": r.scores,
                         "flags": r.flags, "bio": r.bio, "langs": r.langs}

    r = await call(bob, info("A"), bt.Synapse())
    out["ping"] = seen_by_dendrite(r)

    # 403: the blacklist refuses Eve before anything else.
    r = await call(eve, info("A"), Echo(text="eve-blacklisted", n=1))
    out["blacklisted"] = seen_by_dendrite(r)

    # 401 variants, each from a real dendrite whose request was altered.
    def bad_signature(d, s):
        s.dendrite.signature = f"0x{d.keypair.sign('something else').hex()}"

    def no_signature(d, s):
        s.dendrite.signature = None

    def empty_signature(d, s):
        s.dendrite.signature = ""

    def stale_nonce(d, s):
        s.dendrite.nonce = time.time_ns() - 120 * 10**9
        resign(d, s)

    for case, mutate in [("bad_signature", bad_signature), ("missing_signature", no_signature),
                         ("empty_signature", empty_signature), ("stale_nonce", stale_nonce)]:
        d = Tamper(BOB, mutate)
        r = await call(d, info("A"), Echo(text=f"{case}", n=1))
        out[case] = seen_by_dendrite(r)
        await d.aclose_session()

    # Signed for another receiver (Bob's axon), sent to A.
    r = await call(bob, info("A", hotkey=BOB.ss58_address), Echo(text="wrong-receiver", n=1))
    out["wrong_receiver"] = seen_by_dendrite(r)

    # A custom verify: the default check, then only Bob.
    r = await call(bob, info("A"), Guarded(note="guarded-bob"))
    out["guarded_bob"] = {**seen_by_dendrite(r), "note": r.note}
    r = await call(charlie, info("A"), Guarded(note="guarded-charlie"))
    out["guarded_charlie"] = seen_by_dendrite(r)

    # 404 naming the served synapses.
    r = await call(bob, info("A"), Unknown())
    out["unknown"] = seen_by_dendrite(r)

    # Handler errors: its own status; panics and internal errors are 500 without details.
    for mode in ["busy", "panic", "internal", "flaky-ok"]:
        r = await call(bob, info("A"), Flaky(mode=mode))
        out[f"flaky_{mode}"] = seen_by_dendrite(r)

    # dendrite.forward to several axons at once.
    rs = await bob.forward(axons=[info("A"), info("B"), info("C")],
                           synapse=Echo(text="fan-out", n=2), deserialize=False)
    out["fan_out"] = [{**seen_by_dendrite(r), "out": r.out} for r in rs]

    # Raw HTTP: exact bytes a dendrite would send, replayed, tampered or crafted.
    async with aiohttp.ClientSession() as session:
        _, headers, body = signed(bob, info("A"), Echo(text="replayed", n=1))
        out["replay_first"] = await raw(session, "A", "Echo", headers, body)
        out["replay_again"] = await raw(session, "A", "Echo", headers, body)
        out["replay_nonce"] = headers["bt_header_dendrite_nonce"]

        # The signature does not cover the synapse name: one replay store for all synapses.
        _, headers, body = signed(bob, info("A"), Echo(text="cross-synapse", n=1))
        out["cross_first"] = await raw(session, "A", "Echo", headers, body)
        out["cross_to_guarded"] = await raw(session, "A", "Guarded", headers, "{}")
        out["cross_nonce"] = headers["bt_header_dendrite_nonce"]

        s, headers, body = signed(bob, info("A"), Echo(text="tampered", n=1))
        dump = s.model_dump()
        dump["text"] = "tampered!"
        out["tampered_body"] = await raw(session, "A", "Echo", headers, json.dumps(dump))
        out["tampered_expected_hashes"] = [s.body_hash, Echo(text="tampered!", n=1).body_hash]

        _, headers, _ = signed(bob, info("A"), Echo(text="not-json", n=1))
        out["not_json"] = await raw(session, "A", "Echo", headers, "{not json")

        _, headers, body = signed(bob, info("A"), Echo(text="bad-timeout", n=1))
        headers["timeout"] = "soon"
        out["bad_timeout_header"] = await raw(session, "A", "Echo", headers, body)

        _, headers, body = signed(bob, info("A"), Echo(text="no-input-obj", n=1))
        del headers["bt_header_input_obj_text"]
        out["missing_input_obj"] = await raw(session, "A", "Echo", headers, body)

        bare = {"name": "Echo", "timeout": "12.0", "bt_header_input_obj_text": "IiI=",
                "bt_header_input_obj_n": "MA=="}
        out["unsigned"] = await raw(session, "A", "Echo", bare,
                                    json.dumps(Echo(text="unsigned", n=1).model_dump()))

        _, headers, body = signed(bob, info("A"), Echo(text="put", n=1))
        out["put"] = await raw(session, "A", "Echo", headers, body, method="PUT")
        out["nested_path"] = await raw(session, "A", "Echo/x", headers, body)

        # The axon still serves after all of the above.
        _, headers, body = signed(bob, info("A"), Echo(text="still-serving", n=1))
        out["still_serving"] = await raw(session, "A", "Echo", headers, body)

    for d in (bob, charlie, eve):
        await d.aclose_session()
    # bittensor's logger writes to stdout too, possibly after this line: mark it.
    print("RESULT " + json.dumps(out), flush=True)


asyncio.run(main())
