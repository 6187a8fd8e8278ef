"""The minutes' background work, beside the outbox sender: build requested minutes and
compute statements' sentence vectors, never on the message path.

A handler only records a `/纪要` request; this task claims it, builds the minutes in a
worker thread with a session of its own (seconds for a big consultation), asks the model if
one is configured, stores the new version and queues the Markdown for the group. Between
requests it embeds statements that have no vector yet, in batches, on a worker thread,
while the dispatcher is not busy; a request embeds its own consultation's statements first.
Several processes may run it against one PostgreSQL database: a request is claimed by a
conditional UPDATE, and vectors are inserted with ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.core.clock import Clock
from bot.core.context import Envelope
from bot.core.files import FileRef, FileSource, console_url
from bot.core.messages import Kind, ReplyRoute
from bot.core.settings import Settings
from minutes import Embedder
from storage import outbox
from storage.database import Database
from storage.minutes import add_minutes_version, claim_minutes_request, finish_minutes_request
from storage.models import MinutesRequest
from workers.minutes_service import RenderedMinutes, make_minutes
from workers.vectors import SentenceVectors

log = logging.getLogger(__name__)

FAILED = "生成纪要时出错了，已记录。请稍后再发 /纪要 试试。"
# A claim older than this belongs to a worker that died: another may take the request.
STALE_CLAIM = timedelta(minutes=10)
# At most one look at the database per this many seconds while messages keep waking it.
MIN_PAUSE_SECONDS = 1.0
# While the dispatcher commits more messages than this in a second, vectors wait: on two
# cores the model beside it cost PostgreSQL 5-10 % of its rate and a third more p99
# (bench/ingest.py). Nothing needs them before minutes are built, and a /纪要 embeds its
# own consultation's statements first. Messages, not commits: under load batches grow and
# commits become fewer (a process at 1,000 messages a second commits about 10 times).
# A lively discussion is a few messages a second; a vote burst is hundreds.
BUSY_MESSAGES_PER_SECOND = 50

Touched = dict[tuple[str, str], set[str]]


@dataclass(frozen=True, slots=True)
class Posted:
    """What a build queued for a group: the new version's Markdown, or that it failed."""

    platform: str
    conversation_id: str
    body: str
    version: int | None


class MinutesWorker:
    """Builds requested minutes and embeds new statements, one piece of work at a time."""

    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        clock: Clock,
        on_queued: Callable[[Touched], None],
        load: Callable[[], int] = lambda: 0,
        embedder: Embedder | None = None,
    ) -> None:
        """`load`: how many messages the dispatcher committed in the last second."""
        self.database = database
        self.settings = settings
        self.clock = clock
        self.on_queued = on_queued
        self._load = load
        self.vectors = SentenceVectors(
            database=database, settings=settings, clock=clock, embedder=embedder
        )
        # Told of every version (or failure) queued for a group, whoever built it: the
        # replay prints them as the group would see them.
        self.posted_listeners: list[Callable[[Posted], None]] = []
        self._wake = asyncio.Event()
        # One piece of work at a time in this process: the loop and a caller of drain() or
        # embed_pending() (the CLI, tests) take turns, so the caller sees the work finished.
        self._lock = asyncio.Lock()
        # Callers of drain() waiting for the lock (the replay, tests): background vectors
        # stop for them after the batch under way rather than embed every open
        # consultation first.
        self._draining = 0

    def wake(self, touched: Any = None) -> None:
        """Look for work soon (called after every commit of the dispatcher)."""
        self._wake.set()

    def busy(self) -> bool:
        """Whether the dispatcher committed more than BUSY_MESSAGES_PER_SECOND messages in
        the last second."""
        return self._load() > BUSY_MESSAGES_PER_SECOND

    async def run(self) -> None:
        """Until cancelled: wait to be woken (or for the interval), then do what is due."""
        interval = self.settings.minutes.vectors.interval_seconds
        while True:
            with suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.drain()
                if self.settings.minutes.vectors.enabled:
                    await self._embed_in_background()
            except Exception:
                log.exception("minutes background work failed; trying again later")
            await asyncio.sleep(MIN_PAUSE_SECONDS)

    # --- requested minutes -------------------------------------------------------------

    async def drain(self) -> int:
        """Build every waiting `/纪要`, each after its statements' missing vectors, and wait
        for a build under way; returns how many were built here."""
        self._draining += 1
        try:
            await self._lock.acquire()
        finally:
            self._draining -= 1
        try:
            return await self._build_waiting()
        finally:
            self._lock.release()

    async def _build_waiting(self) -> int:
        handled = 0
        while (request := await self.database.run(self._claim)) is not None:
            await self._build(request)
            handled += 1
        return handled

    def _claim(self, session: Any) -> MinutesRequest | None:
        return claim_minutes_request(session, now=self.clock.now(), stale_after=STALE_CLAIM)

    async def _build(self, request: MinutesRequest) -> None:
        try:
            rendered: RenderedMinutes | None = await make_minutes(
                self.vectors, request.consultation_id, self.settings
            )
        except Exception:
            log.exception("minutes of consultation %s not built", request.consultation_id)
            rendered = None
        touched, posted = await self.database.call(self._store, request, rendered)
        self.on_queued(touched)
        for listener in self.posted_listeners:
            listener(posted)

    def _store(
        self, request: MinutesRequest, rendered: RenderedMinutes | None
    ) -> tuple[Touched, Posted]:
        """One transaction: the new version, the group's messages (the Markdown, then the
        DOCX as a file), the request done."""
        assert request.id is not None
        now = self.clock.now()
        route = ReplyRoute.from_json(request.reply)
        with self.database.transaction() as session:
            version_id = number = None
            if rendered is None:
                posts = [(Kind.TEXT, FAILED, Envelope(route=route))]
            else:
                version = add_minutes_version(
                    session,
                    consultation_id=request.consultation_id,
                    markdown=rendered.markdown,
                    body=rendered.body,
                    docx=rendered.docx,
                    method=rendered.method,
                    created_by=request.requested_by,
                    now=now,
                )
                assert version.id is not None
                version_id, number = version.id, version.number
                posts = [
                    (
                        Kind.MARKDOWN,
                        f"{rendered.markdown.rstrip()}\n\n（纪要第 {version.number} 版）",
                        Envelope(route=route),
                    ),
                    self._docx_post(request.consultation_id, version.id, version.number, route),
                ]
            outbox.enqueue(
                session,
                rows=[
                    {
                        "platform": request.platform,
                        "conversation_id": request.conversation_id,
                        "kind": str(kind),
                        "body": body,
                        "payload": envelope.to_json(),
                        "created_at": now,
                    }
                    for kind, body, envelope in posts
                ],
            )
            finish_minutes_request(session, request_id=request.id, version_id=version_id, now=now)
        touched: Touched = {
            (request.platform, request.conversation_id): {kind for kind, _, _ in posts}
        }
        # What replay prints of a build: the Markdown (or the failure), as the group reads it.
        _, body, _ = posts[0]
        return touched, Posted(request.platform, request.conversation_id, body, number)

    def _docx_post(
        self, consultation_id: int, version_id: int, number: int, route: ReplyRoute | None
    ) -> tuple[Kind, str, Envelope]:
        """The version's DOCX as a file for the group, named as the console names it; where
        the platform takes no files, a link to the console's copy."""
        name = f"会议纪要-协商{consultation_id}-第{number}版"
        link = console_url(
            self.settings, f"/console/consultations/{consultation_id}/minutes/{number}.docx"
        )
        fallback = f"纪要第 {number} 版（Word）：{link}（秘书登录协商助手后台后下载）"
        file = FileRef(FileSource.MINUTES, version_id, f"{name}.docx")
        return Kind.FILE, fallback, Envelope(route=route, file=file)

    # --- sentence vectors ----------------------------------------------------------------

    async def embed_pending(self, *, unless_busy: bool = False) -> int:
        """Give every live statement of the open consultations its vector; returns how many
        were stored (0 when there was nothing to do: one cheap query). `unless_busy`: stop
        while the dispatcher is busy (see BUSY_MESSAGES_PER_SECOND)."""
        async with self._lock:
            filled = await self.vectors.fill(stop=self.busy if unless_busy else lambda: False)
            return filled.stored

    async def _embed_in_background(self) -> None:
        """Vectors of the open consultations, a batch at a time, building between batches
        the minutes asked for meanwhile: a backlog of statements (vectors just turned on, a
        long busy spell) must not hold up a secretary's /纪要. It stops while the dispatcher
        is busy, and for a caller of drain() (the replay, tests) waiting for the lock."""
        async with self._lock:
            while not (self.busy() or self._draining):
                filled = await self.vectors.fill(batches=1)
                await self._build_waiting()
                if not filled.more:
                    return
