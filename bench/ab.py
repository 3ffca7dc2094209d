"""A/B: two builds of the Rust echo miner, and the Python axon, under the same signed load,
in alternating rounds, so a change's cost is measured against the machine's drift.

    .venv-bt/bin/python bench/ab.py --base /path/to/old/echo_miner [--rounds 8]
        [--duration 5] [--connections 16] [--payload 1024]

Build the base from another checkout, for instance
`git worktree add /tmp/base <commit> && (cd /tmp/base && CARGO_TARGET_DIR=/tmp/base-target
cargo build --release --example echo_miner)`, then pass
`--base /tmp/base-target/release/examples/echo_miner`. This checkout's release `echo_miner`
and `loadgen` are built first. Each round drives the base, this build and the Python axon
for `--duration` seconds each (in a rotating order) and prints req/s and server CPU per
answered request; the summary gives the medians and the ratios (this build / base, this
build / Python).
"""

import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: the shared helpers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="the echo_miner binary to compare against")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--payload", type=int, default=1024)
    a = ap.parse_args()

    run.build()
    servers = {}
    try:
        servers["base"] = run.start_rust(18291, binary=a.base)
        servers["head"] = run.start_rust(18292)
        servers["python"] = run.start_python(18293)
        ports = {"base": 18291, "head": 18292, "python": 18293}
        results = {name: [] for name in servers}
        names = list(servers)
        for i in range(a.rounds):
            for name in names[i % 3:] + names[:i % 3]:
                proc, hotkey = servers[name]
                before = run.cpu_seconds(proc.pid)
                r = run.loadgen("--target", f"127.0.0.1:{ports[name]}", "--hotkey", hotkey,
                                "--connections", a.connections, "--payload", a.payload,
                                "--duration", a.duration)
                cpu = (run.cpu_seconds(proc.pid) - before) / r["ok"] * 1e6 if r["ok"] else 0
                results[name].append((r["rps"], cpu, r["p99_ms"]))
                print(f"# round {i} {name:6}: {r['rps']:8.1f} req/s, {cpu:4.0f} us CPU/req, "
                      f"p99 {r['p99_ms']:.2f} ms {r['statuses']}", file=sys.stderr, flush=True)
    finally:
        for name, (proc, _) in servers.items():
            if name == "python":
                proc.stdin.close()
            else:
                proc.terminate()
            proc.wait(timeout=30)

    med = {n: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v),
               statistics.median(x[2] for x in v)) for n, v in results.items()}
    print(f"{a.connections} connections, {a.payload} B, {a.rounds} rounds x {a.duration:g} s")
    print("| build | median req/s | median CPU us/req | median p99 ms |")
    print("|---|---:|---:|---:|")
    for n in ["base", "head", "python"]:
        print(f"| {n} | {med[n][0]:.0f} | {med[n][1]:.0f} | {med[n][2]:.2f} |")
    print(f"head/base: {med['head'][0] / med['base'][0]:.3f}x req/s, "
          f"{med['head'][1] / med['base'][1]:.3f}x CPU per request; "
          f"head/python: {med['head'][0] / med['python'][0]:.1f}x req/s")


if __name__ == "__main__":
    main()
