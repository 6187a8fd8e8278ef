"""Who may send to a conversation now, and how much of its rate window is left.

One process (SQLite, the embedded default): the outbox drains each conversation on one task
at a time and keeps the windows in memory. Several processes (PostgreSQL): a row per
conversation is locked with FOR UPDATE SKIP LOCKED for the length of one send and holds
the window, so a group's messages stay in order and within its limit whichever process
sends them; a process that finds the row locked leaves that conversation to its holder.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlmodel import Session

from bot.core.ratelimit import SlidingWindowLimiter, Window
from bot.core.settings import Settings
from storage import outbox
from storage.database import Database

T = TypeVar("T")
Key = tuple[str, str]


class Channels(Protocol):
    """Where conversations are held for sending."""

    def hold(
        self, key: Key, read: Callable[[Session], T]
    ) -> AbstractAsyncContextManager[tuple[Channel, T] | None]:
        """The conversation held for one send with what `read` found in it once held, or
        None when another process holds it."""
        ...


class Channel(Protocol):
    """A conversation held for sending."""

    def wait(self, now: datetime) -> float:
        """Seconds until its window allows one more send (0: now)."""
        ...

    def record(self, now: datetime) -> None:
        """Count a send made at `now`."""
        ...

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run database work while the conversation is held (in the holding transaction)."""
        ...

    async def settle(self, work: Callable[[Session], object]) -> None:
        """Record the outcome of a send: at once, or with the commit that ends the hold,
        which then takes one trip to the database for both."""
        ...


def windows_of(settings: Settings, platform: str) -> list[Window]:
    """The platform's send limits as sliding windows."""
    rate = settings.platforms.rate_limit(platform)
    windows = [Window(rate.per_minute, timedelta(minutes=1))]
    if rate.per_hour:
        windows.append(Window(rate.per_hour, timedelta(hours=1)))
    return windows


class _HeldHere:
    """A conversation of this process: the window in memory, work in short transactions."""

    def __init__(self, limiter: SlidingWindowLimiter, key: Key, database: Database) -> None:
        self._limiter, self._key, self._database = limiter, key, database

    def wait(self, now: datetime) -> float:
        return self._limiter.wait(self._key, now)

    def record(self, now: datetime) -> None:
        self._limiter.record(self._key, now)

    async def run(self, work: Callable[[Session], T]) -> T:
        return await self._database.run(work)

    async def settle(self, work: Callable[[Session], object]) -> None:
        await self._database.run(work)


class LocalChannels:
    """Windows in memory: one process sends to every conversation (SQLite)."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self._database = database
        self._settings = settings
        self._limiters: dict[str, SlidingWindowLimiter] = {}

    @asynccontextmanager
    async def hold(
        self, key: Key, read: Callable[[Session], T]
    ) -> AsyncIterator[tuple[Channel, T] | None]:
        """The conversation, always available (the outbox drains it on one task)."""
        limiter = self._limiters.get(key[0])
        if limiter is None:
            limiter = SlidingWindowLimiter(windows_of(self._settings, key[0]))
            self._limiters[key[0]] = limiter
        yield _HeldHere(limiter, key, self._database), await self._database.run(read)


class _HeldInDatabase:
    """A conversation locked in an open transaction, with the window it stores."""

    def __init__(
        self,
        session: Session,
        database: Database,
        sends: list[datetime],
        windows: list[Window],
        key: Key,
    ) -> None:
        self.session, self._database, self._key = session, database, key
        self.limiter = SlidingWindowLimiter(windows)
        self.limiter.restore(key, sends)
        self.settled: list[Callable[[Session], object]] = []

    def wait(self, now: datetime) -> float:
        return self.limiter.wait(self._key, now)

    def record(self, now: datetime) -> None:
        self.limiter.record(self._key, now)

    async def run(self, work: Callable[[Session], T]) -> T:
        return await self._database.call(work, self.session)

    async def settle(self, work: Callable[[Session], object]) -> None:
        # The outcome commits with the hold either way; a crash before that commit sends
        # the rows again, as it would if they had been written at once.
        self.settled.append(work)

    def sends(self) -> list[datetime]:
        return self.limiter.history(self._key)


class SharedChannels:
    """Windows in the database, one locked row per conversation: several processes send.

    A hold is two trips to the database thread: lock and read; record, save and commit.
    Every trip is a few round trips to PostgreSQL and waits its turn behind members'
    messages, and a group's sends come in waves, so fewer of them show in the latency of
    the messages committed meanwhile.
    """

    def __init__(self, database: Database, settings: Settings) -> None:
        self._database = database
        self._settings = settings
        self._known: set[Key] = set()
        # Each held conversation keeps a connection for the length of its send: at most
        # this many at once, so busy groups cannot take every connection of the pool.
        self._slots = asyncio.Semaphore(settings.outbox.concurrent_sends)

    @asynccontextmanager
    async def hold(
        self, key: Key, read: Callable[[Session], T]
    ) -> AsyncIterator[tuple[Channel, T] | None]:
        """The conversation locked until the block ends (its work then commits) with what
        `read` found once it was locked, or None when another process holds it."""
        async with self._slots, self._hold(key, read) as held:
            yield held

    @asynccontextmanager
    async def _hold(
        self, key: Key, read: Callable[[Session], T]
    ) -> AsyncIterator[tuple[Channel, T] | None]:
        platform, conversation_id = key
        if key not in self._known:
            await self._database.run(
                partial(outbox.ensure_channel, platform=platform, conversation_id=conversation_id)
            )
            self._known.add(key)
        session = Session(self._database.engine, expire_on_commit=False)
        closed = False
        try:
            locked = await self._database.call(_lock_and_read, session, key, read)
            if locked is None:
                closed = True  # another process holds it; the session is closed
                yield None
                return
            sends, found = locked
            held = _HeldInDatabase(
                session, self._database, sends, windows_of(self._settings, platform), key
            )
            yield held, found
            closed = True  # whatever happens in _finish, it closes the session
            await self._database.call(_finish, session, key, held.sends(), held.settled)
        finally:
            if not closed:
                await self._database.call(_close, session)


def _lock_and_read(
    session: Session, key: Key, read: Callable[[Session], T]
) -> tuple[list[datetime], T] | None:
    """Lock the conversation, then read in a statement of its own (after the lock, so it
    sees what the previous holder committed); None, and the session closed, when another
    process holds it."""
    try:
        session.begin()
        sends = outbox.lock_channel(session, platform=key[0], conversation_id=key[1])
        if sends is not None:
            return sends, read(session)
    except BaseException:
        session.close()
        raise
    session.close()
    return None


def _finish(
    session: Session, key: Key, sends: list[datetime], settled: list[Callable[[Session], object]]
) -> None:
    """Write the outcomes of the sends and the window, commit, and let the lock go."""
    try:
        for work in settled:
            work(session)
        outbox.save_channel(session, platform=key[0], conversation_id=key[1], sent_at=sends)
        session.commit()
    finally:
        session.close()


def _close(session: Session) -> Any:
    # Closing rolls back what the block did not commit (it failed).
    session.close()
