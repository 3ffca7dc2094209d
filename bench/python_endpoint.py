"""A signed-HTTP endpoint written in Python: on `axon_rs.Axon` against the same function in
bittensor 11's own recipe (FastAPI + `http_auth.verify`, under uvicorn), the same btauth/1
load (`examples/loadgen --scheme btauth`, each request freshly signed), the same run.

    .venv-bt11/bin/python bench/python_endpoint.py [--duration 5] [--connections 16,64]
                                                  [--no-install]

It installs `axon_rs` from this checkout (release build; `--no-install` keeps the installed
one) and FastAPI and uvicorn when missing into the running interpreter's environment, builds
the release load generator and bare server, and for each connection count prints req/s,
p50/p99 and each server's CPU time per answered request (from /proc), with the floors
measured in the same run: the crypto floor (one sr25519 verify plus one sign) and the bare
hyper + serde_json server on the same load (`examples/bare`).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import run  # bench/run.py: the shared helpers

SERVER = os.path.join(run.ROOT, "bench", "python_endpoint_server.py")


def install(no_install):
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        subprocess.run([*pip, "fastapi", "uvicorn"], check=True)
    if not no_install:
        subprocess.run([*pip, "--force-reinstall", "--no-deps", os.path.join(run.ROOT, "python")],
                       check=True)


def start(kind, port):
    p = subprocess.Popen([sys.executable, SERVER, kind, str(port)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    ready = json.loads(p.stdout.readline())
    return p, ready["hotkey"]


def measure(name, proc, port, hotkey, conns, duration):
    before = run.cpu_seconds(proc.pid)
    r = run.loadgen("--target", f"127.0.0.1:{port}", "--hotkey", hotkey, "--connections", conns,
                    "--payload", 1024, "--duration", duration, "--scheme", "btauth")
    used = run.cpu_seconds(proc.pid) - before
    r["cpu_us_per_req"] = used / r["ok"] * 1e6 if r["ok"] else float("nan")
    print(f"# {name:8} {conns:>3} conns: {r['rps']:8.1f} req/s p50 {r['p50_ms']:.2f} ms "
          f"p99 {r['p99_ms']:.2f} ms cpu {r['cpu_us_per_req']:.0f} us/req {r['statuses']}",
          file=sys.stderr, flush=True)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--connections", default="16,64")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--axon-rs-port", type=int, default=18391)
    ap.add_argument("--fastapi-port", type=int, default=18392)
    ap.add_argument("--bare-port", type=int, default=18393)
    a = ap.parse_args()

    run.build()
    install(a.no_install)
    rs, hotkey = start("axon_rs", a.axon_rs_port)
    fa, _ = start("fastapi", a.fastapi_port)
    bare = run.start_bare(a.bare_port)
    rows = []
    try:
        for conns in map(int, a.connections.split(",")):
            rows.append({"connections": conns,
                         "floor": run.loadgen("--crypto-floor", 2000)["crypto_floor_us"],
                         "rs": measure("axon_rs", rs, a.axon_rs_port, hotkey, conns, a.duration),
                         "fa": measure("fastapi", fa, a.fastapi_port, hotkey, conns, a.duration),
                         "bare": measure("bare", bare, a.bare_port, hotkey, conns, a.duration)})
    finally:
        for p in (rs, fa):
            p.stdin.close()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=30)
        bare.terminate()
        bare.wait(timeout=30)

    print(f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores; {a.duration:g} s per cell, 1 KB "
          "JSON body, btauth/1; load generator on the same cores.")
    print()
    print("| conns | axon_rs req/s | FastAPI + verify req/s | ratio | axon_rs p50 / p99 ms | "
          "FastAPI p50 / p99 ms | axon_rs CPU us/req | FastAPI CPU us/req | crypto floor us | "
          "bare server us | axon_rs CPU / (crypto + bare) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in rows:
        r, f, b = c["rs"], c["fa"], c["bare"]
        ratio = r["rps"] / f["rps"] if f["rps"] else float("inf")
        floor = c["floor"] + b["cpu_us_per_req"]
        print(f"| {c['connections']} | {r['rps']:.0f} | {f['rps']:.0f} | {ratio:.1f}x | "
              f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} | {f['p50_ms']:.2f} / {f['p99_ms']:.2f} | "
              f"{r['cpu_us_per_req']:.0f} | {f['cpu_us_per_req']:.0f} | {c['floor']:.0f} | "
              f"{b['cpu_us_per_req']:.0f} | {r['cpu_us_per_req'] / floor:.2f}x |")


if __name__ == "__main__":
    main()
