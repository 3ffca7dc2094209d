"""One miner served side by side by bittensor's `Axon` and by `axon_rs.Axon`, for the real
`bittensor.Dendrite` of this virtualenv (10.5.0, or 9.12.2) to call.

Nothing here reaches beyond loopback: the Dendrite's and the Axon's external address is
127.0.0.1."""

import socket

import bittensor.utils.networking as networking

networking.get_external_ip = lambda: "127.0.0.1"

import pytest  # noqa: E402
from bittensor_wallet import Keypair, Wallet  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def wallet(tmp_path_factory):
    """A wallet on disk: the coldkey //Alice, the hotkey //Bob (as `btcli` writes them)."""
    path = tmp_path_factory.mktemp("wallets")
    w = Wallet(name="miner", hotkey="default", path=str(path))
    w.create_coldkey_from_uri("//Alice", use_password=False, overwrite=True, suppress=True)
    w.create_hotkey_from_uri("//Bob", use_password=False, overwrite=True, suppress=True)
    return w


@pytest.fixture(scope="session")
def caller():
    return Keypair.create_from_uri("//Charlie")
