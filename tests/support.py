"""A group chat for tests: "receive this, expect that sent" (in the manner of nonebug)."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core.clock import ManualClock
from bot.core.dispatcher import Outcome
from bot.core.messages import CardAction, IncomingMessage, OutgoingMessage, SendResult
from bot.core.settings import Settings
from bot.runtime.app import App
from storage.enums import Role
from storage.models import Ballot, Poll
from tests.minutes.support import NIGHT_MARKET

PLATFORM = "test"
MODERATOR = "主持人"
_ids = itertools.count(1)


class RecordingSender:
    """A platform that records every message it is given; it can be told to refuse."""

    platform = PLATFORM

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.refusals: deque[SendResult] = deque()
        self.down: SendResult | None = None  # while set, every send gets this answer
        self._arrived = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Take the message, or refuse it if a refusal is queued."""
        if self.down is not None:
            return self.down
        if self.refusals:
            return self.refusals.popleft()
        self.sent.append(message)
        self._arrived.set()
        return SendResult.sent()

    async def wait_for(self, text: str) -> OutgoingMessage:
        """The first message containing `text`, waiting (up to 15 s) for it to be sent."""
        async with asyncio.timeout(15):
            while True:
                for message in self.sent:
                    if text in message.body:
                        return message
                self._arrived.clear()
                await self._arrived.wait()

    async def start(self, link: Any) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        """Nothing to disconnect."""


def member_message(
    who: str,
    text: str,
    *,
    at: datetime,
    conversation: str = "群1",
    role: Role | None = None,
    message_id: str | None = None,
    addressed: bool = True,
) -> IncomingMessage:
    """A message from `who` (@-ing the bot unless told otherwise); the one named 主持人 is
    a moderator unless told otherwise."""
    if role is None and who == MODERATOR:
        role = Role.MODERATOR
    return IncomingMessage(
        platform=PLATFORM,
        conversation_id=conversation,
        conversation_title=conversation,
        sender_id=f"id-{who}",
        sender_name=who,
        text=text,
        message_id=message_id or f"m{next(_ids)}",
        timestamp=at,
        addressed=addressed,
        platform_roles=frozenset({role}) if role else frozenset(),
    )


class Group:
    """One group chat: members speak, the test reads the bot's answers and the database."""

    def __init__(
        self, app: App, clock: ManualClock, sender: RecordingSender, conversation: str = "群1"
    ) -> None:
        self.app = app
        self.clock = clock
        self.sender = sender
        self.conversation = conversation
        self._seen = 0

    def message(self, who: str, text: str, **kwargs: Any) -> IncomingMessage:
        """What the platform would hand over when `who` sends `text` in this group."""
        kwargs.setdefault("at", self.clock.now())
        return member_message(who, text, conversation=self.conversation, **kwargs)

    def click(self, who: str, card: str, *values: str) -> IncomingMessage:
        """What the platform would hand over when `who` clicks `values` on the card `card`
        (`poll:1`)."""
        return replace(self.message(who, ""), action=CardAction(card, values))

    async def say(self, who: str, text: str, **kwargs: Any) -> Outcome:
        """`who` sends `text`; returns how it ended once committed."""
        return await self.app.dispatcher.dispatch(self.message(who, text, **kwargs))

    async def answer(self, who: str, text: str, **kwargs: Any) -> str:
        """What the bot answered to `who` sending `text`, as one string."""
        outcome = await self.say(who, text, **kwargs)
        return "\n".join(outcome.replies)

    async def deliver(self, messages: list[IncomingMessage]) -> list[Outcome]:
        """Deliver many messages at once, as a platform does in a burst."""
        return await self.app.dispatcher.dispatch_many(messages)

    async def group_sees(self) -> list[str]:
        """Let the outbox send what is due (after the acknowledgement delay) and return
        the messages the group received since the last look."""
        delay = self.app.settings.outbox.ack_delay_seconds
        self.clock.advance(timedelta(seconds=delay))
        await self.app.outbox.flush()
        new = self.sender.sent[self._seen :]
        self._seen = len(self.sender.sent)
        return [m.body for m in new if m.body]

    def count(self, table: str, where: str = "") -> int:
        """Rows in a table (optionally filtered by a SQL condition)."""
        query = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
        with self.app.engine.connect() as connection:
            return int(connection.execute(sa.text(query)).scalar_one())

    def ballots(self) -> list[tuple[int, list[int]]]:
        """(poll number, choices) of every ballot, in poll and vote order."""
        with Session(self.app.engine) as session:
            rows = session.exec(
                select(Poll.number, Ballot.choices)
                .join(Poll, col(Poll.id) == col(Ballot.poll_id))
                .order_by(col(Poll.number), col(Ballot.id))
            )
            return [(number, list(choices)) for number, choices in rows]

    def rows(self, query: str, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of a SQL query, for checking what the database holds."""
        with self.app.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query), params)]


async def hold_night_market(app: App, clock: ManualClock, sender: RecordingSender) -> Group:
    """A group whose consultation on the night market heard every line of NIGHT_MARKET."""
    group = Group(app, clock, sender)
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    for author, text, _ in NIGHT_MARKET:
        await group.say(author, text)
    return group


async def night_market_minutes(
    settings: Settings, clock: ManualClock, sender: RecordingSender
) -> tuple[Group, list[str]]:
    """A bot on `settings` holds the night-market consultation and the secretary asks for
    minutes; the group and what it saw once they were built (the bot is stopped)."""
    app = App(settings, clock=clock, adapters=[sender], secret=b"k", serve_web=False)
    await app.start()
    try:
        group = await hold_night_market(app, clock, sender)
        await group.say("秘书", "/纪要", role=Role.SECRETARY)
        await app.minutes.drain()
        return group, await group.group_sees()
    finally:
        await app.stop()
