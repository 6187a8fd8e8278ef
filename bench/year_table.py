"""The province's year table at the scale Zhejiang reports: about 3,100 sessions in a year.

A tree of one province, 11 cities and 99 counties, a group each (111 groups), holds 28
consultations per group in one year through the dispatcher: opened, six members' opinions,
a second, closed (about 28,000 messages). Then a secretary asks for the table of the whole
province (`/统计 单位 全部`) and of one city, in the group, as a secretary would; each figure
is the median of `--rounds` asks, measured from the message to its committed reply. Handlers
run inside the dispatcher's transaction, so a member who writes in another group meanwhile
waits as long: the second figure of each pair is that member's wait.

    python bench/year_table.py [--url URL] [--per-group 28] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Figure, peak_memory_mb, report
from bench.ingest import PLATFORM, AcceptingPlatform
from bot.core.clock import ManualClock
from bot.core.messages import IncomingMessage
from bot.core.settings import Settings
from bot.runtime.app import App
from storage.enums import Role

ZONE = ZoneInfo("Asia/Shanghai")
CITIES = 11
COUNTIES_PER_CITY = 9


def tree() -> tuple[list[dict[str, object]], list[str]]:
    """The units, each with one group, and the groups' conversation ids."""
    units: list[dict[str, object]] = [
        {"name": "浙江省", "level": "省", "groups": [f"{PLATFORM}:省"]}
    ]
    groups = ["省"]
    for city in range(CITIES):
        city_name = f"第{city}市"
        units.append(
            {
                "name": city_name,
                "level": "市",
                "parent": "浙江省",
                "groups": [f"{PLATFORM}:{city_name}"],
            }
        )
        groups.append(city_name)
        for county in range(COUNTIES_PER_CITY):
            name = f"{city_name}第{county}县"
            units.append(
                {"name": name, "level": "县", "parent": city_name, "groups": [f"{PLATFORM}:{name}"]}
            )
            groups.append(name)
    return units, groups


class Chat:
    """Messages into the dispatcher, as members and staff of the groups send them."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.count = 0

    def message(
        self, group: str, sender: str, text: str, role: Role | None = None
    ) -> IncomingMessage:
        self.count += 1
        return IncomingMessage(
            platform=PLATFORM,
            conversation_id=group,
            conversation_title=group,
            sender_id=f"{group}-{sender}",
            sender_name=sender,
            text=text,
            message_id=f"y{self.count}",
            timestamp=self.app.clock.now(),
            addressed=True,
            platform_roles=frozenset({role}) if role else frozenset(),
        )

    async def consultation(self, group: str, number: int) -> None:
        """One short session in `group`."""
        said = [self.message(group, "主持人", f"/协商 开始 第{number}次协商", Role.MODERATOR)]
        said += [
            self.message(group, f"委员{m}", f"/意见 第{number}次协商的第{m}条意见")
            for m in range(6)
        ]
        said += [self.message(group, "委员6", "/附议 #1")]
        said += [self.message(group, "主持人", "/协商 结束", Role.MODERATOR)]
        for message in said:
            await self.app.dispatcher.dispatch(message)


async def committed(app: App, message: IncomingMessage, started: float) -> float:
    """Seconds from `started` until `message` is committed."""
    await app.dispatcher.dispatch(message)
    return time.perf_counter() - started


async def measure(url: str, per_group: int, rounds: int) -> list[Figure]:
    units, groups = tree()
    clock = ManualClock(datetime(2026, 1, 5, 9, tzinfo=ZONE))
    settings = Settings(database={"url": url}, units={"tree": units})  # type: ignore[arg-type]
    app = App(
        settings, clock=clock, adapters=[AcceptingPlatform()], secret=b"bench", serve_web=False
    )
    await app.start()
    try:
        chat = Chat(app)
        began = time.perf_counter()
        for number in range(per_group):
            clock.set(datetime(2026, 1, 5, 9, tzinfo=ZONE) + timedelta(days=12 * number))
            await asyncio.gather(*(chat.consultation(group, number) for group in groups))
        filled = time.perf_counter() - began
        clock.set(datetime(2027, 1, 10, 9, tzinfo=ZONE))
        figures = [
            Figure("year-table", "sessions in the year", per_group * len(groups), ""),
            Figure("year-table", "messages to fill it", chat.count / filled, "msg/s"),
        ]
        for label, ask in (
            ("province", "/统计 单位 全部 2026"),
            ("one city", "/统计 单位 第0市 2026"),
        ):
            asked, waited = [], []
            for _ in range(rounds):
                started = time.perf_counter()
                request = chat.message("省", "秘书", ask, Role.SECRETARY)
                meanwhile = chat.message("第1市第1县", "委员0", "/意见 统计的时候我也在发言")

                answered = asyncio.ensure_future(committed(app, request, started))
                await asyncio.sleep(0)  # the request is in the dispatcher first
                waited.append(await committed(app, meanwhile, started))
                asked.append(await answered)
            figures += [
                Figure(
                    "year-table",
                    f"/统计 {label}, ask to committed reply",
                    statistics.median(asked) * 1000,
                    "ms",
                    "< 1,000 ms",
                ),
                Figure(
                    "year-table",
                    "another group's message meanwhile",
                    statistics.median(waited) * 1000,
                    "ms",
                ),
            ]
        figures.append(Figure("year-table", "peak memory", peak_memory_mb(), "MB"))
        return figures
    finally:
        await app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database URL (default: a new SQLite file)")
    parser.add_argument("--per-group", type=int, default=28)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="JSON lines for python -m bench")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'year.db'}"
        report(asyncio.run(measure(url, args.per_group, args.rounds)))


if __name__ == "__main__":
    main()
