"""SIGTERM to a miner sleeping in its main loop, while a request is in its forward."""

import asyncio
import os
import signal
import subprocess
import sys
import threading

import bittensor as bt
from conftest import free_port
from test_side_by_side import call, listening

HERE = os.path.dirname(os.path.abspath(__file__))


class Hold(bt.Synapse):
    done: bool = False


def signal_during_a_call(kind, signum, wallet, caller, tmp_path):
    """What the in-flight call got, and how the process ended."""
    port = free_port()
    gate = tmp_path / f"gate-{kind}-{signum}"
    # faulthandler: a miner that does not end is made to show where its threads are.
    miner = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", os.path.join(HERE, "sigterm_miner.py"), kind,
         str(port), wallet.path, str(gate)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        assert miner.stdout.readline().strip() == "listening", miner.stderr.read()
        listening(port)
        target = bt.AxonInfo(version=10005000, ip="127.0.0.1", port=port, ip_type=4,
                             hotkey=wallet.hotkey.ss58_address, coldkey="")
        answer = {}
        in_flight = threading.Thread(target=lambda: answer.update(s=call(caller, target, Hold(), timeout=60)))
        in_flight.start()
        assert miner.stdout.readline().strip() == "entered"
        miner.send_signal(signum)
        # Released only after the signal: whatever the process does with the request, it
        # has the signal first.
        gate.write_text("go")
        in_flight.join(60)
        try:
            code = miner.wait(timeout=60)
        except subprocess.TimeoutExpired:
            miner.send_signal(signal.SIGABRT)
            _, threads = miner.communicate(timeout=30)
            raise AssertionError(f"the {kind} miner did not end within 60 s of signal "
                                 f"{signum} (call answered: {'s' in answer}); its threads:\n"
                                 f"{threads}") from None
        s = answer["s"]
        return {"status": s.dendrite.status_code, "done": s.done, "exit": code}
    finally:
        if miner.poll() is None:
            miner.kill()
            miner.wait()


def test_sigterm_drains_then_ends_the_process(wallet, caller, tmp_path):
    ours = signal_during_a_call("axon_rs", signal.SIGTERM, wallet, caller, tmp_path)
    assert ours == {"status": 200, "done": True, "exit": 0}
    # bittensor's axon installs nothing: SIGTERM kills the process with the request in it.
    theirs = signal_during_a_call("bittensor", signal.SIGTERM, wallet, caller, tmp_path)
    assert theirs["exit"] == -signal.SIGTERM
    assert theirs["status"] != 200 and theirs["done"] is False


def test_ctrl_c_drains_then_raises_keyboard_interrupt(wallet, caller, tmp_path):
    ours = signal_during_a_call("axon_rs", signal.SIGINT, wallet, caller, tmp_path)
    # The request is answered; then the KeyboardInterrupt the miner did not catch ends it as
    # Python ends on one: by SIGINT.
    assert ours == {"status": 200, "done": True, "exit": -signal.SIGINT}
