"""One signed-HTTP endpoint written in Python, served two ways, for bench/python_endpoint.py:
`POST /echo` (the JSON `{"text"}` answered with `{"text", "out"}`, out reversed), behind
btauth/1 and Epistula.

    python bench/python_endpoint_server.py axon_rs|fastapi PORT

- `axon_rs`: `@axon.endpoint("POST", "/echo")` on `axon_rs.Axon`.
- `fastapi`: bittensor 11's own recipe: a FastAPI route calling `bittensor.http_auth.verify`
  on the raw body (with an `InMemoryNonceStore`), then the same function, under uvicorn
  (one process, its defaults).

Run with bittensor 11's interpreter. Prints one JSON line {"port", "hotkey"} once listening,
then serves until stdin closes.
"""

import json
import socket
import sys
import tempfile
import threading
import time

import bittensor as bt
from bittensor.sp_core import Keypair

HOTKEY = Keypair.create_from_uri("//Alice")


def echo(caller, body):
    """The miner's logic, the same in both."""
    ask = json.loads(body)
    return {"text": ask["text"], "out": ask["text"][::-1]}


def wait_listening(port):
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def serve_axon_rs(port):
    import axon_rs

    wallet = bt.Wallet(name="bench", hotkey="default", path=tempfile.mkdtemp(prefix="axon-bench-"))
    wallet.hotkey_file.set_keypair(HOTKEY, encrypt=False, overwrite=True)
    axon = axon_rs.Axon(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1")
    axon.endpoint("POST", "/echo")(echo)
    axon.start()
    return axon.stop


def serve_fastapi(port):
    import uvicorn
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI()
    store = bt.http_auth.InMemoryNonceStore()

    @app.post("/echo")
    async def route(request: Request):
        body = await request.body()
        try:
            caller = bt.http_auth.verify(request.headers, body, method="POST", path="/echo",
                                         self_hotkey_ss58=HOTKEY.ss58_address, nonce_store=store)
        except bt.http_auth.MalformedAuth as e:
            return JSONResponse({"message": str(e)}, status_code=400)
        except bt.http_auth.AuthError as e:
            return JSONResponse({"message": str(e)}, status_code=401)
        return echo(caller, body)

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop():
        server.should_exit = True
        thread.join(30)

    return stop


kind, port = sys.argv[1], int(sys.argv[2])
stop = {"axon_rs": serve_axon_rs, "fastapi": serve_fastapi}[kind](port)
wait_listening(port)
print(json.dumps({"port": port, "hotkey": HOTKEY.ss58_address}), flush=True)
sys.stdin.read()
stop()
