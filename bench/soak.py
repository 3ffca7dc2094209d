"""The memory soak: the Rust echo miner under signed load for ten minutes, every request
from a new dendrite uuid (a new replay-store entry), its resident memory sampled throughout.

    .venv-bt/bin/python bench/soak.py [--minutes 10] [--connections 16] [--payload 1024]

(any Python 3 works: it needs no package.) It builds the release binaries, starts
`echo_miner` on loopback, drives it with `examples/loadgen --fresh-uuids true`, reads the
server's VmRSS from /proc every 10 s, and prints the samples and a summary: requests (= distinct
uuids), req/s, the statuses, and RSS after the first minute (the replay window filling),
at its peak and at the end. Bounded memory shows as an RSS that stops growing once the
window of live nonces (4 s + the synapse timeout, 12 s here) is full.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: the shared helpers)

RELEASE = os.path.join(ROOT, "target", "release", "examples")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--payload", type=int, default=1024)
    ap.add_argument("--port", type=int, default=18391)
    args = ap.parse_args()
    run.build()
    server = subprocess.Popen([os.path.join(RELEASE, "echo_miner"), "--axon.port", str(args.port)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    hotkey = None
    for line in server.stdout:
        if line.startswith("echo_miner: hotkey "):
            hotkey = line.split()[2]
        if line.startswith("echo_miner: listening on"):
            break
    if hotkey is None:
        sys.exit("echo_miner did not start")
    seconds = args.minutes * 60
    result = {}

    def drive():
        out = subprocess.run(
            [os.path.join(RELEASE, "loadgen"), "--target", f"127.0.0.1:{args.port}",
             "--hotkey", hotkey, "--connections", str(args.connections),
             "--payload", str(args.payload), "--duration", str(seconds),
             "--fresh-uuids", "true"],
            check=True, capture_output=True, text=True)
        result.update(json.loads(out.stdout.strip().splitlines()[-1]))

    load = threading.Thread(target=drive)
    start = time.monotonic()
    idle = rss_mb(server.pid)
    load.start()
    samples = []
    print(f"idle RSS {idle:.1f} MB")
    print("| t (s) | RSS (MB) |\n|---:|---:|")
    while load.is_alive():
        load.join(timeout=10)
        t = time.monotonic() - start
        samples.append((t, rss_mb(server.pid)))
        print(f"| {t:.0f} | {samples[-1][1]:.1f} |", flush=True)
    server.terminate()
    server.wait()
    after_warmup = [r for t, r in samples if t >= 60]
    print()
    print(json.dumps({
        "requests_distinct_uuids": result.get("requests"),
        "rps": result.get("rps"),
        "statuses": result.get("statuses"),
        "rss_idle_mb": round(idle, 1),
        "rss_at_1min_mb": round(after_warmup[0], 1) if after_warmup else None,
        "rss_peak_mb": round(max(r for _, r in samples), 1),
        "rss_end_mb": round(samples[-1][1], 1),
    }))


if __name__ == "__main__":
    main()
