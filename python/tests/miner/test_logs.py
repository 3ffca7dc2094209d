"""The Rust axon's log lines reach Python's `logging` (bittensor's logger), with the
request's span fields."""

import logging
import threading

from bittensor_wallet import Keypair
from test_side_by_side import EVE, Echo, Miner, call, listening
from conftest import free_port

import axon_rs


class Watch(logging.Handler):
    """Sets `seen` once a record containing every one of `needles` arrives."""

    def __init__(self, *needles):
        super().__init__(level=logging.DEBUG)
        self.needles = needles
        self.seen = threading.Event()
        self.records = []

    def emit(self, record):
        text = record.getMessage()
        self.records.append((record.levelno, text))
        if all(n in text for n in self.needles):
            self.seen.set()


def test_a_refusal_is_logged_with_its_request(wallet):
    logger = logging.getLogger("bittensor")
    watch = Watch("refused: Forbidden. Key is blacklisted: Eve is not welcome.", f'claimed_hotkey="{EVE.ss58_address}"', 'synapse="Echo"')
    logger.addHandler(watch)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    miner = Miner()
    port = free_port()
    axon = axon_rs.Axon(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1")
    axon.attach(forward_fn=miner.forward, blacklist_fn=miner.blacklist)
    axon.start()
    try:
        listening(port)
        s = call(EVE, axon.info(), Echo(text="x"))
        assert s.dendrite.status_code == 403
        assert watch.seen.wait(30), watch.records
        level = next(level for level, text in watch.records if "refused:" in text)
        assert level == logging.WARNING
    finally:
        axon.stop()
        logger.removeHandler(watch)
        logger.setLevel(previous)
