"""The shared replay store's cost by the Redis it runs on: the release echo miner with no
shared store, with one Redis node, with one node over TLS (a private CA, an ACL user), with
a Cluster of three masters (each with a replica), and with a master and its replica named
by three sentinels; the same load, the same run.

    python3 bench/replay_store.py [--duration 5] [--connections 16]

Every server is Debian's redis-server on loopback (`apt-get install redis-server`), and the
TLS certificates come from Debian's `openssl`. `examples/loadgen` sends fresh signed 1 KB
`Echo` requests, each a new key in the store. Printed per row: req/s, p50/p99, the miner's
CPU per answered request and the Redis servers' (all of them, from /proc), and the store's
memory per accepted request: the growth of `used_memory` over the keys written, summed over
the masters, then over every node (replicas hold a copy).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import run  # bench/run.py: the shared helpers

REDIS = "/usr/bin/redis-server"


def redis(port, *extra, dir=None):
    """A redis-server on loopback without persistence (and `extra` settings), once ready;
    working in `dir` (where a replica writes what it loads from its master)."""
    if not os.path.exists(REDIS):
        raise SystemExit("bench/replay_store.py needs Debian's redis-server: apt-get install redis-server")
    p = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--logfile", "", "--dir", dir or tempfile.gettempdir(),
                          *map(str, extra)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if "Ready to accept connections" in line:
            return p
    raise SystemExit(f"redis-server {extra} did not start")


def sentinel(port, config, master_port):
    """A Redis Sentinel on loopback watching the master on `master_port`, once it does."""
    with open(config, "w") as f:
        f.write(f"sentinel monitor replay 127.0.0.1 {master_port} 1\n")
    p = subprocess.Popen([REDIS, config, "--sentinel", "--port", str(port), "--bind",
                          "127.0.0.1", "--logfile", ""],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if "+monitor master" in line:
            return p
    raise SystemExit("redis-server --sentinel did not start")


def cli(port, *args, tls=None):
    """redis-cli's answer (with `tls` = (ca, user, password) over TLS as that user)."""
    extra = []
    if tls:
        ca, user, password = tls
        extra = ["--tls", "--cacert", ca, "--user", user, "--pass", password, "--no-auth-warning"]
    out = subprocess.run(["redis-cli", "-p", str(port), *extra, *args], capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


def used_memory(port, tls=None):
    info = cli(port, "INFO", "memory", tls=tls)
    return int(next(l.split(":")[1] for l in info.splitlines() if l.startswith("used_memory:")))


def keys(port, tls=None):
    return int(cli(port, "DBSIZE", tls=tls))


def certificates(d):
    """A CA and a server certificate it signed for 127.0.0.1, by openssl: (ca, cert, key)."""
    def sh(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)
    sh("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=bench-ca", "-days", "2")
    sh("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    sh("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
       "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    return tuple(os.path.join(d, f) for f in ("ca.pem", "server.pem", "server.key"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--port", type=int, default=18591)
    a = ap.parse_args()

    run.build()
    d = tempfile.mkdtemp(prefix="axon-bench-redis-")
    servers = []  # every redis-server started, stopped at the end
    rows = []
    try:
        ca, cert, key = certificates(d)
        password = "p/ss:word"
        base = a.port + 10
        servers.append(redis(base))
        servers.append(redis(0, "--port", "0", "--tls-port", base + 1, "--tls-cert-file", cert,
                             "--tls-key-file", key, "--tls-ca-cert-file", ca,
                             "--tls-auth-clients", "no", "--user", "default", "off",
                             "--user", "miner", "on", f">{password}", "~*", "+@all"))
        cluster_ports = [base + 2 + i for i in range(6)]
        for i, port in enumerate(cluster_ports):
            servers.append(redis(port, "--cluster-enabled", "yes", "--cluster-config-file",
                                 f"nodes-{i}.conf", "--cluster-node-timeout", "2000",
                                 "--dir", d))
        subprocess.run(["redis-cli", "--cluster", "create",
                        *[f"127.0.0.1:{p}" for p in cluster_ports],
                        "--cluster-replicas", "1", "--cluster-yes"],
                       check=True, capture_output=True)
        deadline = time.time() + 60
        while any("cluster_state:ok" not in cli(p, "CLUSTER", "INFO") for p in cluster_ports):
            if time.time() > deadline:
                raise SystemExit("the cluster did not come up")
            time.sleep(0.1)
        is_master = {p: cli(p, "ROLE").splitlines()[0] == "master" for p in cluster_ports}
        masters = [p for p in cluster_ports if is_master[p]]
        # A master and its replica, each taking writes only while a replica follows (as
        # the guide asks), and three sentinels naming the master.
        guarded = ("--min-replicas-to-write", 1, "--repl-diskless-sync-delay", 0)
        watched, follower = base + 8, base + 9
        servers.append(redis(watched, *guarded, dir=d))
        servers.append(redis(follower, *guarded, "--replicaof", "127.0.0.1", watched, dir=d))
        deadline = time.time() + 60
        while "state=online" not in cli(watched, "INFO", "replication"):
            if time.time() > deadline:
                raise SystemExit("the replica did not follow its master")
            time.sleep(0.1)
        sentinels = []
        for i in range(3):
            servers.append(sentinel(base + 10 + i, os.path.join(d, f"sentinel-{i}.conf"), watched))
            sentinels += ["--axon.replay_store_sentinel", f"127.0.0.1:{base + 10 + i}"]
        tls = (ca, "miner", password)
        cases = [
            ("none (this process's store)", (), []),
            ("Redis", ("--axon.replay_store", f"redis://127.0.0.1:{base}"),
             [(base, None, True)]),
            ("Redis over TLS (ACL user)",
             ("--axon.replay_store", f"rediss://miner:p%2Fss%3Aword@127.0.0.1:{base + 1}",
              "--axon.replay_store_ca", ca), [(base + 1, tls, True)]),
            ("Redis Cluster (3 masters, 3 replicas)",
             ("--axon.replay_store", f"redis://127.0.0.1:{masters[0]}",
              "--axon.replay_store_cluster", "true"),
             [(p, None, is_master[p]) for p in cluster_ports]),
            ("Sentinel (a master, a replica)",
             ("--axon.replay_store", "redis://replay/0", *sentinels),
             [(watched, None, True), (follower, None, False)]),
        ]
        pids = [s.pid for s in servers]
        for i, (name, flags, stores) in enumerate(cases):
            miner, hotkey = run.start_rust(a.port + i, *flags)
            try:
                before = [(used_memory(p, t), keys(p, t)) for p, t, _ in stores]
                cpu, redis_cpu = run.cpu_seconds(miner.pid), sum(map(run.cpu_seconds, pids))
                r = run.loadgen("--target", f"127.0.0.1:{a.port + i}", "--hotkey", hotkey,
                                "--connections", a.connections, "--payload", 1024,
                                "--duration", a.duration, "--fresh-uuids", "true")
                ok = r["ok"] or 1
                r["cpu_us"] = (run.cpu_seconds(miner.pid) - cpu) / ok * 1e6
                r["redis_us"] = (sum(map(run.cpu_seconds, pids)) - redis_cpu) / ok * 1e6
                after = [(used_memory(p, t), keys(p, t)) for p, t, _ in stores]
                growth = [(m1 - m0, k1 - k0, master) for ((m0, k0), (m1, k1), (_, _, master))
                          in zip(before, after, stores)]
                written = sum(k for _, k, master in growth if master)
                on_masters = sum(m for m, _, master in growth if master)
                everywhere = sum(m for m, _, _ in growth)
                r["bytes_per_key"] = on_masters / written if written else None
                r["bytes_everywhere"] = everywhere / written if written else None
                r["written"] = written
            finally:
                miner.terminate()
                miner.wait(timeout=30)
            print(f"# {name:30} {r['rps']:8.1f} req/s p50 {r['p50_ms']:.2f} p99 "
                  f"{r['p99_ms']:.2f} ms cpu {r['cpu_us']:.0f} + redis {r['redis_us']:.0f} us/req "
                  f"{r['statuses']} keys {r['written']}", file=sys.stderr, flush=True)
            rows.append((name, r))
    finally:
        for s in servers:
            s.terminate()
        for s in servers:
            s.wait(timeout=30)
        shutil.rmtree(d, ignore_errors=True)

    print(f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores; {a.duration:g} s per row, "
          f"{a.connections} connections, 1 KB `Echo`, a fresh request id each (a new key); "
          f"load generator and Redis on the same cores.")
    print()
    print("| replay store | req/s | p50 / p99 ms | miner CPU us/req | Redis CPU us/req "
          "| Redis bytes per request: masters / every node |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows:
        per_key = "" if r["bytes_per_key"] is None else \
            f"{r['bytes_per_key']:.0f} / {r['bytes_everywhere']:.0f}"
        redis_us = f"{r['redis_us']:.0f}" if r["written"] else ""
        print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.2f} / {r['p99_ms']:.2f} | "
              f"{r['cpu_us']:.0f} | {redis_us} | {per_key} |")


if __name__ == "__main__":
    main()
