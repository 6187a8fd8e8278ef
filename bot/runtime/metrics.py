"""What `/metrics` tells Prometheus, and what `/healthz` tells a load balancer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.core.metrics import Metrics

HealthCheck = Callable[[], Awaitable[dict[str, object]]]


def install(app: web.Application, metrics: Metrics, health: HealthCheck) -> None:
    """Serve /metrics and /healthz on the bot's web server."""

    async def serve_metrics(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def serve_health(request: web.Request) -> web.Response:
        began = time.perf_counter()
        try:
            async with asyncio.timeout(3):
                report = await health()
        except Exception as error:
            return web.json_response(
                {"status": "unhealthy", "error": type(error).__name__}, status=503
            )
        report["checked_in_ms"] = round((time.perf_counter() - began) * 1000, 1)
        status = 200 if report.get("status") == "ok" else 503
        return web.json_response(report, status=status)

    app.router.add_get("/metrics", serve_metrics)
    app.router.add_get("/healthz", serve_health)
