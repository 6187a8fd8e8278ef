"""A fake OpenAI-compatible server on 127.0.0.1: one POST route under /v1, as the minutes'
language model and embeddings endpoint are asked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web


@asynccontextmanager
async def serve(
    route: str, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> AsyncIterator[str]:
    """Answer POST /v1/<route> with `handler`; yields the base URL (…/v1) to configure."""
    app = web.Application()
    app.router.add_post(f"/v1/{route}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    finally:
        await runner.cleanup()
