"""One Python miner, served by bittensor 10.5.0's `Axon` or by `axon_rs.Axon`, for
bench/python_miner.py: the `Echo` forward of tests/python/py_axon.py (out = text reversed)
with its Python blacklist (Eve refused), on 127.0.0.1 with a fresh wallet.

    python bench/python_miner_server.py bittensor|axon_rs|axon_rs_keypair PORT

`axon_rs_keypair` serves with a wallet that only holds keypairs: the hotkey's secret stays
in the Python keypair, whose `sign` signs each answer (with the GIL).

Prints one JSON line {"port", "hotkey"} once listening, then serves until stdin closes.
"""

import json
import os
import socket
import sys
import tempfile
import time
import types
import typing

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))

from twins import Echo  # noqa: E402  (the offline patch comes with it)

import bittensor as bt  # noqa: E402
import bittensor_wallet as bw  # noqa: E402

EVE = bw.Keypair.create_from_uri("//Eve").ss58_address


def echo(synapse: Echo) -> Echo:
    synapse.out = synapse.text[::-1]
    return synapse


def no_eve(synapse: Echo) -> typing.Tuple[bool, str]:
    return synapse.dendrite.hotkey == EVE, "Eve is not welcome"


kind, port = sys.argv[1], int(sys.argv[2])
if kind.startswith("axon_rs"):
    import axon_rs

    make = axon_rs.Axon
else:
    make = bt.Axon
root = tempfile.mkdtemp(prefix="axon-bench-")
wallet = bw.Wallet(name="bench", hotkey="default", path=root)
wallet.create_new_hotkey(use_password=False, overwrite=True, suppress=True, n_words=12)
wallet.create_new_coldkey(use_password=False, overwrite=True, suppress=True, n_words=12)
if kind == "axon_rs_keypair":
    wallet = types.SimpleNamespace(hotkey=wallet.hotkey, coldkeypub=wallet.coldkeypub)
axon = make(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1")
axon.attach(forward_fn=echo, blacklist_fn=no_eve)
axon.start()
# bittensor's uvicorn starts in a thread: wait until the port accepts connections.
deadline = time.monotonic() + 30
while True:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.02)
print(json.dumps({"port": port, "hotkey": wallet.hotkey.ss58_address}), flush=True)
sys.stdin.read()
axon.stop()
