"""The outbox sender: drains committed replies per conversation within the platform's limit.

Rows of one conversation go strictly in order, one message at a time. Under load the
backlog is folded: neighbouring replies travel together, the same answer to many members
is said once, and acknowledgements of many members become one line ("已记录 37 条意见
#12–#48"), never one group message per vote.
A refusal leaves the rows in place with a later `not_before`; nothing is dropped. A row
too long for one message of its platform goes out a part at a time: each part sent leaves
the rest queued in the row's place, so the parts keep their order and their rate, and a
restart sends only what had not gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.context import Ack, Envelope
from bot.core.messages import Kind, OutgoingMessage, ReplyRoute, SendResult
from bot.core.metrics import Metrics
from bot.core.settings import Settings
from bot.core.text import first_part, format_refs
from bot.delivery.cards import CardViews
from bot.delivery.channels import Channel, Channels, LocalChannels
from storage import outbox
from storage.database import Database
from storage.outbox import PendingRow

log = logging.getLogger(__name__)

MERGEABLE = frozenset({Kind.TEXT, Kind.ACK})
# Rows whose body may be sent in parts (a card or a file is one thing, laid out whole).
SPLITTABLE = frozenset({Kind.TEXT, Kind.ACK, Kind.MARKDOWN})
# Rows that refresh something shown rather than post a message.
UPDATES = frozenset({Kind.CARD_UPDATE})
MAX_MENTIONS = 20
# People named in one folded acknowledgement line ("已记录 12 次附议：张三 #2；…").
MAX_NAMED = 10
FETCH = 1000
# Every commit wakes the sender; one pass per this many seconds is enough, and leaves the
# database thread to the dispatcher in a burst.
PASS_GAP = 0.05
# How often every conversation with pending rows is looked at, hinted or not.
SCAN_EVERY = 2.0
# A hint that says nothing about the kinds of rows waiting.
ANY_KIND = "*"


class Sender(Protocol):
    """What the outbox needs of a platform adapter. One whose platform limits the size of
    a message also offers `fits(message) -> bool` (see `Fits`): a longer row is sent in
    parts that fit."""

    platform: str

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Deliver one message; say whether the platform took it."""
        ...


# Whether a message, laid out as its platform shows it, fits one message of the platform.
Fits = Callable[[OutgoingMessage], bool]


@dataclass(frozen=True, slots=True)
class Queued:
    """A pending outbox row, read as the typed values it was written from."""

    id: int
    platform: str
    conversation_id: str
    kind: Kind
    body: str
    envelope: Envelope
    created_at: datetime
    not_before: datetime
    attempts: int

    @classmethod
    def of(cls, row: PendingRow) -> Queued:
        """Read a row as storage returns it."""
        return cls(
            id=row.id,
            platform=row.platform,
            conversation_id=row.conversation_id,
            kind=Kind(row.kind),
            body=row.body,
            envelope=Envelope.from_json(row.payload),
            created_at=row.created_at,
            not_before=row.not_before,
            attempts=row.attempts,
        )


def pending(session: Session, **criteria: Any) -> list[Queued]:
    """`storage.outbox.pending_rows` as typed rows."""
    return [Queued.of(row) for row in outbox.pending_rows(session, **criteria)]


@dataclass(frozen=True, slots=True)
class Composed:
    """The next message of a conversation, or when to look again if it must wait."""

    message: OutgoingMessage | None
    wait_until: datetime | None = None
    # The card a card message shows (`poll:12`), to be viewed as it stands when sent.
    card: str | None = None
    # The message is the first part of its one row: what stays queued once it was sent.
    rest: str | None = None


@dataclass(frozen=True, slots=True)
class _Hold:
    """No message of a conversation goes before `until`."""

    until: datetime
    # Only acknowledgements are held: a new reply of another kind ends the hold.
    soft: bool
    # A look at the conversation is scheduled for when the hold ends.
    looking: bool


def compose(
    rows: list[Queued],
    *,
    now: datetime,
    ack_delay: timedelta,
    max_chars: int,
    fits: Fits | None = None,
) -> Composed:
    """Fold the first due rows of a conversation into one message; with `fits`, a message
    too long for the platform is its first row's first part (see `first_part`)."""
    composed = _compose(rows, now=now, ack_delay=ack_delay, max_chars=max_chars)
    message = composed.message
    if fits is None or message is None or message.kind not in SPLITTABLE or fits(message):
        return composed
    first = rows[0]
    if len(message.row_ids) > 1:
        # Neighbours folded past the platform's size: the first row goes alone.
        message = _message(first, [first], first.body, Kind.TEXT)
    head, rest = first_part(message.body, lambda part: fits(replace(message, body=part)))
    if not rest:
        return Composed(message)
    return Composed(replace(message, body=head), rest=rest)


def _compose(
    rows: list[Queued], *, now: datetime, ack_delay: timedelta, max_chars: int
) -> Composed:
    due = []
    for row in rows:
        if row.not_before > now:
            break  # a later row must not overtake one that waits for a retry
        due.append(row)
    if not due:
        return Composed(None, rows[0].not_before if rows else None)
    if all(row.kind is Kind.ACK for row in due) and now - due[0].created_at < ack_delay:
        # Only acknowledgements: give the burst a moment to gather into one message.
        return Composed(None, due[0].created_at + ack_delay)

    first = due[0]
    if first.kind not in MERGEABLE:
        return Composed(_message(first, [first], first.body, first.kind), card=first.envelope.card)

    taken: list[Queued] = []
    blocks: list[str] = []
    acks: list[Queued] = []
    length = 0
    for row in due:
        if row.kind not in MERGEABLE:
            break
        if row.kind is not Kind.ACK and not acks and blocks and blocks[-1] == row.body:
            taken.append(row)  # the same answer to many (200 × /帮助) is said once
            continue
        # Acknowledgements fold into one line per kind, whatever their number.
        size = 0 if row.kind is Kind.ACK else len(row.body) + 2
        if taken and length + size > max_chars:
            break
        taken.append(row)
        length += size
        if row.kind is Kind.ACK:
            acks.append(row)
            continue
        if acks:
            blocks.append(_summarize(acks))
            acks = []
        blocks.append(row.body)
    if acks:
        blocks.append(_summarize(acks))
    return Composed(_message(first, taken, "\n\n".join(blocks), Kind.TEXT))


def _summarize(rows: list[Queued]) -> str:
    """Acknowledgements grouped by kind: one line each."""
    groups: dict[str, list[Ack]] = {}
    for row in rows:
        ack = row.envelope.ack or Ack(key=f"row:{row.id}", one=row.body, unit="")
        groups.setdefault(ack.key, []).append(ack)
    lines = []
    for same in groups.values():
        if len(same) == 1:
            lines.append(same[0].one)
            continue
        refs = [ack.ref for ack in same if ack.ref is not None]
        tail = f" {format_refs(refs)}" if refs else ""
        if all(ack.who for ack in same):
            tail = "：" + _by_whom(same)
        lines.append(f"{same[0].prefix}已记录 {len(same)} {same[0].unit}{tail}")
    return "\n".join(lines)


def _by_whom(acks: list[Ack]) -> str:
    """`张三 #2、#4；李四 #4`: who, and what, in the order they came; a long list is cut
    after MAX_NAMED people (a phone screen)."""
    refs: dict[str, list[int]] = {}
    for ack in acks:
        refs.setdefault(ack.who, []).extend([ack.ref] if ack.ref is not None else [])
    named = [f"{who} {format_refs(numbers)}".strip() for who, numbers in refs.items()]
    if len(named) > MAX_NAMED:
        return "；".join(named[:MAX_NAMED]) + f" 等 {len(named)} 人"
    return "；".join(named)


def _message(first: Queued, rows: list[Queued], body: str, kind: Kind) -> OutgoingMessage:
    mentions: dict[str, None] = {}
    route: ReplyRoute | None = None
    for row in rows:
        mentions.update(dict.fromkeys(row.envelope.mentions))
        route = row.envelope.route or route  # the freshest way to answer wins
    return OutgoingMessage(
        platform=first.platform,
        conversation_id=first.conversation_id,
        kind=kind,
        body=body,
        mentions=tuple(mentions)[:MAX_MENTIONS] if len(mentions) <= MAX_MENTIONS else (),
        route=route,
        row_ids=tuple(row.id for row in rows),
        file=first.envelope.file if kind is Kind.FILE else None,
    )


def _update_key(row: Queued) -> str:
    return f"{row.kind}:{row.envelope.card or row.id}"


def retry_delay(attempts: int, cap: float) -> float:
    """Seconds before the next try: doubling from 1 s up to `cap`, with some jitter."""
    # A persisted not_before, not a retry loop around a call, so tenacity does not fit here.
    return min(cap, 2.0 ** min(attempts, 20)) * random.uniform(0.8, 1.2)


Key = tuple[str, str]


class OutboxSender:
    """Sends pending rows for every conversation, each in order and within its limit.

    It reads a conversation's rows only when something may go: the dispatcher names the
    conversations (and row kinds) each commit touched, a conversation held back by its
    limit, the acknowledgement delay or a retry sleeps until then, and a full scan every
    few seconds finds anything else (rows left by a previous run or another process).
    """

    def __init__(
        self,
        *,
        database: Database,
        adapters: Mapping[str, Sender],
        settings: Settings,
        clock: Clock,
        metrics: Metrics | None = None,
        channels: Channels | None = None,
    ) -> None:
        self.database = database
        self.adapters = adapters
        self.metrics = metrics or Metrics()
        self.channels: Channels = channels or LocalChannels(database, settings)
        self.settings = settings
        self.clock = clock
        # Set by the app wiring: the cards as the features view them (Router.card_view).
        self.cards: CardViews | None = None
        self._refreshed: dict[tuple[str, str, str], datetime] = {}
        # Conversations whose pending updates may not go before this time.
        self._updates_quiet: dict[Key, datetime] = {}
        self._busy: dict[Key, asyncio.Task[None]] = {}
        self._hints: dict[Key, set[str]] = {}
        self._held: dict[Key, _Hold] = {}
        self._next_scan = 0.0
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self, touched: Mapping[Key, set[str]] | None = None) -> None:
        """Rows were committed for `touched` conversations (with these kinds): look now."""
        for key, kinds in (touched or {}).items():
            self._hints.setdefault(key, set()).update(kinds)
        self._wakeup.set()

    async def run(self) -> None:
        """Loop until stopped: send what is due, then sleep until woken or the next scan."""
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wakeup.clear()
            last_pass = loop.time()
            try:
                pause = await self.send_due()
            except Exception:
                log.exception("outbox pass failed; trying again shortly")
                pause = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=pause)
            await asyncio.sleep(max(0.0, last_pass + PASS_GAP - loop.time()))

    async def stop(self) -> None:
        """Stop after the sends under way; start no other."""
        self._stopping = True
        self._wakeup.set()
        while self._busy:
            await asyncio.gather(*self._busy.values(), return_exceptions=True)

    async def send_due(self, *, scan: bool = False) -> float:
        """Start sending for the conversations that may have something to send; returns
        the seconds until the next full scan."""
        loop_time = asyncio.get_running_loop().time()
        candidates, self._hints = self._hints, {}
        if scan or loop_time >= self._next_scan:
            self._next_scan = loop_time + SCAN_EVERY
            depth: dict[str, int] = dict.fromkeys(self.adapters, 0)
            for pending in await self.database.run(outbox.pending_conversations):
                key = (pending.platform, pending.conversation_id)
                candidates.setdefault(key, set()).add(ANY_KIND)
                depth[pending.platform] = depth.get(pending.platform, 0) + pending.rows
            for platform, rows in depth.items():
                self.metrics.outbox_pending.labels(platform).set(rows)
        for key, kinds in candidates.items():
            if key[0] not in self.adapters or self._stopping:
                # Stopping: a send started now (a scan that began before may get here)
                # would outlive the database and leave its transaction open.
                continue
            if key in self._busy:
                self._hints.setdefault(key, set()).update(kinds)  # taken up when it is done
                continue
            task = asyncio.create_task(self._drain(key, kinds))
            self._busy[key] = task
            task.add_done_callback(partial(self._done, key))
        return max(self._next_scan - loop_time, 0.01)

    async def flush(self) -> None:
        """Send everything that is due now and wait for it (tests, replays, shutdown)."""
        # Twice: a drain the background loop had begun may have read the clock before these
        # rows fell due; and one it was running when called left later rows as hints.
        for _ in range(2):
            await self.send_due(scan=True)
            while self._busy or self._hints:
                if self._busy:
                    await asyncio.gather(*list(self._busy.values()), return_exceptions=True)
                else:
                    await self.send_due()

    def _done(self, key: Key, task: asyncio.Task[None]) -> None:
        self._busy.pop(key, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("sending to %s failed; the rows stay queued", key[1], exc_info=error)
        if key in self._hints:
            self._wakeup.set()

    def _hold(self, key: Key, until: datetime, *, soft: bool = False, look: bool = True) -> None:
        """Send no message to `key` before `until`, and look again then (`look`), or only
        once rows arrive meanwhile."""
        self._held[key] = _Hold(until, soft, look)
        if look:
            self._look_later(key, (until - self.clock.now()).total_seconds(), set())

    def _look_later(self, key: Key, seconds: float, kinds: set[str]) -> None:
        asyncio.get_running_loop().call_later(max(seconds, 0.01), self.wake, {key: kinds})

    async def _drain(self, key: Key, kinds: set[str]) -> None:
        platform, conversation_id = key
        adapter = self.adapters[platform]
        quiet = self._updates_quiet.get(key)
        if (kinds & UPDATES or ANY_KIND in kinds) and not (
            quiet is not None and self.clock.now() < quiet
        ):
            # Not group messages: outside the budget, and only the latest of each counts.
            read = partial(
                pending,
                platform=platform,
                conversation_id=conversation_id,
                limit=FETCH,
                only=UPDATES,
            )
            async with self.channels.hold(key, read) as taken:
                if taken is None:
                    return  # another process is sending to this conversation
                channel, rows = taken
                now = self.clock.now()
                updates, next_due = self._due_updates(key, rows, now)
                if updates and not await self._send_updates(adapter, updates, channel):
                    return
                if updates:
                    interval = timedelta(seconds=self.settings.outbox.update_interval_seconds)
                    next_due = min(next_due or now + interval, now + interval)
                self._quiet_updates(key, next_due, now)
        held = self._held.get(key)
        if held is not None and held.soft and kinds - {Kind.ACK, ANY_KIND, *UPDATES}:
            del self._held[key]  # a reply arrived: the acknowledgements it held go with it
        while not self._stopping and await self._send_next(adapter, key):
            pass

    async def _send_next(self, adapter: Sender, key: Key) -> bool:
        """Send the conversation's next message if one may go now; True if one went and
        more may be waiting."""
        now = self.clock.now()
        held = self._held.get(key)
        if held is not None and held.until > now:
            if not held.looking:
                self._hold(key, held.until, soft=held.soft)  # rows came: look when it ends
            return False
        settings = self.settings.outbox
        ack_delay = timedelta(seconds=settings.ack_delay_seconds)
        read = partial(
            pending,
            platform=key[0],
            conversation_id=key[1],
            limit=FETCH,
            without=UPDATES,
        )
        async with self.channels.hold(key, read) as taken:
            if taken is None:
                return False  # another process is sending to this conversation
            channel, rows = taken
            wait = channel.wait(now)
            if wait > 0:
                self._hold(key, now + timedelta(seconds=wait))
                return False
            composed = compose(
                rows,
                now=now,
                ack_delay=ack_delay,
                max_chars=settings.max_message_chars,
                fits=getattr(adapter, "fits", None),
            )
            if composed.message is None:
                if composed.wait_until is not None:
                    only_acks = all(r.kind is Kind.ACK for r in rows)
                    self._hold(key, composed.wait_until, soft=only_acks)
                return False
            channel.record(now)
            message = await self._viewed(composed.message, composed.card, channel)
            if not await self._deliver(adapter, message, rows, channel, rest=composed.rest):
                return False
        if composed.rest is not None:
            return True  # the rest of the row goes next, within the rate like any message
        if len(rows) < FETCH and len(rows) == len(message.row_ids):
            # Everything read went. Acknowledgements committed meanwhile would wait the delay
            # anyway: hold them from now, rather than read them at once only to learn that
            # (half of a burst's reads did). A reply of another kind ends the hold.
            self._hold(key, now + ack_delay, soft=True, look=False)
            return False
        return True

    def _due_updates(
        self, key: tuple[str, str], rows: list[Queued], now: datetime
    ) -> tuple[list[Queued], datetime | None]:
        """Update rows that may go now (each shown thing is refreshed at most once per
        interval: a card does not need 200 refreshes in a 200-vote second), and when the
        first of the others may go (None if there are none)."""
        interval = timedelta(seconds=self.settings.outbox.update_interval_seconds)
        due = []
        next_due: datetime | None = None
        for row in rows:
            if row.kind not in UPDATES or row.not_before > now:
                continue
            last = self._refreshed.get((*key, _update_key(row)))
            if last is not None and now - last < interval:
                if next_due is None or last + interval < next_due:
                    next_due = last + interval
                continue
            due.append(row)
        return due, next_due

    def _quiet_updates(self, key: Key, until: datetime | None, now: datetime) -> None:
        """Read the conversation's updates again only at `until`: every pass of a burst
        would otherwise re-read rows that may not go yet (a quarter of the database
        thread's time in `bench/ingest.py`). A thing shown for the first time meanwhile
        waits at most one interval."""
        if until is None or until <= now:
            self._updates_quiet.pop(key, None)
            return
        self._updates_quiet[key] = until
        self._look_later(key, (until - now).total_seconds(), set(UPDATES))

    async def _send_updates(self, adapter: Sender, updates: list[Queued], channel: Channel) -> bool:
        """Send the latest update of each thing shown; False if the platform refused."""
        latest: dict[str, list[Queued]] = {}
        for row in updates:
            latest.setdefault(_update_key(row), []).append(row)
        for update_key, same in latest.items():
            last = same[-1]
            message = OutgoingMessage(
                platform=last.platform,
                conversation_id=last.conversation_id,
                kind=last.kind,
                body=last.body,
                route=last.envelope.route,
                row_ids=tuple(r.id for r in same),
            )
            message = await self._viewed(message, last.envelope.card, channel)
            if not await self._deliver(adapter, message, same, channel):
                return False
            self._refreshed[(last.platform, last.conversation_id, update_key)] = self.clock.now()
        return True

    async def _viewed(
        self, message: OutgoingMessage, card: str | None, channel: Channel
    ) -> OutgoingMessage:
        """The message with its card as it stands now, if it shows one (read in the hold's
        transaction)."""
        cards = self.cards
        if card is None or cards is None:
            return message
        view = await channel.run(partial(cards.view_now, key=card))
        return replace(message, card=view)

    async def _deliver(
        self,
        adapter: Sender,
        message: OutgoingMessage,
        rows: list[Queued],
        channel: Channel,
        *,
        rest: str | None = None,
    ) -> bool:
        """Hand one message to the platform and record the result; True if it was taken.
        `rest`: the message was the first part of its row, which keeps the rest queued."""
        try:
            result = await adapter.send(message)
        except Exception as error:  # an adapter bug must not lose the rows
            log.exception(
                "send to %s failed",
                message.conversation_id,
                extra={"platform": message.platform, "conversation_id": message.conversation_id},
            )
            self.metrics.sends.labels(message.platform, "error").inc()
            result = SendResult.retry(f"{type(error).__name__}: {error}")
        else:
            self.metrics.sends.labels(message.platform, "sent" if result.ok else "refused").inc()
        if result.ok and rest is not None:
            await channel.settle(partial(outbox.keep_rest, row_id=message.row_ids[0], body=rest))
            return True
        if result.ok:
            await channel.settle(
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
            extra={"platform": message.platform, "conversation_id": message.conversation_id},
        )
        retry_at = self.clock.now() + timedelta(seconds=delay)
        await channel.settle(
            partial(outbox.mark_retry, ids=message.row_ids, error=result.error, not_before=retry_at)
        )
        key = (message.platform, message.conversation_id)
        if message.kind in UPDATES:
            self._look_later(key, delay, {message.kind})
        else:
            self._hold(key, retry_at)
        return False
