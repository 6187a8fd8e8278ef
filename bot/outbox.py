"""The outbox sender: drains committed replies per conversation within the platform's limit.

Rows of one conversation go strictly in order, one message at a time. Under load the
backlog is folded: neighbouring replies travel together, the same answer to many members
is said once, and acknowledgements of many members become one line ("已记录 37 条意见
#12–#48"), never one group message per vote.
A refusal leaves the rows in place with a later `not_before`; nothing is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlmodel import Session

from bot.clock import Clock
from bot.config import Settings
from bot.database import Database
from bot.messages import OutgoingMessage, SendResult
from bot.ratelimit import SlidingWindowLimiter, Window
from bot.router import View
from bot.text import format_refs
from storage import outbox
from storage.models import OutboxRow

log = logging.getLogger(__name__)

MERGEABLE = frozenset({"text", "ack"})
MAX_MENTIONS = 20
FETCH = 200


class Sender(Protocol):
    """What the outbox needs of a platform adapter."""

    platform: str

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Deliver one message; say whether the platform took it."""
        ...


@dataclass(frozen=True, slots=True)
class Composed:
    """The next message of a conversation, or when to look again if it must wait."""

    message: OutgoingMessage | None
    wait_until: datetime | None = None


def compose(
    rows: list[OutboxRow], *, now: datetime, ack_delay: timedelta, max_chars: int
) -> Composed:
    """Fold the first due rows of a conversation into one message."""
    due = []
    for row in rows:
        if row.not_before > now:
            break  # a later row must not overtake one that waits for a retry
        due.append(row)
    if not due:
        return Composed(None, rows[0].not_before if rows else None)
    if all(row.kind == "ack" for row in due) and now - due[0].created_at < ack_delay:
        # Only acknowledgements: give the burst a moment to gather into one message.
        return Composed(None, due[0].created_at + ack_delay)

    first = due[0]
    if first.kind not in MERGEABLE:
        return Composed(_message(first, [first], first.body, first.kind))

    taken: list[OutboxRow] = []
    blocks: list[str] = []
    acks: list[OutboxRow] = []
    length = 0
    for row in due:
        if row.kind not in MERGEABLE:
            break
        if row.kind != "ack" and not acks and blocks and blocks[-1] == row.body:
            taken.append(row)  # the same answer to many (200 × /帮助) is said once
            continue
        size = len(row.body) + 2
        if taken and length + size > max_chars:
            break
        taken.append(row)
        length += size
        if row.kind == "ack":
            acks.append(row)
            continue
        if acks:
            blocks.append(_summarize(acks))
            acks = []
        blocks.append(row.body)
    if acks:
        blocks.append(_summarize(acks))
    return Composed(_message(first, taken, "\n\n".join(blocks), "text"))


def _summarize(acks: list[OutboxRow]) -> str:
    """Acknowledgements grouped by kind: one line each."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in acks:
        ack = row.payload["ack"]
        groups.setdefault(ack["key"], []).append(ack)
    lines = []
    for same in groups.values():
        if len(same) == 1:
            lines.append(same[0]["one"])
            continue
        refs = [a["ref"] for a in same if a.get("ref") is not None]
        tail = f" {format_refs(refs)}" if refs else ""
        lines.append(f"{same[0]['prefix']}已记录 {len(same)} {same[0]['unit']}{tail}")
    return "\n".join(lines)


def _message(first: OutboxRow, rows: list[OutboxRow], body: str, kind: str) -> OutgoingMessage:
    mentions: dict[str, None] = {}
    reply: Mapping[str, Any] = {}
    for row in rows:
        for user in row.payload.get("mentions", ()):
            mentions[user] = None
        reply = row.payload.get("reply") or reply  # the freshest way to answer wins
    return OutgoingMessage(
        platform=first.platform,
        conversation_id=first.conversation_id,
        kind=kind,
        body=body,
        mentions=tuple(mentions)[:MAX_MENTIONS] if len(mentions) <= MAX_MENTIONS else (),
        reply_context=reply,
        payload=first.payload,
        row_ids=tuple(row.id for row in rows if row.id is not None),
    )


def retry_delay(attempts: int, cap: float) -> float:
    """Seconds before the next try: doubling from 1 s up to `cap`, with some jitter."""
    # A persisted not_before, not a retry loop around a call, so tenacity does not fit here.
    return min(cap, 2.0 ** min(attempts, 20)) * random.uniform(0.8, 1.2)


class OutboxSender:
    """Sends pending rows for every conversation, each in order and within its limit."""

    def __init__(
        self,
        *,
        database: Database,
        adapters: Mapping[str, Sender],
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.database = database
        self.adapters = adapters
        self.settings = settings
        self.clock = clock
        # Filled by the app wiring from the routers (see Router.outbox_view).
        self.views: dict[str, View] = {}
        self.update_kinds: set[str] = set()
        self._limiters: dict[str, SlidingWindowLimiter] = {}
        self._busy: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """New rows were committed: look at the outbox now."""
        self._wakeup.set()

    async def run(self) -> None:
        """Loop until stopped: send what is due, then sleep until the next due moment."""
        while not self._stopping:
            self._wakeup.clear()
            try:
                pause = await self.send_due()
            except Exception:
                log.exception("outbox pass failed; trying again shortly")
                pause = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=pause)

    async def stop(self) -> None:
        """Stop after the sends under way."""
        self._stopping = True
        self._wakeup.set()
        if self._busy:
            await asyncio.gather(*self._busy.values(), return_exceptions=True)

    async def send_due(self) -> float:
        """Start sending for every conversation with due rows; seconds until the next look."""
        now = self.clock.now()
        pending = await self.database.run(outbox.pending_conversations)
        pause = 5.0
        for conversation in pending:
            key = (conversation.platform, conversation.conversation_id)
            if conversation.platform not in self.adapters or key in self._busy:
                continue
            if conversation.due_at > now:
                pause = min(pause, (conversation.due_at - now).total_seconds())
                continue
            task = asyncio.create_task(self._drain(key))
            self._busy[key] = task
            task.add_done_callback(partial(self._done, key))
        return max(pause, 0.01)

    async def flush(self) -> None:
        """Send everything that is due now and wait for it (tests, replays, shutdown)."""
        # Twice: a drain the background loop had already started may have read the clock
        # before these rows fell due; the first pass waits for it, the second sends them.
        for _ in range(2):
            await self.send_due()
            while self._busy:
                await asyncio.gather(*list(self._busy.values()), return_exceptions=True)

    def _done(self, key: tuple[str, str], _task: asyncio.Task[None]) -> None:
        self._busy.pop(key, None)
        # Rows committed while this conversation was busy were skipped by the last pass.
        self._wakeup.set()

    def _limiter(self, platform: str) -> SlidingWindowLimiter:
        limiter = self._limiters.get(platform)
        if limiter is None:
            rate = self.settings.platforms.rate_limit(platform)
            windows = [Window(rate.per_minute, timedelta(minutes=1))]
            if rate.per_hour:
                windows.append(Window(rate.per_hour, timedelta(hours=1)))
            limiter = self._limiters[platform] = SlidingWindowLimiter(windows)
        return limiter

    async def _drain(self, key: tuple[str, str]) -> None:
        platform, conversation_id = key
        adapter = self.adapters[platform]
        limiter = self._limiter(platform)
        settings = self.settings.outbox
        while not self._stopping:
            now = self.clock.now()
            rows = await self.database.run(
                partial(
                    outbox.pending_rows,
                    platform=platform,
                    conversation_id=conversation_id,
                    limit=FETCH,
                )
            )
            updates = [r for r in rows if r.kind in self.update_kinds and r.not_before <= now]
            if updates:
                # Not group messages: outside the budget, and only the latest of each counts.
                if await self._send_updates(adapter, updates):
                    continue
                return
            wait = limiter.wait(key, now)
            if wait > 0:
                self._wake_later(wait)
                return
            composed = compose(
                [r for r in rows if r.kind not in self.update_kinds],
                now=now,
                ack_delay=timedelta(seconds=settings.ack_delay_seconds),
                max_chars=settings.max_message_chars,
            )
            if composed.message is None:
                if composed.wait_until is not None:
                    self._wake_later((composed.wait_until - now).total_seconds())
                return
            limiter.record(key, now)
            if not await self._deliver(adapter, await self._viewed(composed.message), rows):
                return

    async def _send_updates(self, adapter: Sender, updates: list[OutboxRow]) -> bool:
        """Send the latest update of each thing shown; False if the platform refused."""
        latest: dict[str, list[OutboxRow]] = {}
        for row in updates:
            latest.setdefault(f"{row.kind}:{row.payload.get('key', row.id)}", []).append(row)
        for same in latest.values():
            last = same[-1]
            message = OutgoingMessage(
                platform=last.platform,
                conversation_id=last.conversation_id,
                kind=last.kind,
                body=last.body,
                reply_context=last.payload.get("reply") or {},
                payload=last.payload,
                row_ids=tuple(r.id for r in same if r.id is not None),
            )
            if not await self._deliver(adapter, await self._viewed(message), same):
                return False
        return True

    async def _viewed(self, message: OutgoingMessage) -> OutgoingMessage:
        """The message with its payload completed by its kind's view, if it has one."""
        view = self.views.get(message.kind)
        if view is None:
            return message
        data = dict(message.payload)

        def complete(session: Session) -> dict[str, Any]:
            return view(session, data)

        return replace(message, payload=await self.database.run(complete))

    async def _deliver(
        self, adapter: Sender, message: OutgoingMessage, rows: list[OutboxRow]
    ) -> bool:
        """Hand one message to the platform and record the result; True if it was taken."""
        try:
            result = await adapter.send(message)
        except Exception as error:  # an adapter bug must not lose the rows
            log.exception("send to %s failed", message.conversation_id)
            result = SendResult.retry(f"{type(error).__name__}: {error}")
        if result.ok:
            await self.database.run(
                partial(outbox.mark_sent, ids=message.row_ids, now=self.clock.now())
            )
            return True
        attempts = max(r.attempts for r in rows if r.id in message.row_ids)
        delay = result.retry_after or retry_delay(attempts, self.settings.outbox.retry_max_seconds)
        log.warning(
            "send to %s:%s refused (%s); retrying in %.1fs",
            message.platform,
            message.conversation_id,
            result.error,
            delay,
        )
        retry_at = self.clock.now() + timedelta(seconds=delay)
        await self.database.run(
            partial(outbox.mark_retry, ids=message.row_ids, error=result.error, not_before=retry_at)
        )
        return False

    def _wake_later(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(max(seconds, 0.01), self._wakeup.set)
