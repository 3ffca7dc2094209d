"""Hotkeys: a wallet that only holds keypairs (no keyfile: the keypair's own `sign` signs
the answers), and ed25519 hotkeys, in a keyfile and in a keypair, on both axons."""

import types

import bittensor as bt
import pytest
from bittensor_wallet import Keypair
from conftest import free_port
from test_side_by_side import Echo, Miner, call, listening, seen

import axon_rs


def serve(make, wallet):
    miner = Miner()
    port = free_port()
    axon = make(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1", external_port=port)
    axon.attach(forward_fn=miner.forward)
    axon.start()
    listening(port)
    return axon


def signed_by(s, crypto_type):
    """Whether the answer's axon signature verifies under its hotkey as `crypto_type`
    (None: the answer is not signed)."""
    a = s.axon
    if a.signature is None:
        return None
    message = f"{a.nonce}.{s.dendrite.hotkey}.{a.hotkey}.{a.uuid}"
    key = Keypair(ss58_address=a.hotkey, crypto_type=crypto_type)
    return key.verify(message, bytes.fromhex(a.signature[2:]))


def keypairs(hotkey):
    return types.SimpleNamespace(hotkey=hotkey, coldkeypub=Keypair.create_from_uri("//Alice"))


@pytest.mark.parametrize("crypto_type", [1, 0], ids=["sr25519", "ed25519"])
def test_a_wallet_of_keypairs_signs_through_its_keypair(caller, crypto_type):
    hotkey = Keypair.create_from_uri("//Dave", crypto_type=crypto_type)
    answers = {}
    for kind, make in (("bittensor", bt.Axon), ("axon_rs", axon_rs.Axon)):
        axon = serve(make, keypairs(hotkey))
        try:
            s = call(caller, axon.info(), Echo(text="abc"))
            answers[kind] = {**seen(s), "out": s.out, "hotkey": s.axon.hotkey,
                             "signed": signed_by(s, crypto_type)}
        finally:
            axon.stop()
    assert answers["axon_rs"] == {"status": 200, "message": "Success", "out": "cba",
                                  "hotkey": hotkey.ss58_address, "signed": True}
    # bittensor 10.5.0's axon does not sign its answers; everything else is the same.
    assert answers["bittensor"] == dict(answers["axon_rs"], signed=None)


def test_a_keypair_that_signs_for_another_key_is_refused_at_once():
    class Liar:
        public_key = Keypair.create_from_uri("//Dave").public_key
        crypto_type = 1

        def sign(self, message):
            return Keypair.create_from_uri("//Eve").sign(message)

    with pytest.raises(ValueError, match="does not sign as the sr25519 key"):
        axon_rs.Axon(wallet=keypairs(Liar()), port=free_port(), ip="127.0.0.1", external_ip="127.0.0.1")
