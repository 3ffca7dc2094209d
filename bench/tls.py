"""TLS against plain HTTP on the same axon and port, then handshake floods.

    python3 bench/tls.py [--duration 5] [--connections 16] [--flood 64]

The release echo miner runs with `--axon.tls_generate`, driven by `examples/loadgen`. Every
number below comes from the same run.

Cost rows: loadgen calls over plain HTTP and over TLS (pinning the generated key, as a
validator pins the key published on chain), with kept-alive connections and with a new
connection (so a new handshake) per request. This miner's handshake budgets are lifted
(`--tls-handshakes-per-address` and `--tls-handshakes-per-second` 1000000), so the rows
measure the handshake itself. Printed:
req/s, p50/p99, the server's CPU time per answered request (from /proc), and the crypto floor
(one sr25519 verify plus one sign).

Floods: a second miner with the default budgets (64 handshakes a second per address, after
a burst of 256; 1,000 a second per core from all addresses). `loadgen --handshakes true` opens `--flood` connections, each making TLS
handshakes one after another and closing them, with no request:
- from one address (127.0.0.1), where the budget binds;
- from `--flood` addresses (127.1.0.x), where the overall budget binds;
- from `--flood` addresses against the first miner, whose budgets are lifted.

The genuine load (kept alive, plain and TLS) comes from 127.0.0.2. It is measured quiet and
flooded. Printed: its req/s and p50/p99, the handshakes completed and refused per second, the
cores the axon spent on the flood (its CPU beyond the genuine answers' quiet cost), and the
cores the flood itself used (on this machine, taken from the same cores).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import run  # bench/run.py: the shared helpers


def measured(miner, *args):
    """A loadgen run, with the miner's CPU per answered request."""
    before = run.cpu_seconds(miner.pid)
    r = run.loadgen(*args)
    used = run.cpu_seconds(miner.pid) - before
    r["cpu_us_per_req"] = used / r["ok"] * 1e6 if r["ok"] else float("nan")
    r["cpu_s"] = used
    return r


def flood_start(port, hotkey, tls_dir, connections, seconds, spread):
    where = ["--spread", str(connections)] if spread else ["--source", "127.0.0.1"]
    return subprocess.Popen(
        [os.path.join(run.RELEASE, "loadgen"), "--target", f"127.0.0.1:{port}", "--hotkey",
         hotkey, "--tls-dir", tls_dir, "--handshakes", "true", "--connections",
         str(connections), "--duration", str(seconds), *where],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def flood_result(flood):
    """The flood's JSON line, and its own CPU seconds (from its rusage)."""
    out = flood.stdout.read()
    _, status, usage = os.wait4(flood.pid, 0)
    flood.returncode = os.waitstatus_to_exitcode(status)
    if flood.returncode != 0:
        raise SystemExit(f"loadgen --handshakes failed ({flood.returncode}):\n{out[-500:]}")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--flood", type=int, default=64, help="flooding connections")
    ap.add_argument("--port", type=int, default=18491)
    a = ap.parse_args()

    run.build()
    tls_dir = tempfile.mkdtemp(prefix="axon-bench-tls-")
    unbudgeted, hotkey = run.start_rust(a.port, "--axon.tls_generate", "--axon.tls_dir", tls_dir,
                                        "--tls-handshakes-per-address", "1000000",
                                        "--tls-handshakes-per-second", "1000000")
    budgeted, _ = run.start_rust(a.port + 1, "--axon.tls_generate", "--axon.tls_dir", tls_dir)
    rows, floods = [], []
    try:
        floor = run.loadgen("--crypto-floor", 2000)["crypto_floor_us"]
        for name, extra in (
            ("plain, kept alive", ()),
            ("TLS, kept alive", ("--tls-dir", tls_dir)),
            ("plain, new connection each", ("--new-connection", "true")),
            ("TLS, new connection each", ("--tls-dir", tls_dir, "--new-connection", "true")),
        ):
            r = measured(unbudgeted, "--target", f"127.0.0.1:{a.port}", "--hotkey", hotkey,
                         "--connections", a.connections, "--payload", 1024,
                         "--duration", a.duration, *extra)
            print(f"# {name:28} {r['rps']:8.1f} req/s p50 {r['p50_ms']:.2f} ms "
                  f"p99 {r['p99_ms']:.2f} ms cpu {r['cpu_us_per_req']:.0f} us/req {r['statuses']}",
                  file=sys.stderr, flush=True)
            rows.append((name, r))

        plain, tls = ("plain, kept alive", ()), ("TLS, kept alive", ("--tls-dir", tls_dir))
        flood_cases = [
            ("one address", False, budgeted, a.port + 1, (plain, tls)),
            (f"{a.flood} addresses", True, budgeted, a.port + 1, (plain, tls)),
            # The same flood with the budgets lifted: what they save.
            (f"{a.flood} addresses, budgets lifted", True, unbudgeted, a.port, (plain,)),
        ]
        for source, spread, miner, port, loads in flood_cases:
            for name, extra in loads:
                def genuine():
                    return measured(miner, "--target", f"127.0.0.1:{port}", "--hotkey",
                                    hotkey, "--source", "127.0.0.2", "--connections",
                                    a.connections, "--payload", 1024, "--duration", a.duration,
                                    *extra)
                quiet = genuine()
                # The flood runs a second longer on each side of the measured load.
                flood = flood_start(port, hotkey, tls_dir, a.flood, a.duration + 2, spread)
                time.sleep(1)
                under = genuine()
                made, flood_cpu = flood_result(flood)
                done = made["statuses"].get("200", 0) / made["seconds"]
                refused = made["statuses"].get("0", 0) / made["seconds"]
                # The axon's CPU beyond the genuine answers' (at their quiet cost), in cores.
                beyond = under["cpu_s"] - under["ok"] * quiet["cpu_us_per_req"] / 1e6
                server_cores = beyond / under["seconds"]
                client_cores = flood_cpu / made["seconds"]
                print(f"# flood from {source:30} {name:18} quiet {quiet['rps']:.0f} req/s p99 "
                      f"{quiet['p99_ms']:.2f} ms; flooded {under['rps']:.0f} req/s p99 "
                      f"{under['p99_ms']:.2f} ms {under['statuses']}; {done:.0f} handshakes/s "
                      f"done, {refused:.0f}/s refused; axon {server_cores:.2f} cores on it, "
                      f"flood {client_cores:.2f} cores", file=sys.stderr, flush=True)
                floods.append((source, name, quiet, under, done, refused, server_cores,
                               client_cores))
    finally:
        for miner in (unbudgeted, budgeted):
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
    print(f"Handshake floods ({a.flood} connections, `loadgen --handshakes true`), the "
          f"default budgets unless lifted; the genuine load from 127.0.0.2:")
    print()
    print("| flood from | genuine load | quiet req/s | quiet p50 / p99 ms | flooded req/s "
          "| flooded p50 / p99 ms | handshakes/s done | refused/s | axon's cores on the flood "
          "| flood's own cores |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for source, name, quiet, under, done, refused, server_cores, client_cores in floods:
        print(f"| {source} | {name} | {quiet['rps']:.0f} | {quiet['p50_ms']:.2f} / "
              f"{quiet['p99_ms']:.2f} | {under['rps']:.0f} | {under['p50_ms']:.2f} / "
              f"{under['p99_ms']:.2f} | {done:.0f} | {refused:.0f} | {server_cores:.2f} "
              f"| {client_cores:.2f} |")


if __name__ == "__main__":
    main()
