"""The real bittensor 10.5.0 Dendrite calls two Rust axons serving the same `Compute`: one
declared at compile time (`#[synapse]`), one at run time (`SynapseSchema`). tests/dynamic.rs
starts them and asserts that both answer the same.

argv[1] is JSON: {"compiled": port, "dynamic": port, "hotkey": "5..."}. Prints one JSON object
on the stdout line starting with `RESULT `: for each axon, each case as the validator's code
sees it, and the values Python expects.
"""

import asyncio
import json
import sys
import typing

import bittensor.utils.networking as networking

# Nothing in a test reaches beyond loopback: the Dendrite asks for its address at start.
networking.get_external_ip = lambda: "127.0.0.1"

import aiohttp  # noqa: E402
import bittensor as bt  # noqa: E402
from bittensor_wallet import Keypair  # noqa: E402
from pydantic import BaseModel  # noqa: E402

CONFIG = json.loads(sys.argv[1])
BOB = Keypair.create_from_uri("//Bob")


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
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("values", "weights")


def expected_total(s):
    """What both forwards compute: scale * sum(values) + sum(weights)."""
    return float(s.scale * sum(s.values) + sum(s.weights.values()))


def target(port):
    return bt.AxonInfo(
        version=10005000, ip="127.0.0.1", port=port, ip_type=4, hotkey=CONFIG["hotkey"], coldkey=""
    )


def seen(s):
    """What a validator's code sees after `dendrite.call`: the fields, and the axon's word."""
    return {
        "status": s.dendrite.status_code,
        "message": s.dendrite.status_message,
        "values": s.values,
        "weights": s.weights,
        "meta": s.meta.model_dump() if s.meta else None,
        "scale": s.scale,
        "total": s.total,
        "axon_hotkey": s.axon.hotkey,
        "signature_valid": bool(s.axon.signature)
        and Keypair(ss58_address=s.axon.hotkey).verify(
            f"{s.axon.nonce}.{s.dendrite.hotkey}.{s.axon.hotkey}.{s.axon.uuid}",
            bytes.fromhex(s.axon.signature[2:]),
        ),
    }


async def raw(session, port, headers, body):
    async with session.post(f"http://127.0.0.1:{port}/Compute", headers=headers, data=body) as r:
        text = await r.text()
        return {
            "status": r.status,
            "message": json.loads(text).get("message"),
            "body_hash": r.headers.get("computed_body_hash"),
        }


CASES = {
    "values": lambda: Compute(
        values=[1.5, 2.0, 1e-7],
        weights={"a": 0.5, "é": 2.0},
        meta=Meta(label="m", score=0.25, tags=["x", "y"]),
        scale=3,
    ),
    "defaults": lambda: Compute(values=[], weights={}),
}


async def main():
    dendrite = bt.Dendrite(wallet=BOB)
    out = {"expected": {}, "axons": {}}
    for name, make in CASES.items():
        s = make()
        out["expected"][name] = {
            "total": expected_total(s),
            "label": s.meta.label.upper() if s.meta else None,
        }
    for axon in ("compiled", "dynamic"):
        port = CONFIG[axon]
        seen_here = {}
        for name, make in CASES.items():
            r = await dendrite.call(target(port), make(), timeout=12.0, deserialize=False)
            seen_here[name] = seen(r)
        async with aiohttp.ClientSession() as session:
            # A body other than the one whose hash was signed.
            s = dendrite.preprocess_synapse_for_request(target(port), CASES["values"](), 12.0)
            body = s.model_dump()
            body["values"] = [9.0]
            seen_here["tampered"] = await raw(session, port, dict(s.to_headers()), json.dumps(body))
            # A body without a required field: the hash signed is the one it would have.
            s = dendrite.preprocess_synapse_for_request(target(port), CASES["defaults"](), 12.0)
            body = s.model_dump()
            del body["weights"]
            seen_here["missing"] = await raw(session, port, dict(s.to_headers()), json.dumps(body))
        out["axons"][axon] = seen_here
    await dendrite.aclose_session()
    print("RESULT " + json.dumps(out), flush=True)


asyncio.run(main())
