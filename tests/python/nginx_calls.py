"""The real bittensor 10.5.0 Dendrite calling several axon processes through nginx, for
tests/several_processes.rs. argv[1] is JSON: {"port" (nginx's), "hotkey" (the axons'), "calls"}.

Fires `calls` Echo calls at once (asyncio.gather, as validators do), every request captured
as sent (headers and body bytes, through aiohttp's tracing), then resends each captured
request byte for byte through nginx, which hands it to whichever process is next.

Prints `RESULT ` and {"calls": [{"status", "message", "ok"}], "replays": [[status,
message]]}.
"""

import asyncio
import json
import sys

import bittensor as bt
from bittensor_wallet import Keypair

from twins import Echo  # noqa: I001 (first: it prepares bittensor for offline use)
from capture import capturing_session, resend  # noqa: E402

CONFIG = json.loads(sys.argv[1])

async def main():
    axon = bt.AxonInfo(version=0, ip="127.0.0.1", port=CONFIG["port"], ip_type=4,
                       hotkey=CONFIG["hotkey"], coldkey="")
    d = bt.Dendrite(wallet=Keypair.create_from_uri("//Bob"))
    captured = []
    d._session = capturing_session(captured)

    async def one(i):
        text = f"call-{i}"
        r = await d.call(axon, Echo(text=text, n=i), deserialize=False)
        return {"status": r.dendrite.status_code, "message": r.dendrite.status_message,
                "ok": r.out == text[::-1]}

    calls = await asyncio.gather(*[one(i) for i in range(CONFIG["calls"])])
    await d.aclose_session()
    replays = await resend(captured)
    print("RESULT " + json.dumps({"calls": calls, "replays": replays}), flush=True)


asyncio.run(main())
