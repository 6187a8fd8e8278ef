"""Statements' sentence vectors, computed once each with the configured model (the bundled
e5 or an OpenAI-compatible endpoint) and stored under its name.

Two callers share this: the minutes worker, in the background and before each `/纪要`, and
`xieshang minutes`, before it builds a version. When the vectors cannot be made, the caller
is told why in words a secretary reads, since the minutes then find their themes on words
alone and must say so.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.core.clock import Clock
from bot.core.settings import Settings
from minutes import E5Embedder, Embedder, vector_to_bytes
from storage.database import Database
from storage.minutes import statements_without_vector, store_vectors
from workers.embeddings import EmbeddingsFailed, RemoteEmbedder, vector_model

log = logging.getLogger(__name__)

# Why a version's themes came from words alone, as its text says (docs/minutes.md).
VECTORS_DISABLED = "语义向量功能未启用"
MODEL_UNAVAILABLE = "语义模型无法加载"
ENDPOINT_UNAVAILABLE = "向量服务暂时无法访问"
VECTORS_FAILED = "计算语义向量时出错"


@dataclass(frozen=True, slots=True)
class Filled:
    """What one pass stored; why statements still lack a vector if it could not go on; and
    whether it stopped (when asked to, or after its batches) with statements left."""

    stored: int
    problem: str | None = None
    more: bool = False


def _background_priority() -> None:
    """Run the model at the lowest CPU priority (Linux lets a thread renice itself): it
    computes in C without the GIL, so the dispatcher's threads get the cores first."""
    with suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class SentenceVectors:
    """Gives live statements their vector of the configured model, a batch at a time."""

    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        clock: Clock,
        embedder: Embedder | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self._embedder = embedder
        vectors = settings.minutes.vectors
        self._remote = RemoteEmbedder(vectors) if vectors.remote else None
        self.model_name = vector_model(settings)
        # After the model or the endpoint failed, it is not tried again before this (clock
        # time): every commit wakes the worker, and without a rest a failing endpoint would
        # be asked, or a broken model loaded, every second. What failed is kept for the
        # minutes built meanwhile.
        self._rests_until: datetime | None = None
        self._problem: str | None = None
        self._model_thread = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="embed", initializer=_background_priority
        )

    async def fill(
        self,
        *,
        consultation_id: int | None = None,
        stop: Callable[[], bool] = lambda: False,
        batches: int | None = None,
    ) -> Filled:
        """Store the missing vectors of the consultation's statements (open or closed), or,
        without one, of the open consultations'; `stop` is asked before each batch, and at
        most `batches` are embedded (None: until none is missing)."""
        stored = 0
        batch_size = self.settings.minutes.vectors.batch_size
        for _ in itertools.count() if batches is None else range(batches):
            if stop():
                return Filled(stored, more=True)
            now = self.clock.now()
            if self._rests_until is not None and now < self._rests_until:
                return Filled(stored, self._problem)
            batch = await self.database.run(
                partial(
                    statements_without_vector,
                    model=self.model_name,
                    limit=batch_size,
                    consultation_id=consultation_id,
                )
            )
            if not batch:
                return Filled(stored)
            try:
                vectors = await self._embed([text for _, text in batch])
            except _Unavailable as unavailable:
                rest = timedelta(seconds=self.settings.minutes.vectors.interval_seconds)
                self._rests_until, self._problem = now + rest, unavailable.problem
                return Filled(stored, unavailable.problem)
            packed = {
                opinion_id: vector_to_bytes(vector)
                for (opinion_id, _), vector in zip(batch, vectors, strict=True)
            }
            stored += await self.database.run(partial(self._store, packed))
            if len(batch) < batch_size:
                return Filled(stored)  # that was the last of them
        return Filled(stored, more=True)

    async def _embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        if self._remote is not None:
            try:
                return await self._remote.embed(texts)
            except EmbeddingsFailed as error:
                log.warning("sentence vectors wait for the endpoint: %s", error)
                raise _Unavailable(ENDPOINT_UNAVAILABLE) from error
        try:
            # The model runs on a thread of its own: the event loop keeps serving.
            return await asyncio.get_running_loop().run_in_executor(
                self._model_thread, self._get_embedder().embed, texts
            )
        except Exception as error:
            # Most likely the model cannot load (a missing or damaged installation); the
            # traceback tells the operator, once per rest.
            log.exception("sentence vectors wait for the bundled model")
            raise _Unavailable(MODEL_UNAVAILABLE) from error

    def _store(self, packed: dict[int, bytes], session: Any) -> int:
        return store_vectors(session, model=self.model_name, vectors=packed, now=self.clock.now())

    def _get_embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = E5Embedder(threads=self.settings.minutes.vectors.threads)
        return self._embedder

    def close(self) -> None:
        """Let the model's thread go (a batch under way finishes on it)."""
        self._model_thread.shutdown(wait=False, cancel_futures=True)


class _Unavailable(Exception):
    """The model or the endpoint made no vectors this time."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
