"""One module per capability; each exposes a `router` that the app includes."""

from __future__ import annotations

from bot.core.router import Router
from handlers import (
    attendance,
    consultation,
    evaluation,
    help,
    minutes,
    opinions,
    plan,
    policy,
    polls,
    referrals,
    stances,
    stats,
    topics,
    units,
)

ROUTERS: tuple[Router, ...] = (
    help.router,
    consultation.router,
    topics.router,
    plan.router,
    attendance.router,
    opinions.router,
    stances.router,
    polls.router,
    referrals.router,
    evaluation.router,
    policy.router,
    units.router,
    stats.router,
    minutes.router,
)
