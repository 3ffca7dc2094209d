"""A miner written as bittensor's are: start the axon, then sleep in a loop. For
test_signals.py. argv: bittensor|axon_rs, port, wallet path, gate file. Its forward prints
`entered` and waits until the gate file exists; the process prints `listening` once served."""

import os
import signal
import sys
import time
import typing

# Ctrl-C as a miner started from a terminal gets it: a process started in the background by
# a shell without job control (as CI may be) inherits SIGINT ignored, which Python and the
# axon leave alone.
signal.signal(signal.SIGINT, signal.default_int_handler)

import bittensor.utils.networking as networking

networking.get_external_ip = lambda: "127.0.0.1"

import bittensor as bt  # noqa: E402
from bittensor_wallet import Wallet  # noqa: E402

import axon_rs  # noqa: E402

kind, port, path, gate = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


class Hold(bt.Synapse):
    done: bool = False


def hold(synapse: Hold) -> Hold:
    print("entered", flush=True)
    while not os.path.exists(gate):
        time.sleep(0.01)
    synapse.done = True
    return synapse


wallet = Wallet(name="miner", hotkey="default", path=path)
make = axon_rs.Axon if kind == "axon_rs" else bt.Axon
axon = make(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1")
axon.attach(forward_fn=hold)
axon.start()
print("listening", flush=True)
while True:
    time.sleep(1)
