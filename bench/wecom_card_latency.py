"""How long a member waits for their vote card to update, over WeCom's long connection.

Runs the real adapter and app (SQLite in a temporary folder) against the fake WeCom on
127.0.0.1, opens a poll, lets N members submit the card at once, and prints the time from
each submit frame leaving WeCom to the card update arriving back (WeCom allows 5 s).

    python bench/wecom_card_latency.py [members ...] [--json]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Figure, report
from bot.adapters.wecom.adapter import WeComLongConnection
from bot.core.clock import SystemClock
from bot.core.settings import (
    DatabaseSettings,
    PlatformSettings,
    RoleSettings,
    Settings,
    WeComSettings,
)
from bot.runtime.app import App
from tests.fakes.wecom_long_connection import FakeWeComServer, card_of

UPDATE = "aibot_respond_update_msg"


async def one_round(members: int, folder: Path) -> tuple[float, float, float, float]:
    """p50, p95 and max latency of the card updates, and the whole round, in ms."""
    server = FakeWeComServer()
    await server.start()
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{folder / f'bench-{members}.db'}"),
        platforms=PlatformSettings(wecom=WeComSettings(websocket_url=server.url)),
        roles=RoleSettings(moderators=["wecom:mod"]),
    )
    clock = SystemClock()
    adapter = WeComLongConnection(
        bot_id=server.bot_id,
        secret=server.secret,
        settings=settings.platforms.wecom,
        clock=clock,
        zone=settings.zone,
    )
    app = App(settings, clock=clock, adapters=[adapter], secret=b"bench", serve_web=False)
    await app.start()
    try:
        await adapter.connected.wait()
        await server.member_says("mod", "/协商 开始 夜市")
        await server.member_says("mod", "/投票 延长到23点？| 支持 | 反对 | 弃权")
        [frame] = await server.wait_for(lambda f: "template_card" in f.get("body", {}))
        card = card_of(frame)

        sent_at: dict[str, float] = {}
        started = time.perf_counter()
        for i in range(members):
            req_id = await server.member_submits(f"m{i}", card, [str(1 + i % 3)])
            sent_at[req_id] = time.perf_counter()
        await server.wait_for(lambda f: f["cmd"] == UPDATE, count=members)
        whole = time.perf_counter() - started
        latencies = [
            (at - sent_at[frame["headers"]["req_id"]]) * 1000
            for frame, at in zip(server.received, server.received_at, strict=True)
            if frame["cmd"] == UPDATE
        ]
    finally:
        await app.stop()
        await server.close()
    latencies.sort()
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    return statistics.median(latencies), p95, latencies[-1], whole * 1000


async def main(sizes: list[int], as_json: bool) -> None:
    """Print one row per round (or the figures for python -m bench)."""
    rounds = []
    with tempfile.TemporaryDirectory() as folder:
        for members in sizes:
            rounds.append((members, *await one_round(members, Path(folder))))
    if as_json:
        figures = []
        for members, p50, _p95, worst, _whole in rounds:
            figures.append(Figure("wecom-card", f"{members} clicks: p50 click→card", p50, "ms"))
            figures.append(
                Figure("wecom-card", f"{members} clicks: slowest click→card", worst, "ms", "< 5 s")
            )
        report(figures)
        return
    print("WeCom vote-card update latency (long connection, SQLite, fake WeCom on 127.0.0.1)")
    print(f"{'members':>8} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'round ms':>9}")
    for members, p50, p95, worst, whole in rounds:
        print(f"{members:>8} {p50:>9.1f} {p95:>9.1f} {worst:>9.1f} {whole:>9.1f}")


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--json"]
    asyncio.run(main([int(a) for a in arguments] or [1, 50, 200], "--json" in sys.argv))
