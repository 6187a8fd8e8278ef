"""One module per capability; each exposes a `router` that the app includes."""

from __future__ import annotations

from bot.router import Router
from handlers import consultation, help, opinions, polls

ROUTERS: tuple[Router, ...] = (
    help.router,
    consultation.router,
    opinions.router,
    polls.router,
)
