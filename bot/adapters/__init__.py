"""Platform adapters: each turns its platform's events into IncomingMessages and sends
OutgoingMessages back. An adapter file is the only place that imports its platform's SDK."""

from __future__ import annotations

from typing import Protocol

from bot.dispatcher import Dispatcher
from bot.messages import OutgoingMessage, SendResult


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
