"""Priority under a full queue: one worker, held; the waiting requests are served highest
priority first, whatever order they arrived in."""

import threading
import time
import typing

import bittensor as bt
from bittensor_wallet import Keypair
from conftest import free_port
from test_side_by_side import call, listening

import axon_rs

CALLERS = {"//Dave": 1.0, "//Ferdie": 3.0, "//Bob": 2.0}


class Job(bt.Synapse):
    done: bool = False


class Queue:
    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.served = []
        self.priority_of = {Keypair.create_from_uri(u).ss58_address: p for u, p in CALLERS.items()}

    def forward(self, synapse: Job) -> Job:
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait(30)
        else:
            self.served.append(synapse.dendrite.hotkey)
        synapse.done = True
        return synapse

    def priority(self, synapse: Job) -> float:
        return self.priority_of.get(synapse.dendrite.hotkey, 0.0)


def until(condition, within=30.0):
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_waiting_are_served_by_priority(wallet, caller):
    queue = Queue()
    port = free_port()
    axon = axon_rs.Axon(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1", max_workers=1)
    axon.attach(forward_fn=queue.forward, priority_fn=queue.priority)
    axon.start()
    try:
        listening(port)
        target = axon.info()
        threads = [threading.Thread(target=call, args=(caller, target, Job(), 60))]
        threads[0].start()
        assert queue.entered.wait(30)
        # They arrive in this order: lowest priority first.
        for uri in CALLERS:
            t = threading.Thread(target=call, args=(Keypair.create_from_uri(uri), target, Job(), 60))
            t.start()
            threads.append(t)
            until(lambda n=len(threads) - 1: axon.load()["waiting"] == n)
        queue.release.set()
        for t in threads:
            t.join(60)
        by_priority = sorted(CALLERS, key=CALLERS.get, reverse=True)
        assert queue.served == [Keypair.create_from_uri(u).ss58_address for u in by_priority]
    finally:
        queue.release.set()
        axon.stop()
