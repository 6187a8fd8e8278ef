"""A conversation's history as its members saw it, read from the database: what they sent
(inbound events) and what the bot sent back (outbox rows, folded into messages as the
sender folded them). The local chat shows it when a tab opens or reconnects, so a restart
of the bot loses nothing of the page."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from bot.core.context import Envelope
from bot.core.messages import Kind, OutgoingMessage
from bot.delivery.outbox import Queued, compose
from storage.conversations import SentRow, conversation_record
from storage.database import Database

# Far more than any one folded message: history re-folds what was already sent.
_UNLIMITED = 1 << 30


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One message in a conversation's history."""

    # `in:<platform message id>` or `out:<first outbox row id>`: the same key the live
    # message had, so a page can tell what it already shows.
    key: str
    at: datetime
    sender_id: str
    sender_name: str
    text: str
    bot: bool
    kind: Kind = Kind.TEXT
    mentions: tuple[str, ...] = ()


def inbound_key(message_id: str) -> str:
    """The key of a member's message."""
    return f"in:{message_id}"


def outbound_key(message: OutgoingMessage) -> str:
    """The key of a bot message: its first outbox row."""
    return f"out:{message.row_ids[0]}" if message.row_ids else ""


class ChatHistory:
    """Reads the history of one platform's conversations."""

    def __init__(self, *, database: Database, platform: str) -> None:
        self.database = database
        self.platform = platform

    async def read(self, conversation_id: str, *, limit: int) -> list[ChatLine]:
        """The last `limit` messages of the conversation, oldest first."""
        record = await self.database.run(
            partial(
                conversation_record,
                platform=self.platform,
                conversation_id=conversation_id,
                limit=limit,
            )
        )
        lines = [
            ChatLine(
                key=inbound_key(said.message_id),
                at=said.at,
                sender_id=said.sender_id,
                sender_name=said.sender_name,
                text=said.text,
                bot=False,
            )
            for said in record.said
        ]
        for at, message in self._messages(conversation_id, record.sent):
            lines.append(
                ChatLine(
                    key=outbound_key(message),
                    at=at,
                    sender_id="bot",
                    sender_name="",  # the adapter names its bot
                    text=message.body,
                    bot=True,
                    kind=message.kind,
                    mentions=message.mentions,
                )
            )
        # A reply is written in the same transaction as the message it answers, and sent
        # after it: at the same moment, the member's message comes first.
        lines.sort(key=lambda line: (line.at, line.bot))
        return lines[-limit:]

    def _messages(
        self, conversation_id: str, rows: list[SentRow]
    ) -> Iterator[tuple[datetime, OutgoingMessage]]:
        """The messages the rows went out as: the rows one send took share its moment, and
        are folded again as the sender folded them."""
        for sent_at, same in itertools.groupby(rows, key=lambda row: row.sent_at):
            queued = [
                Queued(
                    id=row.id,
                    platform=self.platform,
                    conversation_id=conversation_id,
                    kind=Kind(row.kind),
                    body=row.body,
                    envelope=Envelope.from_json(row.payload),
                    created_at=sent_at,
                    not_before=sent_at,
                    attempts=0,
                )
                for row in same
            ]
            while queued:
                composed = compose(
                    queued,
                    now=sent_at + timedelta(days=1),
                    ack_delay=timedelta(0),
                    max_chars=_UNLIMITED,
                )
                message = composed.message
                if message is None:
                    break
                yield sent_at, message
                taken = set(message.row_ids)
                queued = [row for row in queued if row.id not in taken]
