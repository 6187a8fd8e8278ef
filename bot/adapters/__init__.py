"""Platform adapters, one package per platform: each turns its platform's events into
`IncomingMessage`s and lays out `OutgoingMessage`s in its platform's wire format. A
platform's package is the only place that imports its SDK.

May import: `bot.core`, `bot.delivery`.
"""

from __future__ import annotations

from typing import Protocol

from bot.core.dispatcher import Dispatcher
from bot.core.messages import OutgoingMessage, SendResult


class Adapter(Protocol):
    """A platform connection."""

    platform: str

    async def start(self, dispatcher: Dispatcher) -> None:
        """Begin taking messages; each goes to `dispatcher.dispatch` and is acknowledged
        to the platform only after that returned (committed)."""
        ...

    async def stop(self) -> None:
        """Stop taking messages."""
        ...

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Deliver one message to its conversation."""
        ...
