"""Signed load under a forged-signature flood: the Rust echo miner and the Python
bittensor 10.5.0 axon, each measured quiet and then flooded, in the same run.

    .venv-bt/bin/python bench/flood.py [--duration 5] [--flood 256] [--connections 16]
                                       [--binary /path/to/another/echo_miner]

The genuine load (`examples/loadgen`, 1 KB, `--connections` dendrites) comes from
127.0.0.2. The flood comes from 127.0.0.1: `--flood` connections (256 is the Rust axon's
default share of one address) sending requests under the load generator's hotkeys with
another key's signature, one after another as fast as they are refused, so every one of
them costs the axon a signature check. Prints a Markdown table: the genuine load's req/s,
p50 and p99, quiet and flooded, and the forged requests refused per second.
"""

import argparse
import json
import subprocess
import sys
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--flood", type=int, default=256)
    ap.add_argument("--connections", type=int, default=16)
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


if __name__ == "__main__":
    main()
