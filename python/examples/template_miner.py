"""The bittensor subnet template's miner (`neurons/miner.py`, its `Dummy` protocol and its
`BaseMinerNeuron`), ported to bittensor 11 with axon_rs.

    python template_miner.py --netuid 1 --subtensor.chain_endpoint ws://127.0.0.1:9944 \\
        --wallet.name miner --wallet.hotkey default --axon.port 8091

What changed from the template, line by line:
- the imports: `axon_rs` beside `bittensor`;
- the protocol: `class Dummy(axon_rs.Synapse)` in place of `bt.Synapse`;
- the axon: `axon_rs.Axon(wallet=.., config=..)` in place of `bt.axon(..)`.

bittensor 11 also removed the pieces the template's base class leaned on (`bt.config`,
`bt.logging`, `bt.subtensor`, `bt.metagraph`), so the base class below builds its config with
`argparse`, logs with `logging`, and reads the metagraph with `axon_rs.Metagraph`, which keeps
the template's attribute names (`hotkeys`, `validator_permit`, `S`). The miner's `forward`,
`blacklist` and `priority` are the template's.

New for bittensor 11 validators: `POST /v1/dummy`, a btauth/1 endpoint running the same
`forward`, `blacklist` and `priority` on the signed request's caller.

SIGTERM or Ctrl-C drains the axon (every request received is answered) and ends the process.
"""

import argparse
import json
import logging
import threading
import time
import types
import typing

import bittensor as bt

import axon_rs

log = logging.getLogger("template")


# template/protocol.py


class Dummy(axon_rs.Synapse):
    """The template's protocol: the validator sends `dummy_input`, the miner fills
    `dummy_output`."""

    dummy_input: int
    dummy_output: typing.Optional[int] = None

    def deserialize(self) -> int:
        return self.dummy_output


# template/utils/config.py and template/base/neuron.py


def config() -> types.SimpleNamespace:
    """The template's flags, and the axon's (`axon_rs.Axon.add_args`), as a nested
    namespace read the way `bt.config` is read (`config.axon.port`)."""
    parser = argparse.ArgumentParser(description="The subnet template's miner on bittensor 11")
    parser.add_argument("--netuid", type=int, default=1)
    parser.add_argument("--subtensor.chain_endpoint", default="ws://127.0.0.1:9944")
    parser.add_argument("--wallet.name", default="default")
    parser.add_argument("--wallet.hotkey", default="default")
    parser.add_argument("--wallet.path", default="~/.bittensor/wallets")
    parser.add_argument("--neuron.sync_interval", type=float, default=60.0,
                        help="seconds between metagraph syncs")
    parser.add_argument("--blacklist.force_validator_permit", action="store_true",
                        help="refuse callers without a validator permit")
    parser.add_argument("--blacklist.allow_non_registered", action="store_true",
                        help="serve callers not registered on the subnet")
    axon_rs.Axon.add_args(parser)
    tree = types.SimpleNamespace()
    for name, value in vars(parser.parse_args()).items():
        node = tree
        *sections, leaf = name.split(".")
        for section in sections:
            node = node.__dict__.setdefault(section, types.SimpleNamespace())
        setattr(node, leaf, value)
    return tree


class BaseNeuron:
    """The template's base neuron: config, wallet, chain, metagraph."""

    def __init__(self):
        self.config = config()
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        self.wallet = bt.Wallet(name=self.config.wallet.name, hotkey=self.config.wallet.hotkey,
                                path=self.config.wallet.path)
        self.subtensor = self.config.subtensor.chain_endpoint
        self.metagraph = axon_rs.Metagraph(netuid=self.config.netuid, subtensor=self.subtensor)
        self.hotkey = self.wallet.hotkey_file.get_keypair().ss58_address
        if self.hotkey not in self.metagraph.hotkeys:
            raise SystemExit(f"the hotkey {self.hotkey} is not registered on netuid {self.config.netuid}: "
                             "register it first (btcli subnet register)")
        self.uid = self.metagraph.hotkeys.index(self.hotkey)

    def sync(self):
        self.metagraph.sync()


# template/base/miner.py


class BaseMinerNeuron(BaseNeuron):
    """The template's base miner: the axon, its attached functions, and the sync loop."""

    def __init__(self):
        super().__init__()
        if not self.config.blacklist.force_validator_permit:
            log.warning("You are allowing non-validators to send requests to your miner.")
        if self.config.blacklist.allow_non_registered:
            log.warning("You are allowing non-registered entities to send requests to your miner.")
        self.axon = axon_rs.Axon(wallet=self.wallet, config=self.config)
        self.axon.attach(forward_fn=self.forward, blacklist_fn=self.blacklist, priority_fn=self.priority)
        # bittensor 11 validators: the same forward, blacklist and priority behind btauth/1.
        self.axon.endpoint("POST", "/v1/dummy", auth="btauth", blacklist=self.blacklist_caller,
                           priority=self.priority_caller)(self.forward_http)
        log.info("Axon created: %s", self.axon)
        self.should_exit = False
        self.thread: typing.Optional[threading.Thread] = None

    async def forward_http(self, caller: axon_rs.Caller, body: bytes) -> dict:
        """`POST /v1/dummy`: the JSON of a `Dummy`'s inputs, answered with its outputs."""
        try:
            synapse = Dummy.model_validate_json(body)
        except ValueError as e:
            raise axon_rs.HandlerError(400, f"not a Dummy: {e.errors()[0]['msg']}") from None
        answered = await self.forward(synapse)
        return {"dummy_output": answered.dummy_output}

    def blacklist_caller(self, caller: axon_rs.Caller) -> typing.Tuple[bool, str]:
        return self.blacklist_hotkey(caller.hotkey_ss58)

    def priority_caller(self, caller: axon_rs.Caller) -> float:
        return self.priority_hotkey(caller.hotkey_ss58)

    def run(self):
        """The template's loop: resync the metagraph until told to stop."""
        while not self.should_exit:
            time.sleep(self.config.neuron.sync_interval)
            try:
                self.sync()
            except RuntimeError as e:
                # The axon keeps serving on the last metagraph read.
                log.warning("metagraph sync failed: %s", e)

    def __enter__(self):
        # Served and started from the main thread, so that SIGTERM and Ctrl-C drain the axon.
        log.info("Serving miner axon %s on %s, netuid %d", self.axon, self.subtensor, self.config.netuid)
        self.axon.serve(netuid=self.config.netuid, subtensor=self.subtensor)
        self.axon.start()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.should_exit = True
        self.axon.stop()


# neurons/miner.py


class Miner(BaseMinerNeuron):
    """The template's miner: doubles `dummy_input`; refuses unregistered hotkeys (and
    non-validators with `--blacklist.force_validator_permit`); serves the most staked first."""

    async def forward(self, synapse: Dummy) -> Dummy:
        synapse.dummy_output = synapse.dummy_input * 2
        return synapse

    async def blacklist(self, synapse: Dummy) -> typing.Tuple[bool, str]:
        if synapse.dendrite is None or synapse.dendrite.hotkey is None:
            return True, "Missing dendrite or hotkey"
        return self.blacklist_hotkey(synapse.dendrite.hotkey)

    async def priority(self, synapse: Dummy) -> float:
        return self.priority_hotkey(synapse.dendrite.hotkey)

    def blacklist_hotkey(self, hotkey: str) -> typing.Tuple[bool, str]:
        if not self.config.blacklist.allow_non_registered and hotkey not in self.metagraph.hotkeys:
            return True, "Unrecognized hotkey"
        if self.config.blacklist.force_validator_permit:
            uid = self.metagraph.hotkeys.index(hotkey)
            if not self.metagraph.validator_permit[uid]:
                return True, "Non-validator hotkey"
        return False, "Hotkey recognized!"

    def priority_hotkey(self, hotkey: str) -> float:
        if hotkey not in self.metagraph.hotkeys:
            return 0.0
        caller_uid = self.metagraph.hotkeys.index(hotkey)
        return float(self.metagraph.S[caller_uid])


if __name__ == "__main__":
    with Miner() as miner:
        while True:
            log.info("Miner running... %s", json.dumps({"block": miner.metagraph.block, "uid": miner.uid}))
            time.sleep(5)
