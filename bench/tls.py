"""TLS against plain HTTP on the same axon and port: the release echo miner with
`--axon.tls_generate`, driven by `examples/loadgen` over plain HTTP and over TLS (pinning the
generated key, as a validator pins the key published on chain), with kept-alive connections
and with a new connection, so a new handshake, per request; the same run.

    python3 bench/tls.py [--duration 5] [--connections 16]

Prints req/s, p50/p99 and the server's CPU time per answered request (from /proc), and the
crypto floor (one sr25519 verify plus one sign) measured in the same run.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

import run  # bench/run.py: the shared helpers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--port", type=int, default=18491)
    a = ap.parse_args()

    run.build()
    tls_dir = tempfile.mkdtemp(prefix="axon-bench-tls-")
    miner, hotkey = run.start_rust(a.port, "--axon.tls_generate", "--axon.tls_dir", tls_dir)
    rows = []
    try:
        floor = run.loadgen("--crypto-floor", 2000)["crypto_floor_us"]
        for name, extra in (
            ("plain, kept alive", ()),
            ("TLS, kept alive", ("--tls-dir", tls_dir)),
            ("plain, new connection each", ("--new-connection", "true")),
            ("TLS, new connection each", ("--tls-dir", tls_dir, "--new-connection", "true")),
        ):
            before = run.cpu_seconds(miner.pid)
            r = run.loadgen("--target", f"127.0.0.1:{a.port}", "--hotkey", hotkey,
                            "--connections", a.connections, "--payload", 1024,
                            "--duration", a.duration, *extra)
            used = run.cpu_seconds(miner.pid) - before
            r["cpu_us_per_req"] = used / r["ok"] * 1e6 if r["ok"] else float("nan")
            print(f"# {name:28} {r['rps']:8.1f} req/s p50 {r['p50_ms']:.2f} ms "
                  f"p99 {r['p99_ms']:.2f} ms cpu {r['cpu_us_per_req']:.0f} us/req {r['statuses']}",
                  file=sys.stderr, flush=True)
            rows.append((name, r))
    finally:
        miner.terminate()
        miner.wait(timeout=30)
        shutil.rmtree(tls_dir, ignore_errors=True)

    print(f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores; {a.duration:g} s per row, "
          f"{a.connections} connections, 1 KB `Echo`; load generator on the same cores; "
          f"crypto floor {floor:.0f} us.")
    print()
    print("| transport | req/s | p50 / p99 ms | server CPU us/req |")
    print("|---|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.2f} / {r['p99_ms']:.2f} | "
              f"{r['cpu_us_per_req']:.0f} |")


if __name__ == "__main__":
    main()
