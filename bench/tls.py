"""TLS against plain HTTP on the same axon and port: the release echo miner with
`--axon.tls_generate`, driven by `examples/loadgen` over plain HTTP and over TLS (pinning the
generated key, as a validator pins the key published on chain), with kept-alive connections
and with a new connection, so a new handshake, per request; the same run.

    python3 bench/tls.py [--duration 5] [--connections 16]

Prints req/s, p50/p99 and the server's CPU time per answered request (from /proc), and the
crypto floor (one sr25519 verify plus one sign) measured in the same run.

Then a handshake flood: `--flood` `openssl s_time -new` processes (Debian's `openssl`) on
127.0.0.1, each making full TLS handshakes one after another and closing, as fast as the axon
completes them. The genuine load (kept alive, plain and TLS) comes from 127.0.0.2 and is
measured quiet and flooded; the table gives its req/s and p50/p99, the handshakes per second
the flood completed, and the server's CPU per handshake.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import run  # bench/run.py: the shared helpers


def handshake_flood(port, processes, seconds):
    """`processes` `openssl s_time -new` runs against the axon for `seconds`."""
    return [subprocess.Popen(["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-new",
                              "-time", str(seconds)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for _ in range(processes)]


def handshakes_per_second(flood):
    """The handshakes the flood completed per second (from s_time's reports), and the
    flood's own CPU seconds (from its processes' rusage)."""
    total, cpu = 0.0, 0.0
    for p in flood:
        out = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
        m = re.search(r"(\d+) connections in ([\d.]+) real seconds", out)
        if not m:
            raise SystemExit(f"openssl s_time printed no count:\n{out[-500:]}")
        total += int(m.group(1)) / float(m.group(2))
    return total, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--port", type=int, default=18491)
    ap.add_argument("--flood", type=int, default=4, help="openssl s_time processes")
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
        flooded = []
        for name, extra in (("plain, kept alive", ()),
                            ("TLS, kept alive", ("--tls-dir", tls_dir))):
            def genuine():
                return run.loadgen("--target", f"127.0.0.1:{a.port}", "--hotkey", hotkey,
                                   "--source", "127.0.0.2", "--connections", a.connections,
                                   "--payload", 1024, "--duration", a.duration, *extra)
            quiet = genuine()
            # The flood runs a second longer on each side of the measured load.
            flood = handshake_flood(a.port, a.flood, int(a.duration + 2))
            time.sleep(1)
            before = run.cpu_seconds(miner.pid)
            under = genuine()
            used = run.cpu_seconds(miner.pid) - before
            rate, flood_cpu = handshakes_per_second(flood)
            # s_time's "real seconds" span its whole run; the count is the rate over it.
            client_us = flood_cpu * 1e6 / (rate * int(a.duration + 2)) if rate else float("nan")
            # The server's CPU beyond the genuine answers' (at their quiet cost), per
            # handshake completed meanwhile.
            per_req = dict(rows)[name]["cpu_us_per_req"]
            extra_us = used * 1e6 - under["ok"] * per_req
            per_handshake = extra_us / (rate * a.duration) if rate else float("nan")
            print(f"# flood {name:20} quiet {quiet['rps']:.0f} req/s p99 {quiet['p99_ms']:.2f} "
                  f"ms; flooded {under['rps']:.0f} req/s p99 {under['p99_ms']:.2f} ms "
                  f"{under['statuses']}; {rate:.0f} handshakes/s, ~{per_handshake:.0f} us each (the flood's "
                  f"own CPU: {client_us:.0f} us each)",
                  file=sys.stderr, flush=True)
            flooded.append((name, quiet, under, rate, per_handshake, client_us))
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
    print()
    print(f"Under a handshake flood: {a.flood} `openssl s_time -new` processes on 127.0.0.1; "
          f"the genuine load from 127.0.0.2.")
    print()
    print("| genuine load | quiet req/s | quiet p50 / p99 ms | flooded req/s "
          "| flooded p50 / p99 ms | handshakes/s | server CPU us/handshake "
          "| flood's CPU us/handshake |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, quiet, under, rate, per_handshake, client_us in flooded:
        print(f"| {name} | {quiet['rps']:.0f} | {quiet['p50_ms']:.2f} / {quiet['p99_ms']:.2f} "
              f"| {under['rps']:.0f} | {under['p50_ms']:.2f} / {under['p99_ms']:.2f} "
              f"| {rate:.0f} | {per_handshake:.0f} | {client_us:.0f} |")


if __name__ == "__main__":
    main()
