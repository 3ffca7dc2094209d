"""The operator at a terminal, for tests/wallet.rs: starts MINER (subnet_miner) on the
encrypted hotkey `locked` of the wallet at PATH, without the hotkey's password VARIABLE, twice.

1. On a pty, with stdin redirected from /dev/null (as a process manager does): waits for the
   prompt, then for the terminal's echo to be off, types PASSWORD, and reads until the miner
   says where it listens.
2. With no controlling terminal at all (a new session, stdin /dev/null): waits for its exit.

Usage: prompt.py MINER PATH PASSWORD VARIABLE. Prints JSON: what the terminal showed, whether
the echo was off when the password was typed, and the exit status and stderr of the second
run. Every wait has a deadline."""

import json
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time

miner, path, password, variable = sys.argv[1:5]
args = [miner, "--wallet.path", path, "--wallet.name", "miner", "--wallet.hotkey", "locked",
        "--axon.ip", "127.0.0.1", "--axon.port", "0"]
env = {k: v for k, v in os.environ.items() if k != variable}


def read_until(fd, needle, seconds):
    """What the terminal shows until `needle` (or the deadline, or the end)."""
    out = b""
    deadline = time.monotonic() + seconds
    while needle not in out:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def echo_goes_off(fd, seconds):
    """Whether the terminal's ECHO flag is cleared within the deadline (rpassword clears it
    after printing the prompt)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not termios.tcgetattr(fd)[3] & termios.ECHO:
            return True
        time.sleep(0.01)
    return False


pid, fd = pty.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.execve(miner, args, env)
shown = read_until(fd, b": ", 60)
echo_off = echo_goes_off(fd, 30)
os.write(fd, password.encode() + b"\n")
shown += read_until(fd, b"listening on", 180)
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
os.close(fd)

detached = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          start_new_session=True, timeout=120)
print(json.dumps({
    "terminal": shown.decode("utf-8", "replace"),
    "echo_off": echo_off,
    "detached_status": detached.returncode,
    "detached": detached.stderr.decode("utf-8", "replace"),
}))
