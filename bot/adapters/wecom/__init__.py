"""WeCom (企业微信) 智能机器人, by long connection or callback: the connections
(adapter.py), WeCom's wire format (wire.py, crypto.py) and the layout of cards (render.py).

May import: `bot.core`, `bot.delivery`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.adapters import Adapter
from bot.adapters.wecom.adapter import wecom_from_environment
from bot.core.clock import Clock
from bot.core.settings import Settings


def from_settings(settings: Settings, clock: Clock, made: Sequence[Adapter]) -> Adapter | None:
    """The WeCom adapter whose credentials are in the environment (None when neither is)."""
    return wecom_from_environment(settings.platforms.wecom, clock=clock, zone=settings.zone)
