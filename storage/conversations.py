"""What a conversation holds: the messages taken from it (inbound events) and the replies
sent to it (outbox rows), for a chat page that shows its history after a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.enums import OutboxStatus
from storage.models import InboundEvent, Member, OutboxRow


@dataclass(frozen=True, slots=True)
class SaidLine:
    """A message a member sent, as the bot recorded it."""

    message_id: str
    sender_id: str
    sender_name: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SentRow:
    """An outbox row the platform took."""

    id: int
    kind: str
    body: str
    payload: dict[str, Any]
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """The latest messages of a conversation, each side oldest first."""

    said: list[SaidLine]
    sent: list[SentRow]


def conversation_record(
    session: Session, *, platform: str, conversation_id: str, limit: int
) -> ConversationRecord:
    """The last `limit` messages members sent and the last `limit` rows sent back."""
    said = session.exec(
        select(InboundEvent, Member.name)
        .join(
            Member,
            (col(Member.platform) == col(InboundEvent.platform))
            & (col(Member.user_id) == col(InboundEvent.sender_id)),
            isouter=True,
        )
        .where(
            InboundEvent.platform == platform,
            InboundEvent.conversation_id == conversation_id,
            InboundEvent.text != "",  # a vote in an anonymous poll keeps no text
        )
        .order_by(col(InboundEvent.id).desc())
        .limit(limit)
    ).all()
    sent = session.exec(
        select(OutboxRow)
        .where(
            OutboxRow.platform == platform,
            OutboxRow.conversation_id == conversation_id,
            OutboxRow.status == OutboxStatus.SENT,
            OutboxRow.body != "",  # a card's refresh is no message
        )
        .order_by(col(OutboxRow.id).desc())
        .limit(limit)
    ).all()
    return ConversationRecord(
        said=[
            SaidLine(
                message_id=event.message_id,
                sender_id=event.sender_id,
                sender_name=name or event.sender_id,
                text=event.text,
                at=event.received_at,
            )
            for event, name in reversed(said)
        ],
        sent=[
            SentRow(
                id=row.id or 0,
                kind=row.kind,
                body=row.body,
                payload=row.payload,
                sent_at=row.sent_at or row.created_at,
            )
            for row in reversed(sent)
        ],
    )
