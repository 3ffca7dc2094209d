"""A bittensor config object: bittensor's `--axon.*` settings and the ones the Rust axon adds,
from a miner's own parser (`axon_rs.Axon.add_args`)."""

import argparse
import asyncio
import json

import aiohttp
import bittensor as bt
from conftest import free_port
from test_side_by_side import listening

import axon_rs
import pytest


@pytest.fixture(autouse=True)
def parse_cli(monkeypatch):
    """bittensor 10 reads a parser's arguments only when told to (9 always does)."""
    monkeypatch.setenv("BT_NO_PARSE_CLI_ARGS", "false")


class Where(bt.Synapse):
    ip: str = ""


def where(synapse: Where) -> Where:
    synapse.ip = synapse.dendrite.ip
    return synapse


def served_ip(wallet, caller, args):
    """The caller's address as the forward saw it, for a request sent with
    `X-Forwarded-For: 203.0.113.7`, on an axon configured by `args`."""
    parser = argparse.ArgumentParser()
    axon_rs.Axon.add_args(parser)
    port = free_port()
    config = bt.Config(parser, args=["--axon.port", str(port), "--axon.ip", "127.0.0.1",
                                     "--axon.external_ip", "127.0.0.1", *args])
    axon = axon_rs.Axon(wallet=wallet, config=config)
    axon.attach(forward_fn=where)
    axon.start()
    try:
        listening(port)
        assert axon.local_port == port
        return asyncio.run(forwarded(caller, axon.info()))
    finally:
        axon.stop()


async def forwarded(caller, target):
    dendrite = bt.Dendrite(wallet=caller)
    s = dendrite.preprocess_synapse_for_request(target, Where(), 12.0)
    headers = dict(s.to_headers(), **{"Content-Type": "application/json",
                                      "X-Forwarded-For": "203.0.113.7"})
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{target.port}/Where"
        async with session.post(url, headers=headers, data=json.dumps(s.model_dump())) as r:
            assert r.status == 200, await r.text()
            body = await r.json()
    await dendrite.aclose_session()
    return body["ip"]


def test_the_config_object_carries_the_rust_axons_settings(wallet, caller):
    # Without a trusted proxy, the header is the client's word and is not believed.
    assert served_ip(wallet, caller, []) == "127.0.0.1"
    # `--axon.trusted_proxy` is the Rust axon's: read from the same config object.
    assert served_ip(wallet, caller, ["--axon.trusted_proxy", "127.0.0.1"]) == "203.0.113.7"


def test_add_args_keeps_bittensors_and_adds_the_rust_axons():
    parser = argparse.ArgumentParser()
    axon_rs.Axon.add_args(parser)
    config = bt.Config(parser, args=["--axon.port", "9001", "--axon.reuse_port",
                                     "--axon.replay_store", "redis://127.0.0.1:1/0"])
    assert (config.axon.port, config.axon.max_workers) == (9001, 10)
    assert config.axon.reuse_port is True
    assert config.axon.replay_store == "redis://127.0.0.1:1/0"
