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
