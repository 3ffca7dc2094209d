"""A Python miner on bittensor 10.5.0's `Axon` and on `axon_rs.Axon`: the same forward and
blacklist (bench/python_miner_server.py), the same signed load (`examples/loadgen`), the
same run.

    .venv-bt/bin/python bench/python_miner.py [--duration 5] [--connections 16,64]
                                              [--flood 256] [--no-install]

It installs `axon_rs` from this checkout into the running interpreter's environment
(release build; `--no-install` keeps the installed one), builds the release load generator
and bare server, and for each connection count at 1 KB prints req/s, p50/p99 and each
server's CPU time per answered request (from /proc), with two floors measured in the same
run: the crypto floor (one sr25519 verify plus one sign, which every served request costs
an axon) and the bare hyper + serde_json server on the same load (`examples/bare`, no
signature work, no Python). Then the genuine caller's p99 under a forged-signature flood
(`--flood` connections from 127.0.0.1, the genuine load from 127.0.0.2), quiet and flooded,
for both.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import flood  # bench/flood.py
import run  # bench/run.py: the shared helpers

SERVER = os.path.join(run.ROOT, "bench", "python_miner_server.py")


def install():
    """Installs axon_rs from this checkout, built in release, into this environment."""
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--force-reinstall",
                    "--no-deps", "--disable-pip-version-check", os.path.join(run.ROOT, "python")],
                   check=True)


def start(kind, port):
    p = subprocess.Popen([sys.executable, SERVER, kind, str(port)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    ready = json.loads(p.stdout.readline())
    return p, ready["hotkey"]


def measure(name, proc, port, hotkey, conns, duration, source=None):
    before = run.cpu_seconds(proc.pid)
    extra = ("--source", source) if source else ()
    r = run.loadgen("--target", f"127.0.0.1:{port}", "--hotkey", hotkey, "--connections", conns,
                    "--payload", 1024, "--duration", duration, *extra)
    used = run.cpu_seconds(proc.pid) - before
    r["cpu_us_per_req"] = used / r["ok"] * 1e6 if r["ok"] else float("nan")
    print(f"# {name:9} {conns:>3} conns: {r['rps']:8.1f} req/s p50 {r['p50_ms']:.2f} ms "
          f"p99 {r['p99_ms']:.2f} ms cpu {r['cpu_us_per_req']:.0f} us/req {r['statuses']}",
          file=sys.stderr, flush=True)
    return r


def flooded(name, proc, port, hotkey, conns, floods, duration):
    """The genuine load's result while `floods` forged connections run."""
    f = flood.flood_start(port, hotkey, floods, duration + 2)
    time.sleep(1)  # the flood is under way before the genuine load starts
    r = measure(f"{name}+flood", proc, port, hotkey, conns, duration, source="127.0.0.2")
    out, _ = f.communicate(timeout=duration + 60)
    forged = json.loads(out.strip().splitlines()[-1])
    r["forged_per_s"] = forged.get("statuses", {}).get("401", 0) / (duration + 2)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--connections", default="16,64")
    ap.add_argument("--flood", type=int, default=256)
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--bittensor-port", type=int, default=18291)
    ap.add_argument("--axon-rs-port", type=int, default=18292)
    ap.add_argument("--bare-port", type=int, default=18293)
    ap.add_argument("--keypair-port", type=int, default=18294)
    a = ap.parse_args()

    run.build()
    if not a.no_install:
        install()
    py, py_hotkey = start("bittensor", a.bittensor_port)
    rs, rs_hotkey = start("axon_rs", a.axon_rs_port)
    kp, kp_hotkey = start("axon_rs_keypair", a.keypair_port)
    bare = run.start_bare(a.bare_port)
    rows = []
    try:
        for conns in map(int, a.connections.split(",")):
            cell = {"connections": conns,
                    "floor": run.loadgen("--crypto-floor", 2000)["crypto_floor_us"],
                    "python": measure("bittensor", py, a.bittensor_port, py_hotkey, conns, a.duration),
                    "rs": measure("axon_rs", rs, a.axon_rs_port, rs_hotkey, conns, a.duration),
                    "kp": measure("keypair", kp, a.keypair_port, kp_hotkey, conns, a.duration),
                    "bare": measure("bare", bare, a.bare_port, rs_hotkey, conns, a.duration)}
            rows.append(cell)
        conns = int(a.connections.split(",")[0])
        quiet_py = measure("bittensor", py, a.bittensor_port, py_hotkey, conns, a.duration, "127.0.0.2")
        loud_py = flooded("bittensor", py, a.bittensor_port, py_hotkey, conns, a.flood, a.duration)
        quiet_rs = measure("axon_rs", rs, a.axon_rs_port, rs_hotkey, conns, a.duration, "127.0.0.2")
        loud_rs = flooded("axon_rs", rs, a.axon_rs_port, rs_hotkey, conns, a.flood, a.duration)
    finally:
        for p in (py, rs, kp):
            p.stdin.close()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:  # bittensor's stop can hang after a flood
                p.kill()
                p.wait(timeout=30)
        bare.terminate()
        bare.wait(timeout=30)

    print(f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores; {a.duration:g} s per cell, 1 KB "
          "payload; load generator on the same cores.")
    print()
    print("| conns | axon_rs req/s | bittensor req/s | ratio | axon_rs p50 / p99 ms | "
          "bittensor p50 / p99 ms | axon_rs CPU us/req | bittensor CPU us/req | "
          "crypto floor us | bare server us | axon_rs CPU / (crypto + bare) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in rows:
        r, p, b = c["rs"], c["python"], c["bare"]
        ratio = r["rps"] / p["rps"] if p["rps"] else float("inf")
        floor = c["floor"] + b["cpu_us_per_req"]
        print(f"| {c['connections']} | {r['rps']:.0f} | {p['rps']:.0f} | {ratio:.1f}x | "
              f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} | {p['p50_ms']:.2f} / {p['p99_ms']:.2f} | "
              f"{r['cpu_us_per_req']:.0f} | {p['cpu_us_per_req']:.0f} | {c['floor']:.0f} | "
              f"{b['cpu_us_per_req']:.0f} | {r['cpu_us_per_req'] / floor:.2f}x |")
    print()
    print("The same axon_rs miner with a wallet that only holds keypairs (each answer signed by "
          "the Python keypair's `sign`, with the GIL):")
    print()
    print("| conns | keyfile req/s | keypair req/s | keyfile CPU us/req | keypair CPU us/req | added us/req |")
    print("|---:|---:|---:|---:|---:|---:|")
    for c in rows:
        r, k = c["rs"], c["kp"]
        print(f"| {c['connections']} | {r['rps']:.0f} | {k['rps']:.0f} | {r['cpu_us_per_req']:.0f} | "
              f"{k['cpu_us_per_req']:.0f} | {k['cpu_us_per_req'] - r['cpu_us_per_req']:+.0f} |")
    print()
    print(f"Under a flood of {a.flood} forged connections, {conns} genuine connections:")
    print()
    print("| server | quiet req/s | quiet p99 ms | flooded req/s | flooded p99 ms | p99 ratio | forged refused/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, q, l in (("axon_rs", quiet_rs, loud_rs), ("bittensor", quiet_py, loud_py)):
        print(f"| {name} | {q['rps']:.0f} | {q['p99_ms']:.2f} | {l['rps']:.0f} | {l['p99_ms']:.2f} | "
              f"{l['p99_ms'] / q['p99_ms']:.1f}x | {l['forged_per_s']:.0f} |")


if __name__ == "__main__":
    main()
