"""The local web chat: the embedded default platform, for trying the bot with no
credentials (adapter.py, and its page in static/).

May import: `bot.core`, `bot.delivery`.
"""

from __future__ import annotations

from bot.adapters import Adapter
from bot.adapters.local.adapter import LocalAdapter, own_hosts
from bot.core.clock import Clock
from bot.core.settings import Settings


def from_settings(settings: Settings, clock: Clock) -> Adapter | None:
    """The local chat, unless the settings turn it off."""
    local = settings.platforms.local
    if not local.enabled:
        return None
    return LocalAdapter(
        clock=clock,
        zone=settings.zone,
        trust_roles=local.trust_roles,
        hosts=own_hosts(settings.web.host),
    )
