"""How the real bittensor 10.5.0 resolves `--subtensor.network` / `--subtensor.chain_endpoint`
and `BT_SUBTENSOR_*` into the endpoint it dials, for tests/command_line.rs. Reads JSON cases
from argv[1] (`[{"args": [...], "env": {...}}]`); each environment gets a fresh
interpreter (bittensor reads the variables at import). Prints `RESULT ` and JSON: one
`[endpoint, network]` per case."""

import json
import os
import subprocess
import sys

CASE = """
import argparse, json, sys
import bittensor as bt
from bittensor.core.subtensor import Subtensor
out = []
for args in json.loads(sys.argv[1]):
    parser = argparse.ArgumentParser()
    Subtensor.add_args(parser)
    out.append(list(Subtensor.setup_config(None, bt.Config(parser, args=args))))
print("RESULT " + json.dumps(out))
"""

cases = json.loads(sys.argv[1])
results = [None] * len(cases)
by_env = {}
for i, case in enumerate(cases):
    by_env.setdefault(json.dumps(case["env"], sort_keys=True), []).append(i)
for env_key, indices in by_env.items():
    env = {k: v for k, v in os.environ.items() if not k.startswith("BT_SUBTENSOR_")}
    env.update(json.loads(env_key))
    env["BT_NO_PARSE_CLI_ARGS"] = "0"  # let bt.Config parse the arguments it is given
    args = json.dumps([cases[i]["args"] for i in indices])
    run = subprocess.run(
        [sys.executable, "-c", CASE, args], env=env, capture_output=True, text=True, check=True
    )
    line = next(l for l in run.stdout.splitlines() if l.startswith("RESULT "))
    for i, result in zip(indices, json.loads(line[len("RESULT "):])):
        results[i] = result
print("RESULT " + json.dumps(results))
