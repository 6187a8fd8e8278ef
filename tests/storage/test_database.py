"""The database thread takes members' batches before background work that can wait."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from storage.database import BACKGROUND_SLACK, Database
from storage.engine import make_engine


class Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Busy:
    """Holds the database thread until released, and notes the order work ran in."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.order: list[str] = []
        self._started = threading.Event()
        self._release = threading.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    async def occupy(self) -> None:
        def hold() -> None:
            self._started.set()
            self._release.wait(10)

        self._tasks.append(asyncio.create_task(self.database.call(hold)))
        assert await asyncio.to_thread(self._started.wait, 10)

    async def submit(self, name: str, *, urgent: bool = False) -> None:
        call: Callable[..., Any] = self.database.call
        self._tasks.append(asyncio.create_task(call(self.order.append, name, urgent=urgent)))
        await asyncio.sleep(0)  # let the task put its work in the queue

    async def release(self) -> None:
        self._release.set()
        await asyncio.gather(*self._tasks)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[tuple[Database, Clock]]:
    clock = Clock()
    database = Database(make_engine(f"sqlite:///{tmp_path}/db.sqlite"), monotonic=clock)
    yield database, clock
    database.close()


async def test_a_batch_of_messages_goes_ahead_of_background_work_queued_just_before(
    database: tuple[Database, Clock],
) -> None:
    busy = Busy(database[0])
    await busy.occupy()
    await busy.submit("card refresh")
    await busy.submit("reply")
    await busy.submit("batch", urgent=True)
    await busy.release()
    assert busy.order == ["batch", "card refresh", "reply"]


async def test_background_work_waits_behind_batches_no_longer_than_its_slack(
    database: tuple[Database, Clock],
) -> None:
    db, clock = database
    busy = Busy(db)
    await busy.occupy()
    await busy.submit("card refresh")
    clock.now += BACKGROUND_SLACK * 2
    await busy.submit("batch", urgent=True)
    await busy.release()
    assert busy.order == ["card refresh", "batch"]


async def test_closing_finishes_the_work_already_queued(tmp_path: Path) -> None:
    database = Database(make_engine(f"sqlite:///{tmp_path}/db.sqlite"))
    busy = Busy(database)
    await busy.occupy()
    await busy.submit("reply")
    closing = asyncio.create_task(asyncio.to_thread(database.close))
    await busy.release()
    await closing
    assert busy.order == ["reply"]
    with pytest.raises(RuntimeError, match="closed"):
        await database.call(busy.order.append, "too late")


async def test_an_error_in_the_work_reaches_the_caller(database: tuple[Database, Clock]) -> None:
    def fail() -> None:
        raise ValueError("没有这一行")

    with pytest.raises(ValueError, match="没有这一行"):
        await database[0].call(fail)
