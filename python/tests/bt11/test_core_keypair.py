"""bittensor 11's keypairs (bittensor-core's `Keypair`, which never exposes its secret) as
the hotkey of a wallet of keypairs: the axon signs its answers through the keypair's `sign`.
Run with bittensor 11.3.0, which has no Dendrite: the ping is signed here as bittensor's
Dendrite signs it."""

import json
import socket
import time
import types
import urllib.request
import uuid

import pytest
from bittensor.sp_core import Keypair

import axon_rs

EMPTY_BODY_HASH = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping(port, axon_hotkey, caller):
    """A signed ping (`POST /Synapse`), as bittensor 10's Dendrite sends one."""
    nonce, call_id = time.time_ns(), str(uuid.uuid1())
    message = f"{nonce}.{caller.ss58_address}.{axon_hotkey}.{call_id}.{EMPTY_BODY_HASH}"
    headers = {
        "Content-Type": "application/json",
        "name": "Synapse",
        "timeout": "12.0",
        "bt_header_axon_hotkey": axon_hotkey,
        "bt_header_dendrite_hotkey": caller.ss58_address,
        "bt_header_dendrite_nonce": str(nonce),
        "bt_header_dendrite_uuid": call_id,
        "bt_header_dendrite_version": "10005000",
        "bt_header_dendrite_signature": "0x" + caller.sign(message.encode()).hex(),
        "computed_body_hash": EMPTY_BODY_HASH,
    }
    request = urllib.request.Request(f"http://127.0.0.1:{port}/Synapse", data=b"{}", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.status, dict(r.headers), json.loads(r.read())


@pytest.mark.parametrize("crypto_type", [1, 0], ids=["sr25519", "ed25519"])
def test_a_bittensor_core_keypair_signs_the_answers(crypto_type):
    hotkey = Keypair.create_from_uri("//Dave", crypto_type=crypto_type)
    wallet = types.SimpleNamespace(hotkey=hotkey, coldkeypub=Keypair.create_from_uri("//Alice"))
    port = free_port()
    axon = axon_rs.Axon(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1")
    assert hotkey.ss58_address in str(axon)
    axon.start()
    try:
        caller = Keypair.create_from_uri("//Charlie")
        status, headers, _ = ping(port, hotkey.ss58_address, caller)
        assert status == 200
        signature = headers["bt_header_axon_signature"]
        signed = "{}.{}.{}.{}".format(headers["bt_header_axon_nonce"], caller.ss58_address,
                                      hotkey.ss58_address, headers["bt_header_axon_uuid"])
        verifier = Keypair(ss58_address=hotkey.ss58_address, crypto_type=crypto_type)
        assert verifier.verify(signed.encode(), bytes.fromhex(signature[2:]))
    finally:
        axon.stop()
