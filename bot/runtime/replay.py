"""`xieshang replay`: feed a transcript through the dispatcher and print the bot's replies,
the minutes its `/纪要` asked for included (the replay waits for them before it returns)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from bot.core.clock import ManualClock
from bot.core.dispatcher import Status
from bot.core.messages import IncomingMessage
from bot.runtime.app import App
from storage.enums import Role
from storage.outbox import mark_platform_sent
from workers.minutes_worker import Posted

PLATFORM = "replay"


@dataclass
class ReplayStats:
    """What a replay did."""

    messages: int = 0
    duplicates: int = 0
    skipped: int = 0
    replies: int = 0
    # Versions of the minutes built for the transcript's /纪要, and builds that failed.
    minutes: int = 0
    minutes_failed: int = 0


def read_transcript(path: Path, conversation: str) -> Iterator[IncomingMessage | str]:
    """Messages of a JSONL transcript; a line that cannot be read yields its error instead."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield _message(json.loads(line), path, number, conversation)
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                yield f"第 {number} 行无法读取，已跳过：{error}"


def _message(
    data: dict[str, object], path: Path, number: int, conversation: str
) -> IncomingMessage:
    moment = datetime.fromisoformat(str(data["time"]))
    if moment.tzinfo is None:
        raise ValueError("time 需要带时区，如 2026-11-24T15:30:00+08:00")
    role = Role(str(data.get("role", "member")))
    return IncomingMessage(
        platform=PLATFORM,
        conversation_id=str(data.get("conversation") or conversation),
        conversation_title=str(data.get("conversation") or conversation),
        sender_id=str(data["sender_id"]),
        sender_name=str(data.get("sender_name") or data["sender_id"]),
        text=str(data["text"]),
        message_id=str(data.get("id") or f"{path.name}:{number}"),
        timestamp=moment,
        platform_roles=frozenset({role}),
    )


async def replay(
    app: App, clock: ManualClock, path: Path, out: TextIO, *, conversation: str = "replay"
) -> ReplayStats:
    """Dispatch every line in order at its own time, firing deadlines as time passes, and
    return once the minutes asked for are built."""
    stats = ReplayStats()

    def print_minutes(posted: Posted) -> None:
        # Whoever built them (the background task while the replay goes on, or the drain
        # below), they are printed as the group receives them.
        if posted.platform != PLATFORM:
            return
        stats.replies += 1
        if posted.version is None:
            stats.minutes_failed += 1
        else:
            stats.minutes += 1
        tqdm.write(_indent(posted.body), file=out)

    app.minutes.posted_listeners.append(print_minutes)
    try:
        await _replay_lines(app, clock, path, out, conversation, stats)
        # The minutes asked for (and any build under way) are in the database before the
        # replay returns: an operator reads them next with `xieshang minutes`.
        await app.minutes.drain()
    finally:
        app.minutes.posted_listeners.remove(print_minutes)
    # The replies went to `out`: that was their delivery.
    await app.database.run(partial(mark_platform_sent, platform=PLATFORM, now=clock.now()))
    return stats


async def _replay_lines(
    app: App, clock: ManualClock, path: Path, out: TextIO, conversation: str, stats: ReplayStats
) -> None:
    total = sum(1 for line in path.open(encoding="utf-8") if line.strip())
    bar = tqdm(total=total, unit="条", disable=total < 500 or None, file=None)
    for item in read_transcript(path, conversation):
        bar.update()
        if isinstance(item, str):
            stats.skipped += 1
            tqdm.write(item, file=out)
            continue
        if item.timestamp > clock.now():
            clock.set(item.timestamp)
        for reply in await app.scheduler.run_due(clock.now()):
            tqdm.write(_indent(reply), file=out)
        outcome = await app.dispatcher.dispatch(item)
        stats.messages += 1
        if outcome.status is Status.DUPLICATE:
            stats.duplicates += 1
            continue
        tqdm.write(f"{item.sender_name}：{item.text}", file=out)
        for reply in outcome.replies:
            stats.replies += 1
            tqdm.write(_indent(reply), file=out)
    bar.close()


def first_time(path: Path) -> datetime | None:
    """The time of the transcript's first readable message (where the replay clock starts)."""
    for item in read_transcript(path, "replay"):
        if isinstance(item, IncomingMessage):
            return item.timestamp
    return None


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in f"协商助手：{text}".splitlines())
