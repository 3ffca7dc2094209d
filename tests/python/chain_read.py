"""What the real bittensor 10.5.0 reads from a chain, for tests/chain.rs: its `Subtensor`'s
own `substrate` object queries the storage maps a metagraph and a served axon live in, and
composes calls with the runtime's metadata (the call bytes the Rust client must match).

Usage: chain_read.py ENDPOINT NETUID BLOCK [HOTKEY...]; BLOCK is a block hash or `best`.
Prints `RESULT ` and JSON."""

import json
import sys

import bittensor as bt

endpoint, netuid, block, hotkeys = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
block = None if block == "best" else block
subtensor = bt.Subtensor(network=endpoint)
substrate = subtensor.substrate


def query(item, params):
    value = substrate.query("SubtensorModule", item, params, block_hash=block)
    return None if value is None else value.value


def neurons():
    n = query("SubnetworkN", [netuid])
    permits = query("ValidatorPermit", [netuid]) or []
    updates = query("LastUpdate", [netuid]) or []
    out = []
    for uid in range(n):
        hotkey = query("Keys", [netuid, uid])
        axon = query("Axons", [netuid, hotkey])
        out.append(
            {
                "uid": uid,
                "hotkey": hotkey,
                "coldkey": query("Owner", [hotkey]),
                "stake": query("TotalHotkeyAlpha", [hotkey, netuid]),
                "validator_permit": bool(permits[uid]) if uid < len(permits) else False,
                "last_update": updates[uid] if uid < len(updates) else 0,
                "axon": None
                if axon is None
                else {
                    "version": axon["version"],
                    "ip": str(bt.utils.networking.int_to_ip(axon["ip"])),
                    "port": axon["port"],
                    "ip_type": axon["ip_type"],
                    "protocol": axon["protocol"],
                },
            }
        )
    return out


def key_hex(key):
    """The stored key bytes as hex (the decoder hands them back as a str of byte values)."""
    if isinstance(key, str) and not key.startswith("0x"):
        key = key.encode("latin-1")
    return "0x" + bytes(key).hex() if not isinstance(key, str) else key


def call(function, params):
    return substrate.compose_call("SubtensorModule", function, params).data.to_hex()


serve = dict(netuid=netuid, version=10005000, port=1, ip_type=6, protocol=4, placeholder1=7, placeholder2=255)
calls = {
    "serve_axon_v6": call("serve_axon", dict(serve, ip=int(bt.utils.networking.ip_to_int("2001:db8::1")))),
    "serve_axon_tls": call(
        "serve_axon_tls",
        dict(serve, ip=3325256727, ip_type=4, certificate=bytes([2]) + bytes(range(100))),
    ),
}
if hotkeys:
    calls["burned_register"] = call("burned_register", dict(netuid=netuid, hotkey=hotkeys[0]))

result = {
    "axons": {h: query("Axons", [netuid, h]) for h in hotkeys},
    "certificates": {
        h: (lambda c: None if c is None else {"algorithm": c["algorithm"], "public_key": key_hex(c["public_key"])})(
            query("NeuronCertificates", [netuid, h])
        )
        for h in hotkeys
    },
    "neurons": neurons(),
    "calls": calls,
}
print("RESULT " + json.dumps(result, default=str))
