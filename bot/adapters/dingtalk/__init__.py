"""DingTalk in Stream mode, through the official `dingtalk-stream` SDK: the connection
(adapter.py), DingTalk's wire format (wire.py) and the layout of cards (render.py).

May import: `bot.core`, `bot.delivery`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.adapters import Adapter
from bot.core.clock import Clock
from bot.core.secrets import env_secret
from bot.core.settings import Settings

CLIENT_ID = "DINGTALK_CLIENT_ID"
CLIENT_SECRET = "DINGTALK_CLIENT_SECRET"


def from_settings(settings: Settings, clock: Clock, made: Sequence[Adapter]) -> Adapter | None:
    """The DingTalk adapter when DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET are set."""
    if not (env_secret(CLIENT_ID) and env_secret(CLIENT_SECRET)):
        return None
    # Imported only now: a bot without DingTalk credentials never loads the SDK.
    from bot.adapters.dingtalk.adapter import adapter_from_environment

    return adapter_from_environment(settings, clock)
