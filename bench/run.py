"""The signed-load benchmark: the Rust echo miner against the Python bittensor 10.5.0 axon,
same synapse, same handler, same load generator, same run.

    .venv-bt/bin/python bench/run.py [--duration 5] [--connections 1,16,64,256]
                                     [--payloads 1024,65536,1048576]

(`.venv-bt/` is the virtualenv the test suite creates; any Python importing bittensor 10.5.0
works.) It builds the release binaries, starts both axons on loopback, measures the crypto
floor (one sr25519 verify plus one sign, which every served request costs an axon) and what
a verify costs in batches of 2 to 64 (`loadgen --batch-costs`), and, for
each payload, the body floor (one SHA3-256 pass over the hashed fields plus one serde_json
parse of the body, `loadgen --hash-floor`), then for
each connection count and payload drives each axon (and the Rust one a second time with
`--verify.batch false`, checking every signature alone, to show what batch verification
gains) for `--duration` seconds with
`examples/loadgen` and prints a Markdown table: req/s (answered 200), p50/p99 latency, the
Rust/Python ratios, and each server's CPU time per answered request (from /proc) beside the
crypto floor, and beside the floor of the whole stack: the crypto floor plus what a bare hyper
+ serde_json server (`examples/bare`: it reads the body, parses it and answers the same JSON,
with no signature work) costs on the same load in the same row. A second table puts the same miner with the shared replay store on a real
Redis (`--axon.replay_store`) beside the in-memory one; a third puts the same Rust miner's signed-HTTP endpoint `POST /echo`
(btauth/1 and Epistula, `loadgen --scheme`) beside its synapse row. The load generator runs
on the same machine and competes for its cores.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release", "examples")
TICK = os.sysconf("SC_CLK_TCK")


def build():
    """Builds the release echo miner, load generator and bare server the benchmarks run."""
    subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "echo_miner",
                    "--example", "loadgen", "--example", "bare"], cwd=ROOT, check=True)


def cpu_seconds(pid):
    """User plus system CPU time of a process, all threads, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def loadgen(*args):
    out = subprocess.run([os.path.join(RELEASE, "loadgen"), *map(str, args)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_rust(port, *flags, binary=None):
    """Starts an echo miner (this checkout's release build, or `binary`); returns it and its
    hotkey once it listens."""
    binary = binary or os.path.join(RELEASE, "echo_miner")
    p = subprocess.Popen([binary, "--axon.port", str(port), *flags],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    hotkey = None
    for line in p.stdout:
        if line.startswith("echo_miner: hotkey "):
            hotkey = line.split()[2]
        if line.startswith("echo_miner: listening on"):
            return p, hotkey
    raise SystemExit(f"{binary} did not start")


def measure(name, proc, redis, port, hotkey, conns, payload, duration, extra):
    """Drives `proc` at `port` with loadgen (`extra` flags added) and returns its result
    with the server's and redis-server's CPU time per answered request."""
    redis_before, before = cpu_seconds(redis.pid), cpu_seconds(proc.pid)
    r = loadgen("--target", f"127.0.0.1:{port}", "--hotkey", hotkey, "--connections", conns,
                "--payload", payload, "--duration", duration, *extra)
    per_ok = (lambda seconds: seconds / r["ok"] * 1e6) if r["ok"] else (lambda _: float("nan"))
    r["cpu_us_per_req"] = per_ok(cpu_seconds(proc.pid) - before)
    r["redis_us_per_req"] = per_ok(cpu_seconds(redis.pid) - redis_before)
    print(f"# {name:8} {conns:>3} conns {payload:>7} B: {r['rps']:8.1f} req/s "
          f"p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms "
          f"cpu {r['cpu_us_per_req']:.0f} us/req {r['statuses']}", file=sys.stderr, flush=True)
    return r


def start_redis(port):
    """Starts Debian's redis-server on loopback, without persistence; returns once ready."""
    binary = "/usr/bin/redis-server"
    if not os.path.exists(binary):
        raise SystemExit("bench/run.py measures the shared replay store on a real Redis: "
                         "apt-get install redis-server")
    p = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--logfile", ""],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if "Ready to accept connections" in line:
            return p
    raise SystemExit("redis-server did not start")


def start_bare(port):
    """Starts the bare hyper + serde_json server (`examples/bare`); returns once it listens."""
    p = subprocess.Popen([os.path.join(RELEASE, "bare"), "--port", str(port)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if line.startswith("bare: listening on"):
            return p
    raise SystemExit("examples/bare did not start")


def start_python(port):
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "python", "py_axon.py"),
                          str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    ready = json.loads(p.stdout.readline())
    return p, ready["hotkey"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--connections", default="1,16,64,256")
    ap.add_argument("--payloads", default="1024,65536,1048576")
    ap.add_argument("--rust-port", type=int, default=18191)
    ap.add_argument("--python-port", type=int, default=18192)
    ap.add_argument("--single-port", type=int, default=18193)
    ap.add_argument("--redis-port", type=int, default=18194)
    ap.add_argument("--shared-port", type=int, default=18195)
    ap.add_argument("--bare-port", type=int, default=18196)
    a = ap.parse_args()

    build()
    redis = start_redis(a.redis_port)
    rust, rust_hotkey = start_rust(a.rust_port)
    single, single_hotkey = start_rust(a.single_port, "--verify.batch", "false")
    shared, shared_hotkey = start_rust(a.shared_port, "--axon.replay_store",
                                       f"redis://127.0.0.1:{a.redis_port}")
    py, py_hotkey = start_python(a.python_port)
    bare = start_bare(a.bare_port)
    try:
        floor = loadgen("--crypto-floor", 3000)["crypto_floor_us"]
        batch = loadgen("--batch-costs", 2000)
        rows = []
        for payload in map(int, a.payloads.split(",")):
            for conns in map(int, a.connections.split(",")):
                # The machine's speed drifts (shared cores): each row has its own floor.
                cell = {"connections": conns, "payload": payload,
                        "floor": loadgen("--crypto-floor", 2000)["crypto_floor_us"],
                        "body_floor": loadgen("--hash-floor", payload)["hash_floor_us"]}
                servers = [("rust", rust, a.rust_port, rust_hotkey, ()),
                           # The stack floor: the same signed load, no signature work.
                           ("bare", bare, a.bare_port, rust_hotkey, ()),
                           ("single", single, a.single_port, single_hotkey, ()),
                           ("shared", shared, a.shared_port, shared_hotkey, ()),
                           ("python", py, a.python_port, py_hotkey, ()),
                           # The same Rust miner's signed-HTTP endpoint `POST /echo`.
                           ("btauth", rust, a.rust_port, rust_hotkey, ("--scheme", "btauth")),
                           ("epistula", rust, a.rust_port, rust_hotkey,
                            ("--scheme", "epistula"))]
                for name, proc, port, hotkey, extra in servers:
                    cell[name] = measure(name, proc, redis, port, hotkey, conns, payload,
                                         a.duration, extra)
                rows.append(cell)
    finally:
        bare.terminate()
        bare.wait(timeout=30)
        rust.terminate()
        single.terminate()
        shared.terminate()
        redis.terminate()
        py.stdin.close()
        py.wait(timeout=30)
        rust.wait(timeout=30)
        single.wait(timeout=30)
        shared.wait(timeout=30)
        redis.wait(timeout=30)

    cpus = os.cpu_count()
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                  if l.startswith("model name")), platform.processor())
    print(f"Machine: {model}, {cpus} cores, {platform.system()} {platform.release()}; "
          f"{time.strftime('%Y-%m-%d')}; {a.duration:g} s per cell; load generator on the same cores.")
    floors = sorted(c["floor"] for c in rows)
    print(f"Crypto floor (one sr25519 verify + one sign): {floor:.0f} us at the start; "
          f"{floors[0]:.0f}-{floors[-1]:.0f} us over the rows, each row's CPU compared with "
          "its own.")
    per = batch["batch_us_per_signature"]
    print(f"One sr25519 verify alone: {batch['verify_us']:.1f} us; in a batch, per signature: "
          + ", ".join(f"{per[n]:.1f} at {n}" for n in ("2", "4", "8", "16", "64"))
          + " (`loadgen --batch-costs 2000`).")
    print()
    print("| conns | payload | Rust req/s | Python req/s | ratio | Rust p50 / p99 ms | "
          "Python p50 / p99 ms | p99 ratio | Rust CPU us/req (x floor) | "
          "crypto + stack floor us (Rust CPU x) | "
          "body floor us (Rust CPU x) | same, single verify | Python CPU us/req |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in rows:
        r, p, s, floor = c["rust"], c["python"], c["single"], c["floor"]
        stack = floor + c["bare"]["cpu_us_per_req"]
        ratio = r["rps"] / p["rps"] if p["rps"] else float("inf")
        p99 = p["p99_ms"] / r["p99_ms"] if r["p99_ms"] else float("nan")
        size = f"{c['payload'] // 1024} KB" if c["payload"] < 1 << 20 else f"{c['payload'] >> 20} MB"
        print(f"| {c['connections']} | {size} | {r['rps']:.0f} | {p['rps']:.1f} | {ratio:.1f}x | "
              f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} | {p['p50_ms']:.1f} / {p['p99_ms']:.1f} | "
              f"{p99:.1f}x | {r['cpu_us_per_req']:.0f} ({r['cpu_us_per_req'] / floor:.2f}x) | "
              f"{floor:.0f} + {c['bare']['cpu_us_per_req']:.0f} ({r['cpu_us_per_req'] / stack:.2f}x) | "
              f"{c['body_floor']:.0f} ({r['cpu_us_per_req'] / c['body_floor']:.2f}x) | "
              f"{s['cpu_us_per_req']:.0f} ({s['cpu_us_per_req'] / floor:.2f}x), "
              f"{s['rps']:.0f} req/s | {p['cpu_us_per_req']:.0f} |")
    print()
    print("The shared replay store: the same Rust miner with `--axon.replay_store redis://..` "
          "(Debian's redis-server on loopback, one `SET NX PX` per request, pipelined) beside "
          "the in-memory store, same run.")
    print()
    print("| conns | payload | in-memory req/s | Redis req/s | in-memory p50 / p99 ms | "
          "Redis p50 / p99 ms | added p50 / p99 ms | CPU us/req in-memory / Redis (+ redis-server) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in rows:
        r, h = c["rust"], c["shared"]
        size = f"{c['payload'] // 1024} KB" if c["payload"] < 1 << 20 else f"{c['payload'] >> 20} MB"
        print(f"| {c['connections']} | {size} | {r['rps']:.0f} | {h['rps']:.0f} | "
              f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} | {h['p50_ms']:.2f} / {h['p99_ms']:.2f} | "
              f"{h['p50_ms'] - r['p50_ms']:+.2f} / {h['p99_ms'] - r['p99_ms']:+.2f} | "
              f"{r['cpu_us_per_req']:.0f} / {h['cpu_us_per_req']:.0f} (+ {h['redis_us_per_req']:.0f}) |")
    print()
    print("Signed HTTP beside the synapse, same Rust miner, same run: `POST /echo` with "
          "btauth/1 and Epistula (one verify per request and no answer signature, where a "
          "synapse costs a verify and a sign).")
    print()
    print("| conns | payload | synapse req/s | btauth/1 req/s | Epistula req/s | "
          "synapse p50 / p99 ms | btauth/1 p50 / p99 ms | Epistula p50 / p99 ms | "
          "CPU us/req synapse / btauth/1 / Epistula |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in rows:
        r, b, e = c["rust"], c["btauth"], c["epistula"]
        size = f"{c['payload'] // 1024} KB" if c["payload"] < 1 << 20 else f"{c['payload'] >> 20} MB"
        print(f"| {c['connections']} | {size} | {r['rps']:.0f} | {b['rps']:.0f} | {e['rps']:.0f} | "
              f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} | {b['p50_ms']:.2f} / {b['p99_ms']:.2f} | "
              f"{e['p50_ms']:.2f} / {e['p99_ms']:.2f} | "
              f"{r['cpu_us_per_req']:.0f} / {b['cpu_us_per_req']:.0f} / {e['cpu_us_per_req']:.0f} |")


if __name__ == "__main__":
    main()
