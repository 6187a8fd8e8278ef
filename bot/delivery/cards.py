"""Poll cards for adapters whose platform shows polls as interactive cards.

Adapters reach the database only through the bot core: this remembers which card shows
which poll, so a tally update finds its cards and a click finds its poll.
"""

from __future__ import annotations

from functools import partial

from bot.core.clock import Clock
from storage.cards import (
    CardedPoll,
    card_for_poll,
    delivered_cards,
    find_carded_poll,
    mark_card_delivered,
)
from storage.database import Database

__all__ = ["CardedPoll", "PollCards"]


class PollCards:
    """The cards one platform shows for polls."""

    def __init__(self, *, database: Database, clock: Clock, platform: str) -> None:
        self.database = database
        self.clock = clock
        self.platform = platform

    async def card_for(self, *, poll_id: int, conversation_id: str, new_card_id: str) -> str:
        """The poll's card id in the conversation: the one chosen before, else `new_card_id`."""
        return await self.database.run(
            partial(
                card_for_poll,
                platform=self.platform,
                poll_id=poll_id,
                conversation_id=conversation_id,
                new_card_id=new_card_id,
                now=self.clock.now(),
            )
        )

    async def delivered(self, card_id: str) -> None:
        """The platform took the card: tally updates go to it from now on."""
        await self.database.run(
            partial(
                mark_card_delivered, platform=self.platform, card_id=card_id, now=self.clock.now()
            )
        )

    async def shown(self, poll_id: int) -> list[str]:
        """Ids of the delivered cards that show the poll."""
        return await self.database.run(
            partial(delivered_cards, platform=self.platform, poll_id=poll_id)
        )

    async def poll_of(self, card_id: str) -> CardedPoll | None:
        """The poll a card shows, or None for a card the bot never sent."""
        return await self.database.run(
            partial(find_carded_poll, platform=self.platform, card_id=card_id)
        )
