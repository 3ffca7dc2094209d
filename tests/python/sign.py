"""Signed dendrite headers made by the real bittensor 10.5.0 (bittensor_wallet Keypair), for
tests/verify.rs: Alice signs requests to an axon whose hotkey is Bob's, exactly as
`Dendrite.preprocess_synapse_for_request` does, at a fixed nonce so the Rust side can pick
its clock. Prints JSON."""

import json
from typing import ClassVar, Optional

import bittensor
from bittensor.core.settings import version_as_int
from bittensor_wallet import Keypair

alice = Keypair.create_from_uri("//Alice")
bob = Keypair.create_from_uri("//Bob")
NONCE = 1_763_000_000_000_000_000


class Echo(bittensor.Synapse):
    text: str
    n: int
    out: Optional[str] = None
    required_hash_fields: ClassVar[tuple[str, ...]] = ("text", "n")


def signed(synapse, nonce, uuid, wrap=False):
    synapse.dendrite = bittensor.TerminalInfo(
        ip="127.0.0.1",
        port=0,
        version=version_as_int,
        nonce=nonce,
        uuid=uuid,
        hotkey=alice.ss58_address,
    )
    synapse.axon = bittensor.TerminalInfo(ip="127.0.0.1", port=8091, hotkey=bob.ss58_address)
    message = f"{nonce}.{alice.ss58_address}.{bob.ss58_address}.{uuid}.{synapse.body_hash}"
    signing = f"<Bytes>{message}</Bytes>" if wrap else message
    synapse.dendrite.signature = f"0x{alice.sign(signing).hex()}"
    return {"headers": synapse.to_headers(), "message": message}


def refusal(attempt):
    """What bittensor_wallet raises for `attempt`, as its message."""
    try:
        attempt()
    except ValueError as e:
        return str(e)
    raise AssertionError("bittensor_wallet accepted it")


# bittensor_wallet's messages for malformed signatures and hotkeys, which the default verify
# repeats.
refusals = {
    signature: refusal(lambda s=signature: Keypair(ss58_address=bob.ss58_address).verify("m", s))
    for signature in ["nothex", "0xzz", "0x12", "0xabg", "0xa", "0xg0", "0x0g", "0xabcg", "0x0x12"]
}
refusals["hotkey 5Bad"] = refusal(lambda: Keypair(ss58_address="5Bad"))

print(
    json.dumps(
        {
            "bittensor_version": bittensor.__version__,
            "alice": alice.ss58_address,
            "bob": bob.ss58_address,
            "nonce": NONCE,
            "plain": signed(Echo(text="hello", n=3), NONCE, "uuid-1"),
            "wrapped": signed(Echo(text="hello", n=3), NONCE, "uuid-2", wrap=True),
            "next": signed(Echo(text="again", n=4), NONCE + 1_000_000, "uuid-1"),
            "earlier": signed(Echo(text="before", n=2), NONCE - 1_000_000, "uuid-1"),
            "base": signed(bittensor.Synapse(), NONCE, "uuid-3"),
            "no_uuid": signed(Echo(text="hello", n=3), NONCE, None),
            "refusals": refusals,
        }
    )
)
