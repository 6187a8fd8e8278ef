"""The local web chat: the embedded default platform, for trying the bot with no
credentials (adapter.py, and its page in static/).

May import: `bot.core`, `bot.delivery`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from bot.adapters import Adapter
from bot.adapters.local.adapter import LocalAdapter, own_hosts
from bot.core.clock import Clock
from bot.core.settings import Settings

log = logging.getLogger(__name__)


def from_settings(settings: Settings, clock: Clock, made: Sequence[Adapter]) -> Adapter | None:
    """The local chat, when it runs: by default only while no real platform is connected.

    The chat is for trying the bot on one's own machine. Once real groups are connected,
    its groups would feed the console and the year's statistics beside theirs, so it stays
    off unless config asks for it, and then no tab may make itself moderator.
    """
    local = settings.platforms.local
    real_platforms = bool(made)
    enabled = local.enabled if isinstance(local.enabled, bool) else not real_platforms
    if not enabled:
        return None
    trust_roles = local.trust_roles
    if real_platforms and trust_roles:
        log.warning("已连接钉钉或企业微信：本地群聊不再让标签页自选角色（trust_roles 视为 false）")
        trust_roles = False
    # Behind a reverse proxy the chat is reached under the public names config lists.
    public = {urlsplit(origin).hostname or "" for origin in settings.web.public_origins}
    return LocalAdapter(
        clock=clock,
        zone=settings.zone,
        trust_roles=trust_roles,
        hosts=own_hosts(settings.web.host) | {host for host in public if host},
    )
