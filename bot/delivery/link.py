"""What an adapter is given when it starts: the way in, delivery's card and file services,
and the history of its conversations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.dispatcher import Outcome
from bot.core.messages import IncomingMessage
from bot.delivery.cards import CardIds, CardViews
from bot.delivery.files import Files
from bot.delivery.history import ChatHistory


@dataclass(frozen=True, slots=True)
class PlatformLink:
    """The bot as an adapter sees it."""

    # Hand a message to the dispatcher; returns once its effects are committed, and only
    # then may the platform be acknowledged.
    dispatch: Callable[[IncomingMessage], Awaitable[Outcome]]
    # Cards as they stand now (for a click's answer).
    views: CardViews
    # Which of a platform's cards shows which card key.
    card_ids: Callable[[str], CardIds]
    # A platform's conversations as their members saw them (the local chat's history).
    history: Callable[[str], ChatHistory]
    # Stored documents to post as files, and a platform's media ids for them.
    files: Callable[[str], Files]
