"""Signed load under a forged-signature flood: the Rust echo miner and the Python
bittensor 10.5.0 axon, each measured quiet and then flooded, in the same run; then the
Rust miner's signed-HTTP endpoint under keyless slow bodies.

    .venv-bt/bin/python bench/flood.py [--duration 5] [--flood 256] [--connections 16]
                                       [--slow 1040] [--binary /path/to/another/echo_miner]

The genuine load (`examples/loadgen`, 1 KB, `--connections` dendrites) comes from
127.0.0.2. The flood comes from 127.0.0.1: `--flood` connections (256 is the Rust axon's
default share of one address) sending requests under the load generator's hotkeys with
another key's signature, one after another as fast as they are refused, so every one of
them costs the axon a signature check. Prints a Markdown table: the genuine load's req/s,
p50 and p99, quiet and flooded, and the forged requests refused per second.

The slow-body row: `--slow` connections from 127.0.0.3-7 each send a btauth/1 request to
`POST /echo` with a fresh nonce, the right receiver and a garbage signature, declare a
1,000-byte body and send 10 bytes of it; answered (408 at the body timeout), each comes
back at once. The genuine load is `loadgen --scheme btauth` from 127.0.0.2. The Python
axon has no row: bittensor 10.5.0's axon serves no signed-HTTP endpoint, and bittensor 11
ships no server.
"""

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time

import run  # bench/run.py: the shared helpers


def flood_start(port, hotkey, connections, duration):
    return subprocess.Popen(
        [f"{run.RELEASE}/loadgen", "--target", f"127.0.0.1:{port}", "--hotkey", hotkey,
         "--forge", "true", "--source", "127.0.0.1", "--connections", str(connections),
         "--duration", str(duration), "--timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def genuine(port, hotkey, connections, duration):
    return run.loadgen("--target", f"127.0.0.1:{port}", "--hotkey", hotkey, "--source",
                       "127.0.0.2", "--connections", connections, "--payload", 1024,
                       "--duration", duration)


def slow_bodies(port, receiver, connections, stop, answered):
    """Keeps `connections` keyless slow bodies in flight against `POST /echo` until `stop`
    is set; counts the answers by status in `answered`."""
    from bittensor_wallet import Keypair

    sender = Keypair.create_from_uri("//Bob").ss58_address

    def head():
        return (f"POST /echo HTTP/1.1\r\nhost: axon\r\nconnection: close\r\n"
                f"content-type: application/json\r\ncontent-length: 1000\r\n"
                f"X-Bittensor-Version: 1\r\nX-Bittensor-Hotkey: {sender}\r\n"
                f"X-Bittensor-Nonce: {time.time_ns()}\r\nX-Bittensor-Receiver: {receiver}\r\n"
                f"X-Bittensor-Signature: 0x{'ab' * 64}\r\n\r\n" + " " * 10).encode()

    async def one(i):
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, local_addr=(f"127.0.0.{3 + i % 5}", 0))
                writer.write(head())
                await writer.drain()
                parts = (await reader.read(64)).split(b" ", 2)
                status = parts[1].decode() if len(parts) > 1 else "closed"
                writer.close()
            except OSError as e:
                status = type(e).__name__
            answered[status] = answered.get(status, 0) + 1

    async def all_of_them():
        await asyncio.gather(*(one(i) for i in range(connections)), return_exceptions=True)

    asyncio.run(all_of_them())


def slow_body_row(port, hotkey, connections, slow, duration):
    """The genuine btauth/1 load quiet, then under `slow` keyless slow bodies."""
    def btauth():
        return run.loadgen("--target", f"127.0.0.1:{port}", "--hotkey", hotkey, "--source",
                           "127.0.0.2", "--connections", connections, "--payload", 1024,
                           "--duration", duration, "--scheme", "btauth")

    quiet = btauth()
    stop, answered = threading.Event(), {}
    attack = threading.Thread(target=slow_bodies, args=(port, hotkey, slow, stop, answered))
    attack.start()
    time.sleep(1)
    attacked = btauth()
    stop.set()
    attack.join()
    print(f"# slow bodies: quiet {quiet['rps']:.0f} req/s p99 {quiet['p99_ms']:.2f} ms; "
          f"attacked {attacked['rps']:.0f} req/s p99 {attacked['p99_ms']:.2f} ms "
          f"{attacked['statuses']}; slow answered {answered}", file=sys.stderr, flush=True)
    return quiet, attacked, answered


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--flood", type=int, default=256)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--slow", type=int, default=1040)
    ap.add_argument("--binary", help="another echo_miner build to measure (see bench/ab.py)")
    a = ap.parse_args()

    run.build()
    rust = run.start_rust(18391, binary=a.binary)
    py = run.start_python(18392)
    rows = []
    try:
        for name, (proc, hotkey), port in [("Rust", rust, 18391), ("Python", py, 18392)]:
            quiet = genuine(port, hotkey, a.connections, a.duration)
            # The flood runs a second longer on each side of the measured load.
            flood = flood_start(port, hotkey, a.flood, a.duration + 2)
            time.sleep(1)
            flooded = genuine(port, hotkey, a.connections, a.duration)
            forged = json.loads(flood.communicate()[0].strip().splitlines()[-1])
            rows.append((name, quiet, flooded, forged))
            if name == "Rust":
                slow = slow_body_row(port, hotkey, a.connections, a.slow, a.duration)
            print(f"# {name}: quiet {quiet['rps']:.0f} req/s p99 {quiet['p99_ms']:.2f} ms; "
                  f"flooded {flooded['rps']:.0f} req/s p99 {flooded['p99_ms']:.2f} ms "
                  f"{flooded['statuses']}; forged {forged['statuses']}",
                  file=sys.stderr, flush=True)
    finally:
        rust[0].terminate()
        py[0].stdin.close()
        try:
            py[0].wait(timeout=30)
        except subprocess.TimeoutExpired:  # still working through the flood's backlog
            py[0].kill()
        rust[0].wait(timeout=30)

    print(f"{time.strftime('%Y-%m-%d')}; {a.connections} genuine connections from 127.0.0.2, "
          f"1 KB; {a.flood} forging connections from 127.0.0.1; {a.duration:g} s per cell.")
    print()
    print("| axon | quiet req/s | quiet p50 / p99 ms | flooded req/s | flooded p50 / p99 ms "
          "| forged refused /s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, quiet, flooded, forged in rows:
        print(f"| {name} | {quiet['rps']:.0f} | {quiet['p50_ms']:.2f} / {quiet['p99_ms']:.2f} | "
              f"{flooded['rps']:.0f} | {flooded['p50_ms']:.2f} / {flooded['p99_ms']:.2f} | "
              f"{forged['rps']:.0f} |")
    quiet, attacked, answered = slow
    print()
    print(f"Signed HTTP (`loadgen --scheme btauth`, {a.connections} connections, 1 KB) under "
          f"{a.slow} keyless slow bodies from 127.0.0.3-7:")
    print()
    print("| axon | quiet req/s | quiet p50 / p99 ms | attacked req/s | attacked p50 / p99 ms "
          "| slow bodies answered |")
    print("|---|---:|---:|---:|---:|---|")
    print(f"| Rust | {quiet['rps']:.0f} | {quiet['p50_ms']:.2f} / {quiet['p99_ms']:.2f} | "
          f"{attacked['rps']:.0f} | {attacked['p50_ms']:.2f} / {attacked['p99_ms']:.2f} | "
          f"{answered} |")
    print("| Python | no signed-HTTP endpoint in bittensor 10.5.0's axon; no server in 11 | | | | |")


if __name__ == "__main__":
    main()
