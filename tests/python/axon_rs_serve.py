"""A Python miner publishes its axon through `axon_rs.Axon.serve`, for tests/chain.rs.

argv: chain endpoint, netuid, hotkey URI, external ip, port. The wallet holds keypairs only
(the hotkey's `sign` signs the extrinsic). Prints `RESULT ` and JSON {"first", "again"}: what
each of two `serve` calls did (`published` or `unchanged`)."""

import json
import sys
import types

import bittensor.utils.networking as networking

networking.get_external_ip = lambda: "127.0.0.1"

import bittensor as bt  # noqa: E402, F401
from bittensor_wallet import Keypair  # noqa: E402

import axon_rs  # noqa: E402

endpoint, netuid, uri, ip, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
wallet = types.SimpleNamespace(hotkey=Keypair.create_from_uri(uri), coldkeypub=Keypair.create_from_uri("//Alice"))
axon = axon_rs.Axon(wallet=wallet, port=port, external_ip=ip)
first = axon._server.serve(endpoint, netuid)
again = axon._server.serve(endpoint, netuid)
# And through the public call with the endpoint string, as a miner would.
axon.serve(netuid=netuid, subtensor=endpoint)
print("RESULT " + json.dumps({"first": first, "again": again}), flush=True)
