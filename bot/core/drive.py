"""Handlers run to their end on the database thread, inside the message's transaction."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class HandlerWaited(RuntimeError):
    """A handler awaited real I/O inside the transaction, which the design forbids."""


def drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends to its end, on the calling (database) thread.

    Handlers are `async def` (the design's contract) but never sleep or wait on I/O, so they
    finish in one step beside their blocking session, without an event loop; one that does
    wait is a bug, and is stopped here rather than left hanging on the wrong loop.
    """
    try:
        coroutine.send(None)
    except StopIteration as finished:
        result: T = finished.value
        return result
    coroutine.close()
    raise HandlerWaited("a handler awaited I/O; handlers must finish without waiting")
