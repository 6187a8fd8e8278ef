"""Platform adapters, one package per platform: each turns its platform's events into
`IncomingMessage`s and lays out `OutgoingMessage`s in its platform's wire format. A
platform's package is the only place that imports its SDK.

May import: `bot.core`, `bot.delivery`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from bot.core.clock import Clock
from bot.core.messages import OutgoingMessage, SendResult
from bot.core.settings import Settings
from bot.delivery.link import PlatformLink


class Adapter(Protocol):
    """A platform connection."""

    platform: str

    async def start(self, link: PlatformLink) -> None:
        """Begin taking messages; each goes to `link.dispatch` and is acknowledged to the
        platform only after that returned (committed)."""
        ...

    async def stop(self) -> None:
        """Stop taking messages."""
        ...

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Deliver one message to its conversation."""
        ...


# How the runtime makes a platform's adapter: from the settings, the environment's
# credentials and the adapters made before it, or None when the platform is not
# configured. Each platform package offers one (`bot.adapters.<platform>.from_settings`).
AdapterFactory = Callable[[Settings, Clock, Sequence[Adapter]], Adapter | None]
