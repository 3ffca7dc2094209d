"""Capturing what an aiohttp session sends, byte for byte, so a test can resend it."""

import aiohttp


def capturing_session(captured, **kwargs):
    """An aiohttp session recording each request's url, headers and body bytes as sent."""
    trace = aiohttp.TraceConfig()

    async def headers_sent(session, ctx, params):
        ctx.request = {"url": str(params.url), "headers": dict(params.headers), "body": b""}
        captured.append(ctx.request)

    async def chunk_sent(session, ctx, params):
        ctx.request["body"] += params.chunk

    trace.on_request_headers_sent.append(headers_sent)
    trace.on_request_chunk_sent.append(chunk_sent)
    return aiohttp.ClientSession(trace_configs=[trace], **kwargs)


async def resend(captured):
    """Every captured request again, byte for byte, with a fresh session: the list of
    [status, bt_header_axon_status_message]."""
    replays = []
    async with aiohttp.ClientSession() as s:
        for req in captured:
            headers = {k: v for k, v in req["headers"].items()
                       if k.lower() not in ("host", "content-length")}
            async with s.post(req["url"], headers=headers, data=req["body"]) as r:
                replays.append([r.status, r.headers.get("bt_header_axon_status_message")])
    return replays
