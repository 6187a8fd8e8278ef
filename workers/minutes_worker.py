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
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.core.clock import Clock
from bot.core.context import Envelope
from bot.core.files import FileRef, FileSource, console_url
from bot.core.messages import Kind, ReplyRoute
from bot.core.settings import Settings
from minutes import E5Embedder, Embedder, vector_to_bytes
from storage import outbox
from storage.database import Database
from storage.minutes import (
    add_minutes_version,
    claim_minutes_request,
    finish_minutes_request,
    statements_without_vector,
    store_vectors,
)
from storage.models import MinutesRequest
from workers.embeddings import EmbeddingsFailed, RemoteEmbedder, vector_model
from workers.minutes_service import RenderedMinutes, prepare_minutes

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


def _background_priority() -> None:
    """Run the model at the lowest CPU priority (Linux lets a thread renice itself): it
    computes in C without the GIL, so the dispatcher's threads get the cores first."""
    with suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


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
        self._embedder = embedder
        vectors = settings.minutes.vectors
        self._remote = RemoteEmbedder(vectors) if vectors.remote else None
        self._model_name = vector_model(settings)
        # After the endpoint failed, it is not asked again before this (clock time).
        self._remote_rests_until: datetime | None = None
        self._wake = asyncio.Event()
        # One piece of work at a time in this process: the loop and a caller of drain() or
        # embed_pending() (the CLI, tests) take turns, so the caller sees the work finished.
        self._lock = asyncio.Lock()
        self._model_thread = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="embed", initializer=_background_priority
        )

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
                    await self.embed_pending(unless_busy=True)
            except Exception:
                log.exception("minutes background work failed; trying again later")
            await asyncio.sleep(MIN_PAUSE_SECONDS)

    # --- requested minutes -------------------------------------------------------------

    async def drain(self) -> int:
        """Build every waiting `/纪要`; returns how many were handled."""
        handled = 0
        async with self._lock:
            while (request := await self.database.run(self._claim)) is not None:
                if self.settings.minutes.vectors.enabled:
                    await self._embed_for(request.consultation_id)
                await self._build(request)
                handled += 1
        return handled

    async def _embed_for(self, consultation_id: int) -> None:
        """Give the consultation's statements their vectors before its minutes are built (the
        minutes use vectors only when every statement has one). Should that fail, the
        minutes are built on words alone rather than not at all."""
        try:
            await self._embed(consultation_id=consultation_id)
        except Exception:
            log.exception("vectors of consultation %s not made; minutes use words", consultation_id)

    def _claim(self, session: Any) -> MinutesRequest | None:
        return claim_minutes_request(session, now=self.clock.now(), stale_after=STALE_CLAIM)

    async def _build(self, request: MinutesRequest) -> None:
        try:
            rendered: RenderedMinutes | None = await prepare_minutes(
                self.database.engine, request.consultation_id, self.settings
            )
        except Exception:
            log.exception("minutes of consultation %s not built", request.consultation_id)
            rendered = None
        touched = await self.database.call(self._store, request, rendered)
        self.on_queued(touched)

    def _store(self, request: MinutesRequest, rendered: RenderedMinutes | None) -> Touched:
        """One transaction: the new version, the group's messages (the Markdown, then the
        DOCX as a file), the request done."""
        assert request.id is not None
        now = self.clock.now()
        route = ReplyRoute.from_json(request.reply)
        with self.database.transaction() as session:
            version_id = None
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
                version_id = version.id
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
        return {(request.platform, request.conversation_id): {kind for kind, _, _ in posts}}

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
            return await self._embed(unless_busy=unless_busy)

    async def _embed(self, *, consultation_id: int | None = None, unless_busy: bool = False) -> int:
        stored = 0
        batch_size = self.settings.minutes.vectors.batch_size
        while not (unless_busy and self.busy()):
            batch = await self.database.run(
                partial(
                    statements_without_vector,
                    model=self._model_name,
                    limit=batch_size,
                    consultation_id=consultation_id,
                )
            )
            if not batch:
                return stored
            texts = [text for _, text in batch]
            if self._remote is not None:
                now = self.clock.now()
                if self._remote_rests_until is not None and now < self._remote_rests_until:
                    return stored
                try:
                    vectors = await self._remote.embed(texts)
                except EmbeddingsFailed as error:
                    # Every commit wakes this task: without a rest a failing endpoint
                    # would be asked again every second.
                    rest = timedelta(seconds=self.settings.minutes.vectors.interval_seconds)
                    self._remote_rests_until = now + rest
                    log.warning("sentence vectors wait for the endpoint: %s", error)
                    return stored
            else:
                # The model runs on a thread of its own: the event loop keeps serving.
                vectors = await asyncio.get_running_loop().run_in_executor(
                    self._model_thread, self._get_embedder().embed, texts
                )
            packed = {
                opinion_id: vector_to_bytes(vector)
                for (opinion_id, _), vector in zip(batch, vectors, strict=True)
            }
            stored += await self.database.run(partial(self._store_vectors, packed))
        return stored

    def _store_vectors(self, packed: dict[int, bytes], session: Any) -> int:
        return store_vectors(session, model=self._model_name, vectors=packed, now=self.clock.now())

    def _get_embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = E5Embedder(threads=self.settings.minutes.vectors.threads)
        return self._embedder
