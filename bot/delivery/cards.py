"""Cards for adapters whose platform shows interactive cards.

Adapters reach the database only through delivery: `CardIds` remembers which platform card
shows which card key (`poll:12`), so an update finds its cards and a click finds its key;
`CardViews` reads a card as it stands now, one read shared by the clicks that arrive
together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.router import CardViewer
from bot.core.settings import Settings
from bot.core.views import CardView
from storage.cards import ShownCard, card_for_key, delivered_cards, find_card, mark_card_delivered
from storage.database import Database

__all__ = ["CardIds", "CardViews", "ShownCard"]


class CardIds:
    """The cards one platform shows."""

    def __init__(self, *, database: Database, clock: Clock, platform: str) -> None:
        self.database = database
        self.clock = clock
        self.platform = platform

    async def card_for(self, *, key: str, conversation_id: str, new_card_id: str) -> str:
        """The card's id in the conversation: the one chosen before, else `new_card_id`."""
        return await self.database.run(
            partial(
                card_for_key,
                platform=self.platform,
                card_key=key,
                conversation_id=conversation_id,
                new_card_id=new_card_id,
                now=self.clock.now(),
            )
        )

    async def delivered(self, card_id: str) -> None:
        """The platform took the card: updates go to it from now on."""
        await self.database.run(
            partial(
                mark_card_delivered, platform=self.platform, card_id=card_id, now=self.clock.now()
            )
        )

    async def shown(self, key: str) -> list[str]:
        """Ids of the delivered cards that show `key`."""
        return await self.database.run(
            partial(delivered_cards, platform=self.platform, card_key=key)
        )

    async def find(self, card_id: str) -> ShownCard | None:
        """What a card shows and where, or None for a card the bot never sent."""
        return await self.database.run(partial(find_card, platform=self.platform, card_id=card_id))


@dataclass
class _Reads:
    running: asyncio.Task[CardView | None]
    waiting: asyncio.Task[CardView | None] | None = None


class CardViews:
    """Cards as they stand now, as the features view them (`@router.card_view`).

    A click is answered with its card read after the click's ballot committed; clicks that
    arrive together share reads: each waits at most for the read running when it arrived
    and one more, started after it (200 clicks in a second make a handful of reads).
    """

    def __init__(
        self, *, database: Database, viewers: Mapping[str, CardViewer], settings: Settings
    ) -> None:
        self.database = database
        self.viewers = viewers
        self.settings = settings
        self._reads: dict[str, _Reads] = {}

    async def read(self, key: str) -> CardView | None:
        """The card `key` as it stands (None when the thing it shows is gone)."""
        reads = self._reads.get(key)
        if reads is None:
            task = self._start(key, after=None)
            self._reads[key] = _Reads(running=task)
        elif reads.waiting is None:
            task = reads.waiting = self._start(key, after=reads.running)
        else:
            task = reads.waiting
        return await asyncio.shield(task)

    def view_now(self, session: Session, key: str) -> CardView | None:
        """The card `key` as it stands, read in `session` (the outbox's own transaction)."""
        namespace, _, target = key.partition(":")
        viewer = self.viewers.get(namespace)
        return viewer(session, target, self.settings) if viewer is not None else None

    def _start(
        self, key: str, *, after: asyncio.Task[CardView | None] | None
    ) -> asyncio.Task[CardView | None]:
        async def load() -> CardView | None:
            if after is not None:
                await asyncio.wait({after})
            return await self.database.run(partial(self.view_now, key=key))

        task = asyncio.create_task(load())
        task.add_done_callback(partial(self._finished, key))
        return task

    def _finished(self, key: str, task: asyncio.Task[CardView | None]) -> None:
        reads = self._reads.get(key)
        if reads is None or reads.running is not task:
            return
        if reads.waiting is None:
            del self._reads[key]
        else:
            reads.running, reads.waiting = reads.waiting, None
