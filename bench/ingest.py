"""Messages through the full dispatcher: N messages from M members in G groups.

Phase 1 keeps many messages in flight (a busy province) and reports the rate; phase 2
sends at half that rate, open loop, and reports the latency from receipt to commit.
The outbox sender runs beside it against a platform that takes every message at once.

With `--processes 2` (PostgreSQL), that many bot processes share the database and the
groups, as several `xieshang run` behind one DingTalk gateway do; they start together and
the rate is all their messages over the time from the first start to the last finish.
`python -m bench` measures SQLite, and PostgreSQL with one and two processes when
XIESHANG_BENCH_DATABASE_URL names a database (`make bench` sets it to the local one).
Each figure is the median of `--rounds` measurements (3), one and two processes taking
turns: on a shared two-core machine one measurement of a p99 or of the two-process
ratio swung by half from one run to the next.

    python bench/ingest.py [--messages 20000] [--members 2000] [--groups 20] [--url URL]
                           [--processes N] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Figure, peak_memory_mb, report
from bot.core.messages import IncomingMessage, OutgoingMessage, SendResult
from bot.core.settings import Settings
from bot.runtime.app import App, settle_heap
from storage.enums import Role

PLATFORM = "bench"
SPENT: dict[str, float] = {}
WORDS = [
    "加装",
    "电梯",
    "补贴",
    "停车",
    "绿化",
    "噪音",
    "夜市",
    "路灯",
    "养老",
    "托育",
    "社区",
    "食堂",
    "公交",
    "站点",
    "学校",
    "医院",
]


class AcceptingPlatform:
    """A platform that takes every message at once."""

    platform = PLATFORM

    async def send(self, message: OutgoingMessage) -> SendResult:
        return SendResult.sent()

    async def start(self, dispatcher: object) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to close."""


class Workload:
    """Votes, opinions, seconds and chatter from members of many groups."""

    def __init__(self, members: int, groups: int, seed: int = 7, prefix: str = "b") -> None:
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.groups = [f"群{g:03d}" for g in range(groups)]
        self.members_per_group = max(1, members // groups)
        self.count = 0
        self.opinions = dict.fromkeys(self.groups, 0)

    def setup(self) -> list[IncomingMessage]:
        """Each group: the moderator opens a consultation and a poll."""
        messages = []
        for group in self.groups:
            for text in ("/协商 开始 基准测试", "/投票 是否支持？| 支持 | 反对 | 弃权"):
                messages.append(self._message(group, "moderator", text, Role.MODERATOR))
        return messages

    def next(self) -> IncomingMessage:
        """One more message from a random member of a random group."""
        group = self.rng.choice(self.groups)
        member = f"{group}-m{self.rng.randrange(self.members_per_group)}"
        roll = self.rng.random()
        if roll < 0.5:
            text = f"/投 {self.rng.randint(1, 3)}"
        elif roll < 0.8 or self.opinions[group] == 0:
            self.opinions[group] += 1
            text = "/意见 " + "".join(self.rng.choices(WORDS, k=8))
        elif roll < 0.9:
            text = f"/附议 #{self.rng.randint(1, self.opinions[group])}"
        else:
            text = "大家好，" + "".join(self.rng.choices(WORDS, k=4))
        return self._message(group, member, text, None)

    def _message(self, group: str, member: str, text: str, role: Role | None) -> IncomingMessage:
        self.count += 1
        return IncomingMessage(
            platform=PLATFORM,
            conversation_id=group,
            conversation_title=group,
            sender_id=member,
            sender_name=member,
            text=text,
            message_id=f"{self.prefix}{self.count}",
            timestamp=datetime.now(UTC),
            addressed=not text.startswith("大家好"),
            platform_roles=frozenset({role}) if role else frozenset(),
        )


async def saturate(
    app: App, workload: Workload, total: int, in_flight: int
) -> tuple[float, list[float]]:
    """Keep `in_flight` messages outstanding until `total` are committed; rate and latencies."""
    latencies: list[float] = []
    remaining = total

    async def producer() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            message = workload.next()
            started = time.perf_counter()
            await app.dispatcher.dispatch(message)
            latencies.append(time.perf_counter() - started)

    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(producer() for _ in range(in_flight)))
    SPENT["cpu per message"] = (time.process_time() - cpu) / total
    return total / (time.perf_counter() - began), latencies


async def paced(app: App, workload: Workload, rate: float, seconds: float) -> list[float]:
    """Send at `rate` a second for `seconds`, open loop; latency from receipt to commit."""
    latencies: list[float] = []

    async def one(message: IncomingMessage) -> None:
        started = time.perf_counter()
        await app.dispatcher.dispatch(message)
        latencies.append(time.perf_counter() - started)

    tasks = []
    began = time.perf_counter()
    for number in range(int(rate * seconds)):
        delay = began + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(workload.next())))
    await asyncio.gather(*tasks)
    return latencies


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(
    url: str, messages: int, members: int, groups: int, label: str, lanes: int | None
) -> list[Figure]:
    """Measure one database."""
    app = bench_app(url, lanes)
    await app.start()
    settle_heap()  # as `xieshang run` does
    try:
        workload = Workload(members, groups)
        for message in workload.setup():
            await app.dispatcher.dispatch(message)
        rate, loaded = await saturate(app, workload, messages, in_flight=256)
        calm = await paced(app, workload, rate / 2, seconds=4)
    finally:
        await app.stop()
    name = f"ingest-{label}"
    # Issue 2 asked 2,000 a second of SQLite; issue 8 raised it to 3,000, and 1,500 for one
    # process on PostgreSQL.
    aim = "≥ 3,000" if label == "sqlite" else "≥ 1,500"
    return [
        Figure(name, "messages a second (256 in flight)", rate, "msg/s", aim),
        Figure(name, "CPU per message, both threads", SPENT["cpu per message"] * 1e6, "µs"),
        Figure(name, "p50 receipt→commit, saturated", statistics.median(loaded) * 1000, "ms"),
        Figure(name, "p50 receipt→commit at half rate", statistics.median(calm) * 1000, "ms"),
        Figure(
            name, "p99 receipt→commit at half rate", percentile(calm, 0.99) * 1000, "ms", "< 50 ms"
        ),
        Figure(name, "peak memory", peak_memory_mb(), "MB", "< 300 MB"),
    ]


def bench_app(url: str, lanes: int | None) -> App:
    """A bot on `url` with a platform that takes everything (`lanes`: None for the default)."""
    # Dicts, not models: the environment's XIESHANG_ overrides merge into dicts, but would
    # replace a whole model given here (and with it the URL).
    database: dict[str, object] = {"url": url}
    if lanes is not None:
        database["lanes"] = lanes
    settings = Settings(database=database)
    return App(settings, adapters=[AcceptingPlatform()], secret=b"bench", serve_web=False)


async def worker(url: str, messages: int, members: int, groups: int, number: int) -> None:
    """One of several processes: start, say ready, wait for go, run, print what it did."""
    app = bench_app(url, None)
    await app.start()
    settle_heap()
    try:
        workload = Workload(members, groups, seed=100 + number, prefix=f"p{number}-")
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        began = time.time()
        await saturate(app, workload, messages, in_flight=256)
        ended = time.time()
    finally:
        await app.stop()
    print(json.dumps({"began": began, "ended": ended, "messages": messages}), flush=True)


async def prepare(url: str, members: int, groups: int) -> None:
    """Open every group's consultation and poll once, before the processes start."""
    app = bench_app(url, None)
    await app.start()
    try:
        for message in Workload(members, groups).setup():
            await app.dispatcher.dispatch(message)
    finally:
        await app.stop()


def several(url: str, processes: int, messages: int, members: int, groups: int) -> float:
    """Run `processes` bot processes at once on `url`; their combined messages a second."""
    asyncio.run(prepare(url, members, groups))
    each = messages // processes
    command = [sys.executable, __file__, "--worker", "--url", url, "--messages", str(each)]
    command += ["--members", str(members), "--groups", str(groups)]
    children = [
        subprocess.Popen(
            [*command, "--number", str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for n in range(processes)
    ]
    for child in children:
        line = child.stdout.readline() if child.stdout else ""
        if line.strip() != "ready":
            raise RuntimeError("a bench process did not start")
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [json.loads(child.communicate()[0].splitlines()[-1]) for child in children]
    began = min(r["began"] for r in results)
    ended = max(r["ended"] for r in results)
    return float(sum(r["messages"] for r in results) / (ended - began))


def postgres_schema(base: str) -> Iterator[str]:
    """A fresh schema on `base` for one measurement, dropped afterwards."""
    import sqlalchemy as sa

    from storage.engine import normalize_url

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(normalize_url(base))
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def fresh_database(url: str | None) -> Iterator[str]:
    """A new database for one round: a SQLite file in a folder removed afterwards, a new
    schema on the PostgreSQL `url`, or the SQLite file `url` names."""
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
    elif url.startswith("sqlite"):
        yield url
    else:
        yield from postgres_schema(url)


def medians(rounds: list[list[Figure]]) -> list[Figure]:
    """Each figure's median over the rounds (each round lists the same figures)."""
    return [
        replace(first, value=statistics.median(figures[i].value for figures in rounds))
        for i, first in enumerate(rounds[0])
    ]


def postgres_figures(
    base: str, messages: int, members: int, groups: int, rounds: int
) -> list[Figure]:
    """One process (with latencies) and two processes on PostgreSQL, and their ratio."""
    ones, twos = [], []
    for _ in range(rounds):  # taking turns, so the machine's drift touches both alike
        for url in postgres_schema(base):
            ones.append(asyncio.run(run(url, messages, members, groups, "postgresql", None)))
        for url in postgres_schema(base):
            twos.append(several(url, 2, messages, members, groups))
    figures = medians(ones)
    one, two = figures[0].value, statistics.median(twos)
    return [
        *figures,
        Figure("ingest-postgresql", "messages a second, two processes", two, "msg/s", "≥ 1.6× one"),
        Figure("ingest-postgresql", "two processes ÷ one", two / one, "×", "≥ 1.6"),
    ]


def main() -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--lanes", type=int, help="transactions side by side (default: 1)")
    parser.add_argument("--processes", type=int, default=1, help="bot processes (PostgreSQL)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements; medians reported")
    parser.add_argument("--json", action="store_true", help="JSON lines for python -m bench")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--number", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = (args.messages, args.members, args.groups)
    if args.worker:
        asyncio.run(worker(args.url, *sizes, args.number))
        return
    if args.processes > 1:
        if not args.url or args.url.startswith("sqlite"):
            parser.error("several processes need a PostgreSQL --url")
        rates = []
        for _ in range(args.rounds):
            for url in postgres_schema(args.url):
                rates.append(several(url, args.processes, *sizes))
        rate = statistics.median(rates)
        name = f"messages a second, {args.processes} processes"
        report([Figure("ingest-postgresql", name, rate, "msg/s")])
        return
    if args.url and args.url.startswith("sqlite") and args.rounds > 1:
        parser.error("each round needs a new database: leave out --url for SQLite, or --rounds 1")
    rounds = []
    for _ in range(args.rounds):
        for url in fresh_database(args.url):
            label = "sqlite" if url.startswith("sqlite") else "postgresql"
            rounds.append(asyncio.run(run(url, *sizes, label, args.lanes)))
    figures = medians(rounds)
    postgres = os.environ.get("XIESHANG_BENCH_DATABASE_URL")
    if args.json and not args.url and postgres:
        figures += postgres_figures(postgres, *sizes, args.rounds)
    report(figures)


if __name__ == "__main__":
    main()
