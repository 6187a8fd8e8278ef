"""How fast a real `xieshang run` acknowledges a 200-member DingTalk vote burst, and how fast
it is back after the gateway drops its socket. Prints a table; asserts nothing.

    .venv/bin/python -m bench.dingtalk_burst [--database-url URL] [--members 200]

Every scenario starts a fresh bot (SQLite in a temporary folder unless a URL is given)
against the fake DingTalk of the tests; times are wall-clock on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Figure, report
from tests.fakes.bot import BotProcess
from tests.fakes.dingtalk import ROBOT_TOPIC, FakeDingTalk, Frame

MODERATOR = "王主任"


@dataclass
class Scenario:
    """One burst: over how long it arrives, and whether the socket is cut halfway."""

    name: str
    over: float
    drop: bool
    duplicates: int


@dataclass
class Measured:
    """What one scenario took."""

    all_acked: float
    latency_p50: float
    latency_max: float
    recovery: float | None
    redelivered: int
    group_messages: int


def run(scenario: Scenario, members: int, database_url: str | None) -> Measured:
    """Start a bot, open a poll, send the burst, and time the acknowledgements."""
    with tempfile.TemporaryDirectory() as folder, FakeDingTalk() as dingtalk:
        workdir = Path(folder)
        url = database_url or f"sqlite:///{workdir / 'xieshang.db'}"
        bot = BotProcess(workdir, {**dingtalk.env(), "XIESHANG_DATABASE__URL": url}).start()
        try:
            dingtalk.wait_connected()
            group = dingtalk.group()
            group.say_and_wait(MODERATOR, "/协商 开始 夜市延长营业时间", admin=True)
            group.say_and_wait(MODERATOR, "/投票 夜市延长到23点？| 支持 | 反对 | 弃权", admin=True)
            votes = [
                (
                    ROBOT_TOPIC,
                    group.message(f"委员{i:03d}", f"/投 {i % 3 + 1}"),
                    1 + (i < scenario.duplicates),
                )
                for i in range(members)
            ]
            started = time.monotonic()
            frame_ids = dingtalk.push_spread(votes, over=scenario.over)
            if scenario.drop:
                dingtalk.drop(after=scenario.over / 2 or 0.05)
            frames = dingtalk.wait_acked(frame_ids, timeout=120)
            all_acked = max(f.acked_at or 0.0 for f in frames) - started
            dingtalk.wait_until(
                lambda: sum("张选票" in p.text or "的选票" in p.text for p in group.posts()),
                30,
                "the acknowledgements posted",
            )
            recovery = None
            if scenario.drop and dingtalk.drops:
                cut = dingtalk.drops[0]
                recovery = min(c.opened_at for c in dingtalk.connections if c.opened_at > cut) - cut
            return Measured(
                all_acked=all_acked,
                latency_p50=statistics.median(_latencies(frames)),
                latency_max=max(_latencies(frames)),
                recovery=recovery,
                redelivered=sum(f.deliveries - 1 for f in frames),
                group_messages=len(group.posts()),
            )
        finally:
            bot.stop()


def _latencies(frames: list[Frame]) -> list[float]:
    return [(f.acked_at or 0.0) - (f.sent_at or 0.0) for f in frames]


def figures_of(scenarios: list[Scenario], members: int, url: str | None) -> list[Figure]:
    """The figures `make bench` shows: acknowledgement and recovery times."""
    figures = []
    for scenario in scenarios:
        m = run(scenario, members, url)
        label = f"{members} votes {scenario.name}"
        aim = "≤ 1 s" if not scenario.drop and scenario.over == 0 else ""
        figures.append(Figure("dingtalk-burst", f"{label}: all acked", m.all_acked, "s", aim))
        figures.append(
            Figure(
                "dingtalk-burst",
                f"{label}: messages to the group",
                m.group_messages,
                "",
                "≤ 20 a minute",
            )
        )
        if m.recovery is not None:
            figures.append(
                Figure("dingtalk-burst", f"{label}: back after the cut", m.recovery, "s", "≤ 3 s")
            )
    return figures


def main() -> int:
    """Run the scenarios and print one row each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="JSON lines for python -m bench")
    args = parser.parse_args()
    scenarios = [
        Scenario("all at once", over=0.0, drop=False, duplicates=0),
        Scenario("over 2 s, 5% twice", over=2.0, drop=False, duplicates=args.members // 20),
        Scenario(
            "over 2 s, 5% twice, socket cut", over=2.0, drop=True, duplicates=args.members // 20
        ),
    ]
    if args.json:
        report(figures_of(scenarios, args.members, args.database_url))
        return 0
    print(f"DingTalk burst: {args.members} members vote; database {args.database_url or 'SQLite'}")
    header = (
        f"{'scenario':<32}{'all acked s':>12}{'p50 ack s':>11}{'max ack s':>11}"
        f"{'recovery s':>12}{'redelivered':>13}{'group msgs':>12}"
    )
    print(header)
    print("-" * len(header))
    for scenario in scenarios:
        m = run(scenario, args.members, args.database_url)
        recovery = f"{m.recovery:.2f}" if m.recovery is not None else "-"
        print(
            f"{scenario.name:<32}{m.all_acked:>12.2f}{m.latency_p50:>11.3f}{m.latency_max:>11.3f}"
            f"{recovery:>12}{m.redelivered:>13}{m.group_messages:>12}"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
