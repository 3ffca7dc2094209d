"""The real bittensor 10.5.0 Dendrite pings a Rust axon (the built-in `Synapse`), for
tests/crypto.rs. argv: port, the axon's hotkey. Prints `RESULT ` and JSON {"status_code",
"message", "axon_hotkey", "axon_signature_valid"}: the last is whether the axon's signature
verifies as ed25519 and as sr25519 under the package's Keypair (the Dendrite itself never
checks it)."""

import asyncio
import json
import sys

import bittensor.utils.networking as networking

# Nothing in a test reaches beyond loopback: the Dendrite asks for its address at start.
networking.get_external_ip = lambda: "127.0.0.1"

import bittensor as bt  # noqa: E402
from bittensor_wallet import Keypair  # noqa: E402

PORT, HOTKEY = int(sys.argv[1]), sys.argv[2]


async def main():
    dendrite = bt.Dendrite(wallet=Keypair.create_from_uri("//Bob"))
    target = bt.AxonInfo(version=10005000, ip="127.0.0.1", port=PORT, ip_type=4, hotkey=HOTKEY, coldkey="")
    s = await dendrite.call(target, bt.Synapse(), timeout=12.0)
    await dendrite.aclose_session()
    a = s.axon
    valid = {}
    if a.signature and a.nonce and a.uuid:
        message = f"{a.nonce}.{s.dendrite.hotkey}.{a.hotkey}.{a.uuid}"
        for name, crypto in (("ed25519", 0), ("sr25519", 1)):
            key = Keypair(ss58_address=a.hotkey, crypto_type=crypto)
            valid[name] = bool(key.verify(message, bytes.fromhex(a.signature[2:])))
    print("RESULT " + json.dumps({
        "status_code": s.dendrite.status_code, "message": s.dendrite.status_message,
        "axon_hotkey": a.hotkey, "axon_signature_valid": valid,
    }))


asyncio.run(main())
